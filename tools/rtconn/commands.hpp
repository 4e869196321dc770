#pragma once
// The CLI's subcommands; each returns the process exit status.

#include <string>
#include <vector>

namespace rtconn::cli {

struct ServeArguments {
  std::vector<std::string> tcp;  // HOST:PORT each
  bool quiet = false;            // no line per connection event
};
int serve(const ServeArguments& arguments);

struct PingArguments {
  std::string uri;
  int count = 4;
  int connections = 1;
  int timeout_ms = 5000;
  bool quiet = false;  // summary only
};
int ping(const PingArguments& arguments);

/// The README's main job: a server manager on loopback and a client manager pinging it.
int demo();

}  // namespace rtconn::cli
