// Host names are looked up with c-ares on the manager's executor. A DNS server that never
// answers stands in for a slow or dead one (a UDP socket the test reads and never answers):
// the connect time-out covers the lookup, a stopped or destroyed manager ends its lookups, and
// nothing waits for c-ares' own retries. Answered lookups (SRV, weights, fallbacks) are in
// tests/interop/dns_srv_test.py, against dnsmasq.

#include <gtest/gtest.h>

#include <memory>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include "../support/test_support.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/manual_clock.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"

namespace rtconn {
namespace {

using namespace std::chrono_literals;
using test::make_record;
using test::make_request;
using test::record;
using test::run_until;

class NameLookup : public testing::Test {
 protected:
  asio::io_context io;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  asio::ip::udp::socket silent_dns{io, {asio::ip::make_address("127.0.0.1"), 0}};
  std::unique_ptr<RealTimeClientConnectionManager> client;

  void SetUp() override {
    ConnectionManagerOptions options;
    options.clock = clock;
    options.connect_timeout = 2s;
    options.dns_servers = {
        {silent_dns.local_endpoint().address(), silent_dns.local_endpoint().port()}};
    client = std::make_unique<RealTimeClientConnectionManager>(io.get_executor(), options);
  }

  // The query c-ares sent to the silent server: proof the lookup is under way there.
  bool query_arrived() { return silent_dns.available() > 0; }
};

TEST_F(NameLookup, TheConnectTimeOutCoversAnUnansweredLookup) {
  const auto outcome = make_record();
  client->async_send({"unanswered.rtconn.test", 0, TransportType::Tcp, {}}, make_request("OPTIONS"),
                     record(outcome));
  ASSERT_TRUE(run_until(io, [&] { return query_arrived(); }));
  test::settle(io);
  EXPECT_EQ(outcome->calls, 0);

  clock->advance(1999ms);
  test::settle(io);
  EXPECT_EQ(outcome->calls, 0);
  clock->advance(1ms);
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls == 1; }));
  EXPECT_EQ(outcome->ec, errc::connect_timeout);
  EXPECT_EQ(client->connection_pools().size(), 0u);
  // Destroyed with c-ares still waiting for its answer (and retrying, on its own clock).
  client.reset();
  test::drain(io);
}

TEST_F(NameLookup, StopEndsTheLookupsUnderWay) {
  const auto outcome = make_record();
  client->async_send({"unanswered.rtconn.test", 5060, TransportType::Tcp, {}},
                     make_request("OPTIONS"), record(outcome));
  ASSERT_TRUE(run_until(io, [&] { return query_arrived(); }));
  client->stop();
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls == 1; }));
  EXPECT_EQ(outcome->ec, errc::shutdown);
  client.reset();
  test::drain(io);
}

// A second lookup is not held up by the first, unanswered one: both go out at once. (Asio's
// getaddrinfo runs one name at a time on a thread of its own.)
TEST_F(NameLookup, LookupsRunSideBySide) {
  const auto first = make_record();
  const auto second = make_record();
  client->async_send({"first.rtconn.test", 5060, TransportType::Tcp, {}}, make_request("OPTIONS"),
                     record(first));
  client->async_send({"second.rtconn.test", 5060, TransportType::Tcp, {}}, make_request("OPTIONS"),
                     record(second));
  std::size_t queries = 0;
  std::array<char, 512> datagram{};
  std::string names;
  ASSERT_TRUE(run_until(io,
                        [&] {
                          while (silent_dns.available() > 0) {
                            const auto n = silent_dns.receive(asio::buffer(datagram));
                            names.append(datagram.data(), n);
                            ++queries;
                          }
                          return names.find("first") != std::string::npos &&
                                 names.find("second") != std::string::npos;
                        }))
      << queries << " queries";
  EXPECT_EQ(first->calls + second->calls, 0);
}

}  // namespace
}  // namespace rtconn
