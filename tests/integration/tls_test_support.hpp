#pragma once
// What the TLS integration tests share: a temporary directory per test holding the server's and
// the client's certificate stores and the trust anchors, certificates made for each case, managers
// wired to those stores, and plain asio::ssl peers for what a manager cannot be made to do (serve
// an expired certificate, offer TLS 1.1, read the serial a server presents).
//
// Everything runs on the test's own io_context: the tests drive it with test::run_until, so no
// wait is unbounded and no handler runs on another thread.

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl.hpp>

#include "../support/test_support.hpp"
#include "rtconn/certificate_id.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/real_time_server_tls_connection_manager.hpp"
#include "rtconn/tls_failure.hpp"
#include "tls/certificate_factory.hpp"
#include "tls/x509_facts.hpp"

namespace rtconn::test {

namespace fs = std::filesystem;

/// The issuer and serial UCMA would name `certificate` by.
inline CertificateId id_of(const tls::IssuedCertificate& issued) {
  const X509* certificate = issued.certificate.get();
  return {tls::name_to_string(X509_get_issuer_name(certificate)), tls::serial_of(certificate)};
}

/// The serial as `openssl x509 -serial` would print it, made with OpenSSL's own BIGNUM printer
/// (not the library's serial_to_hex) and written with colons: "1A:2B:...".
inline std::string openssl_colon_hex_serial(const X509* certificate) {
  BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr);
  char* hex = BN_bn2hex(number);
  std::string plain(hex);
  OPENSSL_free(hex);
  BN_free(number);
  if (plain.size() % 2 != 0) plain.insert(0, "0");
  std::string colons;
  for (std::size_t i = 0; i < plain.size(); i += 2) {
    if (!colons.empty()) colons += ':';
    colons += plain.substr(i, 2);
  }
  return colons;
}

/// One outcome of `async_request` or `async_send`, filled in by its completion.
struct Outcome {
  int completions = 0;
  std::error_code ec;
  std::optional<SipMessage> response;
  bool done() const { return completions > 0; }
};

/// Starts a request; the outcome fills in on the manager's executor (the test's io_context).
inline std::shared_ptr<Outcome> start_request(RealTimeConnectionManager& manager,
                                              const PoolKey& key, SipMessage request) {
  auto outcome = std::make_shared<Outcome>();
  manager.async_request(key, std::move(request), [outcome](std::error_code ec, SipMessage r) {
    ++outcome->completions;
    outcome->ec = ec;
    if (!ec) outcome->response = std::move(r);
  });
  return outcome;
}

inline std::shared_ptr<Outcome> start_send(RealTimeConnectionManager& manager, const PoolKey& key,
                                           SipMessage message) {
  auto outcome = std::make_shared<Outcome>();
  manager.async_send(key, std::move(message), [outcome](std::error_code ec) {
    ++outcome->completions;
    outcome->ec = ec;
  });
  return outcome;
}

/// The TLS pool key for `host` on `port` (the name checked is `host` unless `server_name`).
inline PoolKey tls_key(std::string host, std::uint16_t port, std::string server_name = {}) {
  PoolKey key;
  key.host = std::move(host);
  key.port = port;
  key.transport = TransportType::Tls;
  key.tls_server_name = std::move(server_name);
  return key;
}

/// Where TlsNegotiationFailed events land.
struct FailureLog {
  std::vector<TlsNegotiationFailedEventArgs> events;
};

