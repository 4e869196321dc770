// StartListening / StopListening as UCMA documents them: port 0 gives a real port, a busy port
// is a ConnectionFailureException, listening twice or stopping twice an InvalidOperationException,
// and several endpoints are taken all together or not at all.

#include <gtest/gtest.h>

#include <stdexcept>

#include <asio/error.hpp>

#include "loopback.hpp"

namespace rtconn::test {
namespace {

bool ipv6_loopback_available(asio::io_context& io) {
  std::error_code ec;
  asio::ip::tcp::acceptor probe(io);
  probe.open(asio::ip::tcp::v6(), ec);
  if (!ec) probe.bind({asio::ip::address_v6::loopback(), 0}, ec);
  return !ec;
}

// A port on 127.0.0.1 that something else holds open for the test's duration.
class BusyPort {
 public:
  explicit BusyPort(asio::io_context& io) : acceptor_(io, {asio::ip::address_v4::loopback(), 0}) {}
  IpEndpoint endpoint() const {
    const auto e = acceptor_.local_endpoint();
    return {e.address(), e.port()};
  }

 private:
  asio::ip::tcp::acceptor acceptor_;
};

class Listening : public Loopback {
 protected:
  void SetUp() override {
    server = std::make_unique<RealTimeServerTcpConnectionManager>(io.get_executor());
  }
};

TEST_F(Listening, PortZeroOnLoopbackGetsARealPort) {
  EXPECT_FALSE(server->is_listening());
  EXPECT_EQ(server->listening_port(), 0);
  EXPECT_TRUE(server->listening_addresses().empty());

  server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  EXPECT_TRUE(server->is_listening());
  ASSERT_EQ(server->listening_addresses().size(), 1u);
  const auto address = server->listening_addresses()[0];
  EXPECT_EQ(address.address(), asio::ip::make_address("127.0.0.1"));
  EXPECT_NE(address.port(), 0);
  EXPECT_EQ(server->listening_port(), address.port());
  EXPECT_EQ(server->listening_transport(), TransportType::Tcp);

  // And it really accepts there.
  RawClient raw(io, address);
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 1; }));
}

TEST_F(Listening, Ipv6LoopbackWorks) {
  if (!ipv6_loopback_available(io)) GTEST_SKIP() << "no IPv6 loopback here";
  server->start_listening(*IpEndpoint::parse("[::1]:0"));
  answer_everything();
  const auto address = server->listening_addresses().at(0);
  EXPECT_TRUE(address.is_v6());
  EXPECT_EQ(address.address(), asio::ip::make_address("::1"));
  EXPECT_NE(server->listening_port(), 0);

  make_client();
  const PoolKey key{"::1", server->listening_port(), TransportType::Tcp, {}};
  const auto answer = request_and_wait(make_request("OPTIONS", "sip:test@[::1]"), key);
  ASSERT_FALSE(answer.ec) << answer.ec.message();
  EXPECT_EQ(answer.response.status_code(), 200);
  EXPECT_EQ(server->incoming_connections().at(0)->remote_endpoint().address(),
            asio::ip::make_address("::1"));
}

TEST_F(Listening, AnyAddressListensEverywhereWithARealPort) {
  server->start_listening(IpEndpoint::any_ipv4());
  const auto address = server->listening_addresses().at(0);
  EXPECT_TRUE(address.address().is_unspecified());
  ASSERT_NE(address.port(), 0);
  RawClient raw(io, {asio::ip::make_address("127.0.0.1"), address.port()});
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 1; }));
}

TEST_F(Listening, BusyPortThrowsConnectionFailureAndLeavesTheManagerIdle) {
  BusyPort busy(io);
  int changes = 0;
  auto sub = server->listening_addresses_changed.subscribe(
      [&](const ListeningAddressesChangedEventArgs&) { ++changes; });
  try {
    server->start_listening(busy.endpoint());
    FAIL() << "listened on a port in use";
  } catch (const ConnectionFailureException& e) {
    const std::system_error& as_system_error = e;
    EXPECT_EQ(as_system_error.code(), asio::error::address_in_use) << e.what();
  }
  EXPECT_FALSE(server->is_listening());
  EXPECT_EQ(server->listening_port(), 0);
  EXPECT_TRUE(server->listening_addresses().empty());

  // The error_code twin reports the same without throwing.
  std::error_code ec;
  server->start_listening({busy.endpoint()}, ec);
  EXPECT_EQ(ec, asio::error::address_in_use) << ec.message();
  EXPECT_FALSE(server->is_listening());
  drain(io);
  EXPECT_EQ(changes, 0);

  // A failed attempt leaves the manager able to listen elsewhere.
  server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  EXPECT_TRUE(server->is_listening());
}

TEST_F(Listening, PortTakenByAnotherManagerIsBusyToo) {
  server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  RealTimeServerTcpConnectionManager second(io.get_executor());
  EXPECT_THROW(second.start_listening(server->listening_addresses()[0]),
               ConnectionFailureException);
  EXPECT_FALSE(second.is_listening());
}

