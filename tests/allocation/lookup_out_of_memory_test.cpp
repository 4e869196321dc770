// Memory running out while a DNS answer is read (here: the copy of an SRV target's name) fails
// the lookups waiting for that answer, and leaves nothing filed behind: the name is asked again
// by the next lookup, which is answered. Left filed, the waiters would be joined by every later
// lookup of the name, none of which would ever ask.

#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "../support/test_dns_server.hpp"
#include "../support/test_support.hpp"
#include "counting_allocator.hpp"
#include "rtconn/manual_clock.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"

namespace rtconn {
namespace {

using namespace std::chrono_literals;
namespace dns = test::dns;

TEST(LookupOutOfMemory, FailsItsWaitersAndTheNameIsAskedAgain) {
  // As in NameLookup: what this machine's resolv.conf says must not change what is asked.
  ::setenv("LOCALDOMAIN", "", 1);
  ::setenv("RES_OPTIONS", "ndots:1 timeout:5 attempts:4", 1);
  asio::io_context io;
  test::TestDnsServer server_dns(io);
  asio::ip::tcp::acceptor server(io, {asio::ip::make_address("127.0.0.1"), 0});
  ConnectionManagerOptions options;
  options.clock = std::make_shared<ManualClock>();
  options.dns_servers = {server_dns.endpoint()};
  RealTimeClientConnectionManager client(io.get_executor(), options);

  // A name of 215 bytes: its std::string asks for 216, a size nothing else here asks for.
  std::string target;
  for (char label = 'a'; label < 'e'; ++label) target += std::string(50, label) + '.';
  target += "rtconn.test";
  const auto port = server.local_endpoint().port();
  const auto answer = [&](const std::string& name,
                          std::uint16_t type) -> std::optional<std::vector<dns::Bytes>> {
    if (type == dns::type_srv && name == "_sip._tcp.big.rtconn.test") {
      return std::vector<dns::Bytes>{dns::srv_record(10, port, target)};
    }
    if (type == dns::type_a && name == target) {
      return std::vector<dns::Bytes>{dns::a_record("127.0.0.1")};
    }
    return std::vector<dns::Bytes>{};
  };
  const auto srv_asked = [&] {
    server_dns.serve();
    return std::count(server_dns.asked().begin(), server_dns.asked().end(),
                      "_sip._tcp.big.rtconn.test SRV");
  };
  const PoolKey destination{"big.rtconn.test", 0, TransportType::Tcp, {}};

  const auto first = test::make_record();
  client.async_send(destination, test::make_request("OPTIONS"), test::record(first));
  ASSERT_TRUE(test::run_until(io, [&] { return srv_asked() == 1; }));
  allocation::count_this_thread(true);
  allocation::refuse_allocations_of(target.size() + 1);
  server_dns.set_policy(answer);
  const bool failed = test::run_until(io, [&] {
    server_dns.serve();
    return first->calls == 1;
  });
  allocation::refuse_allocations_of(0);
  allocation::count_this_thread(false);
  ASSERT_TRUE(failed);
  EXPECT_EQ(first->ec, std::errc::not_enough_memory) << first->ec.message();

  const auto second = test::make_record();
  client.async_send(destination, test::make_request("OPTIONS"), test::record(second));
  ASSERT_TRUE(test::run_until(io, [&] {
    server_dns.serve();
    return second->calls == 1;
  }));
  EXPECT_FALSE(second->ec) << second->ec.message();
  EXPECT_EQ(srv_asked(), 2);
  client.stop();
  test::drain(io);
}

}  // namespace
}  // namespace rtconn