/// A test with a temporary directory (removed afterwards) holding:
/// - `server_store_`: the server manager's certificate store;
/// - `client_store_`: the client manager's store (its own certificate for mutual TLS);
/// - `anchors_/`: CA files handed to managers through `trusted_ca_files`.
/// The two stores are separate so that neither side trusts the other's `trusted/` by accident.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // Parameterised names hold slashes ("Prefix/Suite.Test/0"): one directory level, not three.
    std::string name = std::string(info->test_suite_name()) + "-" + info->name();
    for (auto& c : name) {
      if (c == '/') c = '_';
    }
    root_ = fs::temp_directory_path() / ("rtconn-tls-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(root_);
    server_store_ = root_ / "server-store";
    client_store_ = root_ / "client-store";
    anchors_ = root_ / "anchors";
    for (const auto& d : {server_store_, client_store_, anchors_}) fs::create_directories(d);
    ca_ = make_ca("rtconn Test CA");
    ca_file_ = write_anchor("ca.pem", ca_);
  }

  void TearDown() override {
    drain(io_);  // let the closes the managers' destructors started run
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  static tls::IssuedCertificate make_ca(const std::string& common_name) {
    tls::CertificateRequest request;
    request.common_name = common_name;
    request.is_ca = true;
    return tls::issue_certificate(request, nullptr);
  }

  /// A leaf certificate signed by `issuer` (self-signed when null).
  static tls::IssuedCertificate make_leaf(
      const tls::IssuedCertificate* issuer, const std::string& common_name,
      std::vector<std::string> alt_names, std::chrono::seconds valid_from = std::chrono::hours(-1),
      std::chrono::seconds valid_until = std::chrono::hours(24)) {
    tls::CertificateRequest request;
    request.common_name = common_name;
    request.alt_names = std::move(alt_names);
    request.valid_from = valid_from;
    request.valid_until = valid_until;
    return tls::issue_certificate(request, issuer);
  }

  /// Writes certificate and key into `store` as NAME.pem and returns its id.
  static CertificateId put(const fs::path& store, const std::string& name,
                           const tls::IssuedCertificate& issued) {
    tls::write_pem(store / (name + ".pem"), issued.certificate.get(), issued.key.get());
    return id_of(issued);
  }

  fs::path write_anchor(const std::string& name, const tls::IssuedCertificate& ca) {
    const auto file = anchors_ / name;
    tls::write_pem(file, ca.certificate.get(), nullptr);
    return file;
  }

  /// Server options: this test's server store, no system bundle, the test CA trusted for client
  /// certificates (mutual TLS).
  ConnectionManagerOptions server_options() const {
    ConnectionManagerOptions options;
    options.tls.certificate_store = server_store_;
    options.tls.trust_system_bundle = false;
    options.tls.trusted_ca_files = {ca_file_};
    return options;
  }

  /// Client options: this test's client store, no system bundle, `anchors` trusted (the test CA
  /// by default).
  ConnectionManagerOptions client_options(std::optional<std::vector<fs::path>> anchors = {}) const {
    ConnectionManagerOptions options;
    options.tls.certificate_store = client_store_;
    options.tls.trust_system_bundle = false;
    options.tls.trusted_ca_files = anchors ? *anchors : std::vector<fs::path>{ca_file_};
    return options;
  }

  /// A TLS server manager on the test's io_context presenting `id`, answering every request with
  /// 200, listening on 127.0.0.1 (port 0), its negotiation failures logged.
  std::unique_ptr<RealTimeServerTlsConnectionManager> start_server(
      const CertificateId& id, std::optional<ConnectionManagerOptions> options = {}) {
    auto server = std::make_unique<RealTimeServerTlsConnectionManager>(
        io_.get_executor(), id.issuer_name, id.serial_number,
        options ? *options : server_options());
    server->set_request_handler([](IncomingRequest& request) {
      request.respond(200);
      return true;
    });
    server->incoming_tls_negotiation_failed +=
        [log = failures_](const TlsNegotiationFailedEventArgs& args) {
          log->events.push_back(args);
        };
    server->start_listening(IpEndpoint(asio::ip::address_v4::loopback(), 0));
    return server;
  }

  /// A server presenting a certificate for "localhost" (DNS and IP:127.0.0.1) from the test CA.
  std::unique_ptr<RealTimeServerTlsConnectionManager> start_localhost_server() {
    const auto id = put(server_store_, "server",
                        make_leaf(&ca_, "localhost", {"DNS:localhost", "IP:127.0.0.1"}));
    return start_server(id);
  }

  std::unique_ptr<RealTimeClientConnectionManager> make_client(
      std::optional<ConnectionManagerOptions> options = {}) {
    return std::make_unique<RealTimeClientConnectionManager>(io_.get_executor(),
                                                             options ? *options : client_options());
  }

  /// Sends OPTIONS and runs the io_context until it completes (bounded).
  std::shared_ptr<Outcome> request(RealTimeConnectionManager& manager, const PoolKey& key,
                                   std::chrono::steady_clock::duration limit = 10s) {
    auto outcome = start_request(manager, key, make_request("OPTIONS", "sip:" + key.host));
    EXPECT_TRUE(run_until(
        io_, [&] { return outcome->done(); }, limit))
        << "no completion for a request to " << key.to_string();
    return outcome;
  }

  /// Runs until the server logged `count` negotiation failures (bounded).
  bool wait_for_failures(std::size_t count, std::chrono::steady_clock::duration limit = 5s) {
    return run_until(
        io_, [&] { return failures_->events.size() >= count; }, limit);
  }

  asio::io_context io_;  // first: outlives the managers each test makes
  fs::path root_;
  fs::path server_store_;
  fs::path client_store_;
  fs::path anchors_;
  tls::IssuedCertificate ca_;
  fs::path ca_file_;
  std::shared_ptr<FailureLog> failures_ = std::make_shared<FailureLog>();
};

