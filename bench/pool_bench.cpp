// Choosing a connection: what every send through a pool costs before it reaches a connection.
// Real managers on loopback, so the pool holds real connections: the manager's lookup of the
// pool for a destination (a sharded map under a lock), and the pool's least-loaded choice among
// its connections (state and load of each, from the round-robin cursor).
#include <benchmark/benchmark.h>

#include <memory>
#include <stdexcept>

#include <asio/io_context.hpp>

#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace {

struct LoopbackPool {
  explicit LoopbackPool(int connections) {
    server.start_listening(*rtconn::IpEndpoint::parse("127.0.0.1:0"));
    const auto address = server.listening_addresses().at(0);
    key = {address.address().to_string(), address.port(), rtconn::TransportType::Tcp, {}};
    pool = client.connection_pool(key);
    pool->set_maximum_number_of_connections(connections);
    std::error_code ec;
    for (int i = 0; i < connections; ++i) {
      if (!pool->select_connection(ec)) throw std::runtime_error("no connection: " + ec.message());
    }
    io.poll();
  }

  asio::io_context io;
  rtconn::RealTimeServerTcpConnectionManager server{io.get_executor()};
  rtconn::RealTimeClientConnectionManager client{io.get_executor()};
  rtconn::PoolKey key;
  std::shared_ptr<rtconn::ConnectionPool> pool;
};

void PoolSelectConnection(benchmark::State& state) {
  LoopbackPool loopback(static_cast<int>(state.range(0)));
  std::error_code ec;
  for (auto _ : state) {
    benchmark::DoNotOptimize(loopback.pool->select_connection(ec));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(PoolSelectConnection)->Arg(1)->Arg(8)->Arg(64);

// Every connection has a send queued (not written: the loop does not run), so the choice looks
// at each of them.
void PoolSelectConnectionAllBusy(benchmark::State& state) {
  LoopbackPool loopback(static_cast<int>(state.range(0)));
  for (const auto& connection : loopback.pool->connections()) {
    connection->async_send(rtconn::SipMessage::request("OPTIONS", "sip:bench@127.0.0.1"),
                           [](std::error_code) {});
  }
  std::error_code ec;
  for (auto _ : state) {
    benchmark::DoNotOptimize(loopback.pool->select_connection(ec));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(PoolSelectConnectionAllBusy)->Arg(8)->Arg(64);

void PoolLookupByDestination(benchmark::State& state) {
  LoopbackPool loopback(1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(loopback.client.connection_pool(loopback.key));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(PoolLookupByDestination);

}  // namespace
