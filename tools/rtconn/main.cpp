#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"

int main(int argc, char** argv) {
  // stdout carries the results scripts read ("listening tcp ...", ping lines); logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("rtconn"));
  spdlog::set_pattern("%H:%M:%S.%e %^%l%$ %v");

  CLI::App app{"rtconn: SIP connection managers over TCP"};
  app.require_subcommand(0, 1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();

  rtconn::cli::ServeArguments serve;
  auto* serve_cmd = app.add_subcommand("serve", "Listen and answer OPTIONS and MESSAGE with 200");
  serve_cmd->add_option("--tcp", serve.tcp, "HOST:PORT to listen on (repeatable; port 0 = any)")
      ->required();
  serve_cmd->add_flag("--quiet", serve.quiet, "Do not log each connection event");

  rtconn::cli::PingArguments ping;
  auto* ping_cmd = app.add_subcommand("ping", "Send OPTIONS and print the responses");
  ping_cmd->add_option("uri", ping.uri, "sip:host:port;transport=tcp")->required();
  ping_cmd->add_option("--count,-c", ping.count, "Requests to send")->check(CLI::PositiveNumber);
  ping_cmd->add_option("--connections", ping.connections, "Connections to spread them over")
      ->check(CLI::PositiveNumber);
  ping_cmd->add_option("--timeout", ping.timeout_ms, "Milliseconds to wait for each response")
      ->check(CLI::PositiveNumber);
  ping_cmd->add_flag("--quiet,-q", ping.quiet, "Print the summary only");

  app.add_subcommand("demo", "Run a server and a client on loopback and show their events");

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  try {
    if (*serve_cmd) return rtconn::cli::serve(serve);
    if (*ping_cmd) return rtconn::cli::ping(ping);
    return rtconn::cli::demo();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
