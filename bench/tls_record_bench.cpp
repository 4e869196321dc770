// A request's TLS record cost on the server: one SIP request opened and its answer sealed.
// RecordProtection (what a server's TLS 1.3 connection runs on after its handshake) against
// OpenSSL's own record layer (SSL_read + SSL_write, as before the SSL object was shed), both
// with AES-128-GCM. "Keyed" is one connection served over and over; "rekeyed" alternates two,
// so every record re-keys the thread's cipher context (a loop serving many connections).

#include <benchmark/benchmark.h>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../tests/support/in_memory_tls.hpp"
#include "tls/record_protection.hpp"

namespace {

using rtconn::tls::RecordProtection;

const std::string request(400, 'q');
const std::string answer(300, 'a');

// Two ends of one connection: the client's write secret is the server's read secret.
struct ProtectedConnection {
  explicit ProtectedConnection(std::uint8_t seed) {
    std::array<std::uint8_t, 32> one{};
    std::array<std::uint8_t, 32> two{};
    one.fill(seed);
    two.fill(static_cast<std::uint8_t>(seed + 1));
    const auto suite = RecordProtection::Suite::aes_128_gcm_sha256;
    client.emplace(suite, RecordProtection::Direction{two, 0}, RecordProtection::Direction{one, 0});
    server.emplace(suite, RecordProtection::Direction{one, 0}, RecordProtection::Direction{two, 0});
  }
  std::optional<RecordProtection> client;
  std::optional<RecordProtection> server;
};

// The server's side of one exchange: open the client's request record, seal the answer.
void serve_once(ProtectedConnection& c, std::string& wire, std::string& reply) {
  const asio::const_buffer request_buffer = asio::buffer(request);
  wire.clear();
  c.client->seal(std::span(&request_buffer, 1), wire);
  std::error_code ec;
  const auto opened = c.server->open(wire, reply, ec);
  benchmark::DoNotOptimize(opened.data.data());
  const asio::const_buffer answer_buffer = asio::buffer(answer);
  wire.clear();
  c.server->seal(std::span(&answer_buffer, 1), wire);
  benchmark::DoNotOptimize(wire.data());
}

void TlsRecordProtection(benchmark::State& state) {
  std::vector<ProtectedConnection> connections;
  for (int i = 0; i < state.range(0); ++i) connections.emplace_back(static_cast<std::uint8_t>(i));
  std::string wire;
  std::string reply;
  std::size_t next = 0;
  for (auto _ : state) {
    serve_once(connections[next], wire, reply);
    next = (next + 1) % connections.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(TlsRecordProtection)->Arg(1)->ArgName("connections")->Arg(2);

// The same exchange through OpenSSL's SSL objects (the client's sealing is counted in both).
void TlsOpenSslRecords(benchmark::State& state) {
  rtconn::test::InMemoryTlsPair pair("TLS_AES_128_GCM_SHA256");
  if (!pair.handshake()) return state.SkipWithError("handshake failed");
  std::array<char, 4096> buffer;
  std::array<char, 4096> wire;
  std::size_t n = 0;
  SSL_read_ex(pair.client, buffer.data(), buffer.size(), &n);  // takes the tickets
  for (auto _ : state) {
    SSL_write_ex(pair.client, request.data(), request.size(), &n);
    const int sent = BIO_read(pair.client_out, wire.data(), static_cast<int>(wire.size()));
    BIO_write(pair.server_in, wire.data(), sent);
    SSL_read_ex(pair.server, buffer.data(), buffer.size(), &n);
    SSL_write_ex(pair.server, answer.data(), answer.size(), &n);
    benchmark::DoNotOptimize(BIO_read(pair.server_out, wire.data(), static_cast<int>(wire.size())));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(TlsOpenSslRecords);

}  // namespace