TEST_F(Listening, NoEndpointIsAnInvalidArgumentAndAStoppedManagerAnInvalidOperation) {
  EXPECT_THROW(server->start_listening(std::vector<IpEndpoint>{}), std::invalid_argument);
  server->stop();
  EXPECT_THROW(server->start_listening(*IpEndpoint::parse("127.0.0.1:0")),
               InvalidOperationException);
  std::error_code ec;
  server->start_listening({*IpEndpoint::parse("127.0.0.1:0")}, ec);
  EXPECT_EQ(ec, errc::shutdown);
  EXPECT_FALSE(server->is_listening());
}

TEST_F(Listening, StartingTwiceIsAnInvalidOperation) {
  server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  const auto address = server->listening_addresses()[0];
  EXPECT_THROW(server->start_listening(*IpEndpoint::parse("127.0.0.1:0")),
               InvalidOperationException);
  std::error_code ec;
  server->start_listening({*IpEndpoint::parse("127.0.0.1:0")}, ec);
  EXPECT_EQ(ec, errc::already_listening);
  // Still listening where it was, and only there.
  EXPECT_EQ(server->listening_addresses(), std::vector<IpEndpoint>{address});
  RawClient raw(io, address);
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 1; }));
}

TEST_F(Listening, StoppingWhenNotListeningIsAnInvalidOperation) {
  EXPECT_THROW(server->stop_listening(), InvalidOperationException);
  server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  EXPECT_NO_THROW(server->stop_listening());
  EXPECT_THROW(server->stop_listening(), InvalidOperationException);
  EXPECT_FALSE(server->is_listening());
  EXPECT_EQ(server->listening_port(), 0);
}

TEST_F(Listening, CanListenAgainAfterStopping) {
  server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  server->stop_listening();
  drain(io);
  server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  EXPECT_TRUE(server->is_listening());
  RawClient raw(io, server->listening_addresses()[0]);
  ASSERT_TRUE(run_until(io, [&] { return server->incoming_connections().size() == 1; }));
}

TEST_F(Listening, SeveralEndpointsAtOnce) {
  std::vector<IpEndpoint> wanted{*IpEndpoint::parse("127.0.0.1:0")};
  const bool v6 = ipv6_loopback_available(io);
  if (v6) wanted.push_back(*IpEndpoint::parse("[::1]:0"));
  wanted.push_back(*IpEndpoint::parse("127.0.0.1:0"));  // a second IPv4 listener, its own port
  std::vector<ListeningAddressesChangedEventArgs> changes;
  auto sub = server->listening_addresses_changed.subscribe(
      [&](const ListeningAddressesChangedEventArgs& e) { changes.push_back(e); });

  server->start_listening(wanted);
  const auto addresses = server->listening_addresses();
  ASSERT_EQ(addresses.size(), wanted.size());
  EXPECT_EQ(server->listening_port(), addresses[0].port());
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    EXPECT_EQ(addresses[i].address(), wanted[i].address());
    EXPECT_NE(addresses[i].port(), 0);
  }
  drain(io);
  ASSERT_EQ(changes.size(), 1u) << "one change for the whole set";
  EXPECT_EQ(changes[0].addresses, addresses);

  std::vector<std::unique_ptr<RawClient>> raws;
  for (const auto& a : addresses) raws.push_back(std::make_unique<RawClient>(io, a));
  ASSERT_TRUE(
      run_until(io, [&] { return server->incoming_connections().size() == addresses.size(); }));
}

TEST_F(Listening, SeveralEndpointsAreAllOrNothing) {
  BusyPort busy(io);
  const auto free_port = unused_loopback_port(io);
  const IpEndpoint free_endpoint(asio::ip::make_address("127.0.0.1"), free_port);
  EXPECT_THROW(server->start_listening(std::vector<IpEndpoint>{free_endpoint, busy.endpoint()}),
               ConnectionFailureException);
  EXPECT_FALSE(server->is_listening());
  EXPECT_TRUE(server->listening_addresses().empty());

  // The endpoint that did open was given back at once: it is free for anyone, without the
  // io_context having run in between.
  RealTimeServerTcpConnectionManager other(io.get_executor());
  EXPECT_NO_THROW(other.start_listening(free_endpoint));
  EXPECT_TRUE(other.is_listening());
}

TEST_F(Listening, StopStopsListening) {
  server->start_listening(*IpEndpoint::parse("127.0.0.1:0"));
  const auto address = server->listening_addresses()[0];
  server->stop();
  drain(io);
  EXPECT_FALSE(server->is_listening()) << "stop() is documented to stop listening";
  EXPECT_TRUE(server->listening_addresses().empty());
  asio::ip::tcp::socket late(io);
  std::error_code ec;
  late.connect({address.address(), address.port()}, ec);
  EXPECT_EQ(ec, asio::error::connection_refused) << ec.message();
  // A stopped manager cannot listen again.
  std::error_code again;
  server->start_listening({*IpEndpoint::parse("127.0.0.1:0")}, again);
  EXPECT_EQ(again, errc::shutdown);
  EXPECT_FALSE(server->is_listening());
}

}  // namespace
}  // namespace rtconn::test