/// A plain asio::ssl client on the test's io_context: connects, handshakes, and keeps what it saw.
/// Its handlers hold its state, so draining the io_context after it is gone is safe.
class PlainTlsClient {
 public:
  struct Result {
    bool done = false;
    std::error_code ec;
    SerialNumber peer_serial;  // of the certificate the server presented
    int version = 0;           // SSL_version() once connected
  };

  /// `configure` adjusts the context (protocol versions, ...) before the connection is made.
  template <class Configure>
  PlainTlsClient(asio::io_context& io, std::uint16_t port, Configure&& configure)
      : state_(std::make_shared<State>(io, make_context(configure))) {
    state_->stream.next_layer().async_connect(
        {asio::ip::address_v4::loopback(), port}, [state = state_](std::error_code ec) {
          if (ec) return state->finish(ec);
          state->stream.async_handshake(asio::ssl::stream_base::client,
                                        [state](std::error_code e) { state->finish(e); });
        });
  }
  PlainTlsClient(asio::io_context& io, std::uint16_t port)
      : PlainTlsClient(io, port, [](SSL_CTX*) {}) {}
  ~PlainTlsClient() {
    std::error_code ignored;
    state_->stream.next_layer().close(ignored);
  }
  PlainTlsClient(const PlainTlsClient&) = delete;
  PlainTlsClient& operator=(const PlainTlsClient&) = delete;

  const Result& result() const { return state_->result; }

 private:
  template <class Configure>
  static asio::ssl::context make_context(Configure& configure) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.set_verify_mode(asio::ssl::verify_none);  // the test reads the certificate itself
    // Before the stream exists: its SSL object copies the context's settings when it is made.
    configure(context.native_handle());
    return context;
  }

  struct State {
    State(asio::io_context& io, asio::ssl::context c)
        : context(std::move(c)), stream(io, context) {}
    void finish(std::error_code ec) {
      result.ec = ec;
      if (!ec) {
        if (X509* peer = SSL_get0_peer_certificate(stream.native_handle())) {
          result.peer_serial = tls::serial_of(peer);
        }
        result.version = SSL_version(stream.native_handle());
      }
      result.done = true;
    }
    asio::ssl::context context;  // before stream, which refers to it
    asio::ssl::stream<asio::ip::tcp::socket> stream;
    Result result;
  };

  std::shared_ptr<State> state_;
};

/// A plain asio::ssl server on 127.0.0.1 presenting any certificate at all, even one the
/// managers refuse to load (expired): it accepts, handshakes and keeps each connection open.
class PlainTlsServer {
 public:
  PlainTlsServer(asio::io_context& io, const tls::IssuedCertificate& identity)
      : state_(std::make_shared<State>(io)) {
    SSL_CTX* ctx = state_->context.native_handle();
    SSL_CTX_use_certificate(ctx, identity.certificate.get());
    SSL_CTX_use_PrivateKey(ctx, identity.key.get());
    auto& acceptor = state_->acceptor;
    const asio::ip::tcp::endpoint where(asio::ip::address_v4::loopback(), 0);
    acceptor.open(where.protocol());
    acceptor.bind(where);
    acceptor.listen();
    accept(state_);
  }
  ~PlainTlsServer() {
    std::error_code ignored;
    state_->acceptor.close(ignored);
    for (auto& stream : state_->streams) stream->next_layer().close(ignored);
  }
  PlainTlsServer(const PlainTlsServer&) = delete;
  PlainTlsServer& operator=(const PlainTlsServer&) = delete;

  std::uint16_t port() const { return state_->acceptor.local_endpoint().port(); }
  int handshakes_failed() const { return state_->failed; }

 private:
  using Stream = asio::ssl::stream<asio::ip::tcp::socket>;

  struct State {
    explicit State(asio::io_context& io) : context(asio::ssl::context::tls_server), acceptor(io) {}
    asio::ssl::context context;
    asio::ip::tcp::acceptor acceptor;
    std::vector<std::unique_ptr<Stream>> streams;
    int failed = 0;
  };

  static void accept(std::shared_ptr<State> state) {
    auto& acceptor = state->acceptor;
    acceptor.async_accept([state = std::move(state)](std::error_code ec,
                                                     asio::ip::tcp::socket socket) mutable {
      if (ec) return;
      auto& stream =
          *state->streams.emplace_back(std::make_unique<Stream>(std::move(socket), state->context));
      stream.async_handshake(asio::ssl::stream_base::server, [state](std::error_code e) {
        if (e) ++state->failed;
      });
      accept(std::move(state));
    });
  }

  std::shared_ptr<State> state_;
};

}  // namespace rtconn::test
