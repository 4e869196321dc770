#pragma once
// The CLI's subcommands; each returns the process exit status.

#include <optional>
#include <string>
#include <vector>

namespace rtconn::cli {

/// `--store`, `--cert-issuer` and `--cert-serial`, shared by the commands that use TLS.
struct CertificateArguments {
  std::string store;   // empty: the default store
  std::string issuer;  // with serial: the certificate to present
  std::string serial;  // hex, as `openssl x509 -serial` or `rtconn cert list` prints it
};

struct ServeArguments {
  std::vector<std::string> tcp;   // HOST:PORT each
  std::vector<std::string> tls;   // HOST:PORT each
  std::vector<std::string> mtls;  // HOST:PORT each
  CertificateArguments certificate;
  bool quiet = false;    // no line per connection event
  unsigned threads = 1;  // event-loop threads of each manager
  // Time-outs in seconds; unset keeps the library's defaults (15 min, 1 min, 30 s, 5 s); 0
  // disables (closes at once, for the shutdown time-out).
  std::optional<double> idle_timeout;
  std::optional<double> new_connection_timeout;
  std::optional<double> message_timeout;
  std::optional<double> shutdown_timeout;  // time to write what was accepted on SIGTERM
};
int serve(const ServeArguments& arguments);

/// What `ping` and `bench` are pointed at, and how their client manager is set up.
struct ClientArguments {
  std::string uri;
  int connections = 1;  // the pool's cap
  int timeout_ms = 5000;
  std::optional<int> connect_timeout_ms;  // the library's default when not given
  bool dns_load_balancing_disabled = false;
  std::vector<std::string> dns_servers;  // IP[:port] each; none: the system's
  CertificateArguments certificate;
  std::vector<std::string> ca_files;
  std::vector<std::string> crl_files;
};

struct PingArguments {
  ClientArguments client;
  int count = 4;
  int interval_ms = 0;    // a connection's pause between a response and its next request
  int keep_alive_ms = 0;  // RFC 5626 pings this often on each connection; 0: none
  bool quiet = false;     // summary only
};
int ping(const PingArguments& arguments);

/// `rtconn call`: INVITE, ACK and, after the hold time, BYE; `count` calls, `connections` at a
/// time. `client.timeout_ms` bounds the wait for the INVITE's final response (timer B) and the
/// BYE's.
struct CallArguments {
  ClientArguments client;
  int count = 1;
  int hold_ms = 0;     // from the ACK to the BYE
  bool quiet = false;  // summary only
};
int call(const CallArguments& arguments);

/// `rtconn bench`: OPTIONS at a fixed rate or flat out, with a progress line a second and rate
/// and latency percentiles at the end.
struct BenchArguments {
  ClientArguments client;
  double rate = 0;       // requests per second; 0: flat out
  double seconds = 10;   // how long to send
  int window = 0;        // flat out: requests in flight at once; 0: 4 per connection
  unsigned threads = 0;  // event loops; 0: one per core
  bool quiet = false;    // no progress lines
};
int bench(const BenchArguments& arguments);

/// `rtconn cert create`: the development CA, server and client certificates.
int cert_create(const CertificateArguments& arguments);
/// `rtconn cert list`: every certificate in the store.
int cert_list(const CertificateArguments& arguments);

/// The README's main job: a server manager on loopback and a client manager pinging it.
int demo();

}  // namespace rtconn::cli
