#include "rtconn/connection_manager_options.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include "../support/test_support.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/real_time_server_connection_manager.hpp"

namespace rtconn {
namespace {

using namespace std::chrono_literals;

TEST(ConnectionManagerOptions, DefaultsAreUcmas) {
  const ConnectionManagerOptions o;
  EXPECT_NO_THROW(o.validate());
  EXPECT_EQ(o.default_maximum_number_of_connections_per_pool, 5);
  EXPECT_EQ(o.new_incoming_connection_timeout, 1min);
  EXPECT_EQ(o.default_incoming_connection_timeout, 15min);
  EXPECT_EQ(o.default_outgoing_connection_timeout, 15min);
  EXPECT_EQ(o.connection_throttling_high_mark, INT_MAX);
  EXPECT_EQ(o.connection_throttling_low_mark, INT_MAX);
  EXPECT_FALSE(o.keep_alive_counts_as_activity);
}

// Each case breaks one field of otherwise valid options; validate must name that field.
struct BadOption {
  const char* field;
  void (*breaks)(ConnectionManagerOptions&);
};

class RejectedOption : public testing::TestWithParam<BadOption> {};

TEST_P(RejectedOption, ValidateThrowsInvalidArgumentNamingTheField) {
  ConnectionManagerOptions o;
  GetParam().breaks(o);
  try {
    o.validate();
    FAIL() << "accepted a bad " << GetParam().field;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().field), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryLimit, RejectedOption,
    testing::Values(
        BadOption{"default_maximum_number_of_connections_per_pool",
                  [](auto& o) { o.default_maximum_number_of_connections_per_pool = 0; }},
        BadOption{"default_maximum_number_of_connections_per_pool",
                  [](auto& o) { o.default_maximum_number_of_connections_per_pool = -3; }},
        BadOption{"default_outgoing_connection_timeout",
                  [](auto& o) { o.default_outgoing_connection_timeout = -1ms; }},
        BadOption{"default_incoming_connection_timeout",
                  [](auto& o) { o.default_incoming_connection_timeout = -1ms; }},
        BadOption{"new_incoming_connection_timeout",
                  [](auto& o) { o.new_incoming_connection_timeout = -1s; }},
        BadOption{"connection_throttling_high_mark",
                  [](auto& o) {
                    o.connection_throttling_high_mark = 10;
                    o.connection_throttling_low_mark = 20;
                  }},
        BadOption{"connection_throttling_low_mark",
                  [](auto& o) { o.connection_throttling_low_mark = 0; }},
        BadOption{"dns_cache_max_ttl", [](auto& o) { o.dns_cache_max_ttl = -1s; }},
        BadOption{"max_write_queue_bytes", [](auto& o) { o.max_write_queue_bytes = 0; }},
        BadOption{"max_header_name_bytes", [](auto& o) { o.max_header_name_bytes = 0; }},
        BadOption{"max_header_value_bytes", [](auto& o) { o.max_header_value_bytes = 0; }},
        BadOption{"max_parameter_count", [](auto& o) { o.max_parameter_count = 0; }},
        BadOption{"event_loop_threads", [](auto& o) { o.event_loop_threads = 100000; }},
        // "Never" as the largest duration: its deadline would wrap into the past.
        BadOption{"default_incoming_connection_timeout",
                  [](auto& o) {
                    o.default_incoming_connection_timeout = std::chrono::milliseconds::max();
                  }},
        BadOption{"shutdown_timeout",
                  [](auto& o) { o.shutdown_timeout = o.longest_time_out + 1ms; }},
        BadOption{"max_message_bytes", [](auto& o) {
                    o.max_header_bytes = 4096;
                    o.max_message_bytes = 1024;
                  }}));

TEST(ConnectionManagerOptions, ZeroTimeOutsAndEqualMarksAreAllowed) {
  ConnectionManagerOptions o;
  o.default_outgoing_connection_timeout = 0ms;
  o.default_incoming_connection_timeout = 0ms;
  o.new_incoming_connection_timeout = 0ms;
  o.connection_throttling_high_mark = 7;
  o.connection_throttling_low_mark = 7;
  o.default_maximum_number_of_connections_per_pool = 1;
  EXPECT_NO_THROW(o.validate());
}

TEST(ConnectionManagerOptions, DnsLoadBalancingIsOnUntilSwitchedOff) {
  asio::io_context io;
  RealTimeClientConnectionManager manager(io.get_executor());
  EXPECT_FALSE(manager.dns_load_balancing_disabled());
  manager.set_dns_load_balancing_disabled(true);
  EXPECT_TRUE(manager.dns_load_balancing_disabled());
  EXPECT_TRUE(manager.options().dns_load_balancing_disabled);
}

TEST(ConnectionManagerOptions, ManagerRefusesInvalidOptionsAtConstruction) {
  asio::io_context io;
  ConnectionManagerOptions o;
  o.default_maximum_number_of_connections_per_pool = 0;
  EXPECT_THROW(RealTimeClientConnectionManager(io.get_executor(), o), std::invalid_argument);
  EXPECT_THROW(RealTimeServerTcpConnectionManager(io.get_executor(), o), std::invalid_argument);
}

TEST(ConnectionManagerOptions, SettersValidateAndLeaveTheOldValueOnFailure) {
  asio::io_context io;
  RealTimeServerTcpConnectionManager manager(io.get_executor());

  EXPECT_THROW(manager.set_default_maximum_number_of_connections_per_pool(0),
               std::invalid_argument);
  EXPECT_THROW(manager.set_default_maximum_number_of_connections_per_pool(-1),
               std::invalid_argument);
  EXPECT_EQ(manager.options().default_maximum_number_of_connections_per_pool, 5);
  manager.set_default_maximum_number_of_connections_per_pool(2);
  EXPECT_EQ(manager.options().default_maximum_number_of_connections_per_pool, 2);

  EXPECT_THROW(manager.set_default_outgoing_connection_timeout(-1ms), std::invalid_argument);
  EXPECT_THROW(manager.set_default_incoming_connection_timeout(-5s), std::invalid_argument);
  EXPECT_EQ(manager.options().default_outgoing_connection_timeout, 15min);
  EXPECT_EQ(manager.options().default_incoming_connection_timeout, 15min);
  manager.set_default_outgoing_connection_timeout(0ms);  // zero disables: allowed
  manager.set_default_incoming_connection_timeout(30s);
  EXPECT_EQ(manager.options().default_outgoing_connection_timeout, 0ms);
  EXPECT_EQ(manager.options().default_incoming_connection_timeout, 30s);

  EXPECT_THROW(manager.set_connection_throttling_marks(5, 10), std::invalid_argument);
  EXPECT_THROW(manager.set_connection_throttling_marks(0, 0), std::invalid_argument);
  EXPECT_EQ(manager.options().connection_throttling_high_mark, INT_MAX);
  manager.set_connection_throttling_marks(10, 5);
  EXPECT_EQ(manager.options().connection_throttling_high_mark, 10);
  EXPECT_EQ(manager.options().connection_throttling_low_mark, 5);
}

TEST(ConnectionManagerOptions, LocalHostNameIsKeptOrDefaultsToThisMachine) {
  asio::io_context io;
  ConnectionManagerOptions o;
  o.local_host_name = "sip.example.com";
  RealTimeClientConnectionManager named(io.get_executor(), o);
  EXPECT_EQ(named.local_host_name(), "sip.example.com");
  RealTimeClientConnectionManager unnamed(io.get_executor());
  EXPECT_FALSE(unnamed.local_host_name().empty());
}

TEST(ConnectionManagerOptions, NewCapAppliesToNewPoolsOnly) {
  asio::io_context io;
  RealTimeClientConnectionManager manager(io.get_executor());
  const auto before = manager.connection_pool({"before.invalid", 5060, TransportType::Tcp, {}});
  manager.set_default_maximum_number_of_connections_per_pool(2);
  const auto after = manager.connection_pool({"after.invalid", 5060, TransportType::Tcp, {}});
  EXPECT_EQ(before->maximum_number_of_connections(), 5);
  EXPECT_EQ(after->maximum_number_of_connections(), 2);

  EXPECT_THROW(after->set_maximum_number_of_connections(0), std::invalid_argument);
  EXPECT_EQ(after->maximum_number_of_connections(), 2);
  after->set_maximum_number_of_connections(9);
  EXPECT_EQ(after->maximum_number_of_connections(), 9);
}

TEST(ConnectionManagerOptions, AStoppedManagerMakesNoPools) {
  asio::io_context io;
  RealTimeClientConnectionManager manager(io.get_executor());
  manager.stop();
  const PoolKey key{"127.0.0.1", 5060, TransportType::Tcp, {}};
  try {
    (void)manager.connection_pool(key);
    FAIL() << "made a pool on a stopped manager";
  } catch (const RealTimeException& e) {
    EXPECT_EQ(e.code(), errc::shutdown);
  }
  int calls = 0;
  std::error_code result;
  manager.async_send(key, test::make_request("OPTIONS"), [&](std::error_code ec) {
    ++calls;
    result = ec;
  });
  test::drain(io);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(result, errc::shutdown);
  EXPECT_TRUE(manager.connection_pools().empty());
}

}  // namespace
}  // namespace rtconn
