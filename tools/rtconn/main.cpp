#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "rtconn/connection_manager_options.hpp"

namespace {

// Each connection holds a descriptor: take the whole hard limit rather than the soft default
// (often 1,024), which a few hundred TLS clients would exhaust.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  raise_open_file_limit();
  // stdout carries the results scripts read ("listening tcp ...", ping lines); logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("rtconn"));
  spdlog::set_pattern("%H:%M:%S.%e %^%l%$ %v");

  CLI::App app{"rtconn: SIP connection managers over TCP, TLS and mutual TLS"};
  app.require_subcommand(0, 1);
  std::string log_level = "info";
  // spdlog's from_str turns a name it does not know into "off", errors included: refused here.
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember(
          {"trace", "debug", "info", "warn", "warning", "err", "error", "critical", "off"}));

  const auto add_certificate_options = [](CLI::App* command,
                                          rtconn::cli::CertificateArguments& certificate) {
    command->add_option("--store", certificate.store, "Certificate store directory");
    command->add_option("--cert-issuer", certificate.issuer,
                        "Issuer of the certificate to present");
    command->add_option("--cert-serial", certificate.serial, "Its serial number, hex");
  };
  const auto add_client_options = [&add_certificate_options](CLI::App* command,
                                                             rtconn::cli::ClientArguments& client) {
    command->add_option("uri", client.uri, "sip:host:port;transport=tcp, or sips:...")->required();
    command->add_option("--connections", client.connections, "Connections to spread them over")
        ->check(CLI::PositiveNumber);
    command->add_option("--timeout", client.timeout_ms, "Milliseconds to wait for each response")
        ->check(CLI::PositiveNumber);
    command
        ->add_option("--connect-timeout", client.connect_timeout_ms,
                     "Milliseconds to make a connection, shared by the addresses the host has")
        ->check(CLI::PositiveNumber);
    command->add_flag("--no-dns-load-balancing", client.dns_load_balancing_disabled,
                      "Start every connection with the host's first address, not in turn");
    command->add_option("--dns-server", client.dns_servers,
                        "DNS server to look names up with, IP or IP:PORT (repeatable; default: "
                        "the system's)");
    add_certificate_options(command, client.certificate);
    command->add_option("--ca", client.ca_files, "PEM file of CAs to trust besides the system's")
        ->check(CLI::ExistingFile);
    command
        ->add_option("--crl", client.crl_files,
                     "Certificate revocation list (PEM or DER) to check servers against, "
                     "besides the store's crls/ (repeatable)")
        ->check(CLI::ExistingFile);
  };

  const CLI::Range loop_threads(std::size_t{1},
                                rtconn::ConnectionManagerOptions::max_event_loop_threads);
  const CLI::Range time_out_seconds(
      0.0,
      std::chrono::duration<double>(rtconn::ConnectionManagerOptions::longest_time_out).count());

  rtconn::cli::ServeArguments serve;
  auto* serve_cmd = app.add_subcommand("serve", "Listen and answer OPTIONS and MESSAGE with 200");
  serve_cmd->add_option("--tcp", serve.tcp,
                        "HOST:PORT to listen on with TCP (repeatable; port 0 = any)");
  serve_cmd->add_option("--tls", serve.tls, "HOST:PORT to listen on with TLS (repeatable)");
  serve_cmd->add_option("--mtls", serve.mtls,
                        "HOST:PORT to listen on with mutual TLS (repeatable)");
  add_certificate_options(serve_cmd, serve.certificate);
  serve_cmd->add_flag("--quiet", serve.quiet, "Do not log each connection event");
  serve.threads = std::max(1u, std::thread::hardware_concurrency());
  serve_cmd->add_option("--threads", serve.threads, "Event-loop threads (default: one per core)")
      ->check(loop_threads);
  serve_cmd
      ->add_option("--idle-timeout", serve.idle_timeout,
                   "Seconds an idle connection stays open (default 900; 0: forever)")
      ->check(time_out_seconds);
  serve_cmd
      ->add_option("--new-connection-timeout", serve.new_connection_timeout,
                   "Seconds a new connection has to send a valid message (default 60)")
      ->check(time_out_seconds);
  serve_cmd
      ->add_option("--message-timeout", serve.message_timeout,
                   "Seconds a peer has to finish a message it began (default 30)")
      ->check(time_out_seconds);
  serve_cmd
      ->add_option("--shutdown-timeout", serve.shutdown_timeout,
                   "Seconds to write what was accepted before exiting on a signal (default 5)")
      ->check(time_out_seconds);

  rtconn::cli::PingArguments ping;
  auto* ping_cmd = app.add_subcommand("ping", "Send OPTIONS and print the responses");
  add_client_options(ping_cmd, ping.client);
  ping_cmd->add_option("--count,-c", ping.count, "Requests to send")->check(CLI::PositiveNumber);
  ping_cmd
      ->add_option("--interval", ping.interval_ms,
                   "Milliseconds a connection waits between a response and its next request")
      ->check(CLI::NonNegativeNumber);
  ping_cmd
      ->add_option("--keep-alive", ping.keep_alive_ms,
                   "Send RFC 5626 CRLFCRLF pings about this often (ms) on each connection and "
                   "count the pongs")
      ->check(CLI::NonNegativeNumber);
  ping_cmd->add_flag("--quiet,-q", ping.quiet, "Print the summary only");

  rtconn::cli::CallArguments call;
  auto* call_cmd =
      app.add_subcommand("call", "Make INVITE calls (INVITE, ACK, BYE) and print how each ended");
  add_client_options(call_cmd, call.client);
  call_cmd->add_option("--count,-c", call.count, "Calls to make")->check(CLI::PositiveNumber);
  call_cmd->add_option("--hold", call.hold_ms, "Milliseconds from the ACK to the BYE")
      ->check(CLI::NonNegativeNumber);
  call_cmd->add_flag("--quiet,-q", call.quiet, "Print the summary only");

  rtconn::cli::BenchArguments bench;
  auto* bench_cmd = app.add_subcommand(
      "bench", "Load a SIP server with OPTIONS; print the rate and latency percentiles");
  add_client_options(bench_cmd, bench.client);
  bench_cmd->add_option("--rate,-r", bench.rate, "Requests per second (default: flat out)")
      ->check(CLI::NonNegativeNumber);
  bench_cmd->add_option("--seconds,-s", bench.seconds, "How long to send (default 10)")
      ->check(CLI::PositiveNumber);
  bench_cmd
      ->add_option("--window", bench.window,
                   "Flat out: requests in flight at once (default 4 per connection)")
      ->check(CLI::PositiveNumber);
  bench_cmd->add_option("--threads", bench.threads, "Event loops (default: one per core)")
      ->check(loop_threads);
  bench_cmd->add_flag("--quiet,-q", bench.quiet, "No progress line each second");

  rtconn::cli::CertificateArguments cert;
  auto* cert_cmd = app.add_subcommand("cert", "Manage the certificate store");
  cert_cmd->require_subcommand(1);
  auto* cert_create = cert_cmd->add_subcommand(
      "create", "Make a development CA with server and client certificates, and print their ids");
  cert_create->add_option("--store", cert.store, "Certificate store directory");
  auto* cert_list = cert_cmd->add_subcommand("list", "List the certificates in the store");
  cert_list->add_option("--store", cert.store, "Certificate store directory");

  app.add_subcommand("demo", "Run a server and a client on loopback and show their events");

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  try {
    if (*serve_cmd) return rtconn::cli::serve(serve);
    if (*ping_cmd) return rtconn::cli::ping(ping);
    if (*call_cmd) return rtconn::cli::call(call);
    if (*bench_cmd) return rtconn::cli::bench(bench);
    if (*cert_create) return rtconn::cli::cert_create(cert);
    if (*cert_list) return rtconn::cli::cert_list(cert);
    return rtconn::cli::demo();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
