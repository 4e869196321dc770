// Host names are looked up with c-ares on the manager's executor, from a DNS server the test
// plays itself on a loopback UDP socket: it answers the queries it is given a policy for (A and
// SRV records it builds) and leaves the others unanswered, standing in for a slow or dead server.
// The connect time-out covers a lookup, a drain lets one finish, a backup SRV target whose
// lookup hangs does not hold up the primary, lookups run side by side, and a changed resolver
// configuration is read again without ending the lookups under way. SRV order, weights
// and fallbacks against a real DNS server are in tests/interop/dns_srv_test.py (dnsmasq).

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "../support/dns_message.hpp"
#include "../support/test_dns_server.hpp"
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
using test::TestDnsServer;
using test::dns::a_record;
using test::dns::Bytes;
using test::dns::srv_record;
using test::dns::type_a;
using test::dns::type_srv;

class NameLookup : public testing::Test {
 protected:
  asio::io_context io;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  TestDnsServer dns{io};
  // Takes connections into its backlog: a send completes once its bytes are in the socket.
  asio::ip::tcp::acceptor server{io, {asio::ip::make_address("127.0.0.1"), 0}};
  std::unique_ptr<RealTimeClientConnectionManager> client;

  void SetUp() override {
    // What this machine's resolv.conf says must not change what is asked (c-ares reads the
    // environment first): no search list, a name asked as it is, c-ares' default retries.
    ::setenv("LOCALDOMAIN", "", 1);
    ::setenv("RES_OPTIONS", "ndots:1 timeout:5 attempts:4", 1);
    ::unsetenv("CARES_HOSTS");  // /etc/hosts, unless a test names another
    ConnectionManagerOptions options;
    options.clock = clock;
    options.connect_timeout = 2s;
    options.dns_servers = {dns.endpoint()};
    client = std::make_unique<RealTimeClientConnectionManager>(io.get_executor(), options);
  }

  std::uint16_t server_port() const { return server.local_endpoint().port(); }

  // svc.rtconn.test's SRV records: primary.rtconn.test at `primary_port` (priority 10), then
  // backup.rtconn.test at `backup_port`, each 127.0.0.1 once its flag says it answers (read when
  // asked; until then its query is left unanswered).
  void serve_primary_and_backup(std::uint16_t primary_port, const bool& primary_answers,
                                std::uint16_t backup_port, const bool& backup_answers) {
    dns.set_policy([=, &primary_answers, &backup_answers](
                       const std::string& name,
                       std::uint16_t type) -> std::optional<std::vector<Bytes>> {
      if (name == "_sip._tcp.svc.rtconn.test" && type == type_srv) {
        return std::vector<Bytes>{srv_record(10, primary_port, "primary.rtconn.test"),
                                  srv_record(20, backup_port, "backup.rtconn.test")};
      }
      if ((name == "primary.rtconn.test" && primary_answers) ||
          (name == "backup.rtconn.test" && backup_answers)) {
        return type == type_a ? std::vector<Bytes>{a_record("127.0.0.1")} : std::vector<Bytes>{};
      }
      return std::nullopt;
    });
  }

  // Runs the test until `outcome`'s send completes, answering DNS queries as the policy says.
  bool completes(const test::CompletionRecordPtr& outcome) {
    return run_until(io, [&] {
      dns.serve();
      return outcome->calls == 1;
    });
  }

  // So that the next send opens a connection, and looks its host up.
  void close_every_connection() {
    for (const auto& pool : client->connection_pools()) {
      for (const auto& connection : pool->connections()) connection->disconnect();
    }
    EXPECT_TRUE(run_until(io, [&] { return client->connection_pools().empty(); }));
  }

  bool was_asked(const std::string& question) { return times_asked(question) > 0; }
  std::ptrdiff_t times_asked(const std::string& question) {
    dns.serve();
    return std::count(dns.asked().begin(), dns.asked().end(), question);
  }
};

TEST_F(NameLookup, TheConnectTimeOutCoversAnUnansweredLookup) {
  const auto outcome = make_record();
  client->async_send({"unanswered.rtconn.test", 0, TransportType::Tcp, {}}, make_request("OPTIONS"),
                     record(outcome));
  ASSERT_TRUE(run_until(io, [&] { return was_asked("_sip._tcp.unanswered.rtconn.test SRV"); }));
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

// stop() drains: a send accepted while its connection was still looking its server up is
// delivered once the answer comes.
TEST_F(NameLookup, ALookupUnderWayFinishesInTheDrain) {
  const auto outcome = make_record();
  client->async_send({"late.rtconn.test", server_port(), TransportType::Tcp, {}},
                     make_request("OPTIONS"), record(outcome));
  ASSERT_TRUE(run_until(io, [&] { return was_asked("late.rtconn.test A"); }));
  client->stop();
  dns.set_policy(
      [](const std::string& name, std::uint16_t type) -> std::optional<std::vector<Bytes>> {
        if (name != "late.rtconn.test") return std::nullopt;
        if (type == type_a) return std::vector<Bytes>{a_record("127.0.0.1")};
        return std::vector<Bytes>{};  // no AAAA
      });
  // c-ares asks again on its own clock; the answer to its retry is taken.
  ASSERT_TRUE(run_until(
      io,
      [&] {
        dns.serve();
        return outcome->calls == 1;
      },
      15s));
  EXPECT_FALSE(outcome->ec) << outcome->ec.message();
  client.reset();
  test::drain(io);
}

// RFC 2782 failover order, and a backup whose lookup never ends does not hold up the primary.
TEST_F(NameLookup, ABackupTargetThatIsNeverAnsweredDoesNotHoldUpThePrimary) {
  const auto port = server_port();
  dns.set_policy(
      [port](const std::string& name, std::uint16_t type) -> std::optional<std::vector<Bytes>> {
        if (name == "_sip._tcp.svc.rtconn.test" && type == type_srv) {
          return std::vector<Bytes>{srv_record(20, 9, "backup.rtconn.test"),
                                    srv_record(10, port, "primary.rtconn.test")};
        }
        if (name == "primary.rtconn.test") {
          return type == type_a ? std::vector<Bytes>{a_record("127.0.0.1")} : std::vector<Bytes>{};
        }
        return std::nullopt;  // the backup's server is dead
      });
  const auto outcome = make_record();
  client->async_send({"svc.rtconn.test", 0, TransportType::Tcp, {}}, make_request("OPTIONS"),
                     record(outcome));
  ASSERT_TRUE(completes(outcome));
  EXPECT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_TRUE(was_asked("backup.rtconn.test A"));  // asked, and never answered
}

// On an application's executor: once a stopped manager's last connection has gone, its lookups
// end, so the executor runs out of work rather than waiting on c-ares' retries (seconds each).
TEST_F(NameLookup, AStoppedManagerLeavesNoLookupBehind) {
  const auto outcome = make_record();
  client->async_send({"unanswered.rtconn.test", 0, TransportType::Tcp, {}}, make_request("OPTIONS"),
                     record(outcome));
  ASSERT_TRUE(run_until(io, [&] { return was_asked("_sip._tcp.unanswered.rtconn.test SRV"); }));
  client->stop();
  clock->advance(2s);  // the connect time-out, within the drain
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls == 1; }));
  EXPECT_EQ(outcome->ec, errc::connect_timeout);
  io.restart();
  io.run_for(3s);  // returns at once when nothing is left to wait for
  EXPECT_TRUE(io.stopped());
}

// The backup's addresses, still being looked up when the primary's came, are waited for once
// the primary refuses: the connection goes on to them rather than failing.
TEST_F(NameLookup, ABackupAnsweredAfterThePrimaryRefusedIsTriedNext) {
  const bool primary_answers = true;
  bool backup_answers = false;
  serve_primary_and_backup(test::unused_loopback_port(io), primary_answers, server_port(),
                           backup_answers);
  const auto outcome = make_record();
  client->async_send({"svc.rtconn.test", 0, TransportType::Tcp, {}}, make_request("OPTIONS"),
                     record(outcome));
  ASSERT_TRUE(run_until(io, [&] { return was_asked("backup.rtconn.test A"); }));
  test::settle(io);  // the primary refuses meanwhile; the connection waits for the backup
  EXPECT_EQ(outcome->calls, 0);
  backup_answers = true;
  ASSERT_TRUE(completes(outcome));
  EXPECT_FALSE(outcome->ec) << outcome->ec.message();
}

// A primary whose DNS does not answer (c-ares would retry it for over a minute) holds up an
// answered backup for half the connect time-out, not all of it. `good_port` is where the
// backup's server listens; the primary's, if it answers, at `primary_port`.
class PatientLookup : public NameLookup {
 protected:
  test::CompletionRecordPtr send_with_primary_silent(std::uint16_t primary_port,
                                                     std::uint16_t backup_port) {
    serve_primary_and_backup(primary_port, primary_answers, backup_port, backup_answers);
    auto outcome = make_record();
    client->async_send({"svc.rtconn.test", 0, TransportType::Tcp, {}}, make_request("OPTIONS"),
                       record(outcome));
    EXPECT_TRUE(run_until(io, [&] {
      return was_asked("backup.rtconn.test A") && was_asked("primary.rtconn.test A");
    }));
    test::settle(io);
    EXPECT_EQ(outcome->calls, 0);
    return outcome;
  }

  bool primary_answers = false;
  const bool backup_answers = true;
};

TEST_F(PatientLookup, AnAnsweredBackupIsTriedHalfWayThroughTheConnectTimeOut) {
  const auto outcome = send_with_primary_silent(test::unused_loopback_port(io), server_port());
  clock->advance(999ms);
  test::settle(io);
  EXPECT_EQ(outcome->calls, 0);
  clock->advance(1ms);  // 1 s of the 2 s connect time-out
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls == 1; }));
  EXPECT_FALSE(outcome->ec) << outcome->ec.message();
}

// The half of the time left is counted from when the servers' addresses are asked for: an SRV
// answer that took most of the connect time-out does not let the backup jump the primary the
// moment it answers.
TEST_F(PatientLookup, IsCountedFromTheServersLookups) {
  bool srv_answers = false;
  const auto port = server_port();
  dns.set_policy(
      [&](const std::string& name, std::uint16_t type) -> std::optional<std::vector<Bytes>> {
        if (name == "_sip._tcp.svc.rtconn.test" && type == type_srv) {
          if (!srv_answers) return std::nullopt;
          return std::vector<Bytes>{srv_record(10, port, "primary.rtconn.test"),
                                    srv_record(20, port, "backup.rtconn.test")};
        }
        if (name == "backup.rtconn.test" && backup_answers) {
          return type == type_a ? std::vector<Bytes>{a_record("127.0.0.1")} : std::vector<Bytes>{};
        }
        return std::nullopt;
      });
  const auto outcome = make_record();
  client->async_send({"svc.rtconn.test", 0, TransportType::Tcp, {}}, make_request("OPTIONS"),
                     record(outcome));
  ASSERT_TRUE(run_until(io, [&] { return was_asked("_sip._tcp.svc.rtconn.test SRV"); }));
  clock->advance(1500ms);  // of the 2 s connect time-out
  srv_answers = true;
  ASSERT_TRUE(run_until(io, [&] { return was_asked("backup.rtconn.test A"); }));
  test::settle(io);
  EXPECT_EQ(outcome->calls, 0);  // the primary keeps its turn for half of the 500 ms left
  clock->advance(249ms);
  test::settle(io);
  EXPECT_EQ(outcome->calls, 0);
  clock->advance(1ms);
  ASSERT_TRUE(run_until(io, [&] { return outcome->calls == 1; }));
  EXPECT_FALSE(outcome->ec) << outcome->ec.message();
}

// The primary passed over keeps its turn: answered once the backup has refused, it is tried
// (rather than the connection failing with the backup's refusal).
TEST_F(PatientLookup, APrimaryPassedOverIsTriedWhenItAnswers) {
  const auto outcome = send_with_primary_silent(server_port(), test::unused_loopback_port(io));
  clock->advance(1s);
  test::settle(io);  // the backup refuses; the connection waits for the primary
  EXPECT_EQ(outcome->calls, 0);
  primary_answers = true;
  ASSERT_TRUE(completes(outcome));
  EXPECT_FALSE(outcome->ec) << outcome->ec.message();
}

// Lookups of one name under way at once share its queries: the three connections a pool opens
// together ask for the SRV records once, and for the target's address once.
TEST_F(NameLookup, LookupsOfOneNameUnderWayShareItsQueries) {
  const auto outcomes = test::make_records(3);
  for (const auto& outcome : outcomes) {
    client->async_send({"shared.rtconn.test", 0, TransportType::Tcp, {}}, make_request("OPTIONS"),
                       record(outcome));
  }
  ASSERT_TRUE(run_until(io, [&] { return was_asked("_sip._tcp.shared.rtconn.test SRV"); }));
  test::settle(io);
  ASSERT_EQ(client->connection_pools().size(), 1u);
  EXPECT_EQ(client->connection_pools()[0]->connections().size(), 3u);
  EXPECT_EQ(times_asked("_sip._tcp.shared.rtconn.test SRV"), 1);

  const auto port = server_port();
  dns.set_policy(
      [port](const std::string&, std::uint16_t type) -> std::optional<std::vector<Bytes>> {
        if (type == type_srv) return std::vector<Bytes>{srv_record(10, port, "one.rtconn.test")};
        return type == type_a ? std::vector<Bytes>{a_record("127.0.0.1")} : std::vector<Bytes>{};
      });
  ASSERT_TRUE(run_until(io, [&] {
    dns.serve();
    return test::all_completed(outcomes);
  }));
  for (const auto& outcome : outcomes) EXPECT_FALSE(outcome->ec) << outcome->ec.message();
  EXPECT_EQ(times_asked("_sip._tcp.shared.rtconn.test SRV"), 1);
  EXPECT_EQ(times_asked("one.rtconn.test A"), 1);
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
  ASSERT_TRUE(run_until(
      io, [&] { return was_asked("first.rtconn.test A") && was_asked("second.rtconn.test A"); }));
  EXPECT_EQ(first->calls + second->calls, 0);
}

// Answers are kept for their TTL: each send below opens a connection of its own (the one before
// is closed first), and only the first, and the first after the TTL, asks the DNS server.
class KeptAnswers : public NameLookup {
 protected:
  // Sends to `host` (at the test's server unless `port` is 0: by SRV then), waits for the send
  // to complete, and closes what it opened.
  std::error_code send_and_close(const std::string& host, bool with_port = true) {
    const auto outcome = make_record();
    client->async_send({host, with_port ? server_port() : std::uint16_t{0}, TransportType::Tcp, {}},
                       make_request("OPTIONS"), record(outcome));
    EXPECT_TRUE(completes(outcome));
    close_every_connection();
    return outcome->ec;
  }

  void answer(const std::string& host) {
    dns.set_policy(
        [host](const std::string& name, std::uint16_t type) -> std::optional<std::vector<Bytes>> {
          if (name == host && type == type_a) return std::vector<Bytes>{a_record("127.0.0.1")};
          return std::vector<Bytes>{};  // no AAAA, no SRV
        });
  }
};

TEST_F(KeptAnswers, AnAddressIsAskedForOncePerTtl) {
  dns.set_ttl(60);
  answer("kept.rtconn.test");
  EXPECT_FALSE(send_and_close("kept.rtconn.test"));
  EXPECT_EQ(times_asked("kept.rtconn.test A"), 1);
  clock->advance(59s);
  EXPECT_FALSE(send_and_close("kept.rtconn.test"));
  EXPECT_EQ(times_asked("kept.rtconn.test A"), 1);
  clock->advance(1s);
  EXPECT_FALSE(send_and_close("kept.rtconn.test"));
  EXPECT_EQ(times_asked("kept.rtconn.test A"), 2);
}

TEST_F(KeptAnswers, AnAnswerWithTtlZeroIsNotKept) {
  dns.set_ttl(0);
  answer("fleeting.rtconn.test");
  EXPECT_FALSE(send_and_close("fleeting.rtconn.test"));
  EXPECT_FALSE(send_and_close("fleeting.rtconn.test"));
  EXPECT_EQ(times_asked("fleeting.rtconn.test A"), 2);
}

// SRV records are kept too, and so is their absence while the zone's SOA says (RFC 2308).
TEST_F(KeptAnswers, NoSrvRecordsIsKeptAsLongAsTheSoaSays) {
  dns.set_negative_ttl(30);
  answer("plain.rtconn.test");
  send_and_close("plain.rtconn.test", false);  // to port 5060: whatever its outcome
  EXPECT_EQ(times_asked("_sip._tcp.plain.rtconn.test SRV"), 1);
  clock->advance(29s);
  send_and_close("plain.rtconn.test", false);
  EXPECT_EQ(times_asked("_sip._tcp.plain.rtconn.test SRV"), 1);
  EXPECT_EQ(times_asked("plain.rtconn.test A"), 1);  // its TTL is 60
  clock->advance(1s);
  send_and_close("plain.rtconn.test", false);
  EXPECT_EQ(times_asked("_sip._tcp.plain.rtconn.test SRV"), 2);
  EXPECT_EQ(times_asked("plain.rtconn.test A"), 1);
}

TEST_F(KeptAnswers, NoSrvRecordsWithoutAnSoaIsAskedAgain) {
  answer("plain.rtconn.test");
  send_and_close("plain.rtconn.test", false);
  send_and_close("plain.rtconn.test", false);
  EXPECT_EQ(times_asked("_sip._tcp.plain.rtconn.test SRV"), 2);
}

TEST_F(KeptAnswers, SrvRecordsAreKeptForTheirTtl) {
  const auto port = server_port();
  dns.set_policy(
      [port](const std::string& name, std::uint16_t type) -> std::optional<std::vector<Bytes>> {
        if (type == type_srv && name == "_sip._tcp.svc.rtconn.test") {
          return std::vector<Bytes>{srv_record(10, port, "one.rtconn.test")};
        }
        if (type == type_a && name == "one.rtconn.test") {
          return std::vector<Bytes>{a_record("127.0.0.1")};
        }
        return std::vector<Bytes>{};
      });
  EXPECT_FALSE(send_and_close("svc.rtconn.test", false));
  clock->advance(59s);
  EXPECT_FALSE(send_and_close("svc.rtconn.test", false));
  EXPECT_EQ(times_asked("_sip._tcp.svc.rtconn.test SRV"), 1);
  EXPECT_EQ(times_asked("one.rtconn.test A"), 1);
  clock->advance(1s);
  EXPECT_FALSE(send_and_close("svc.rtconn.test", false));
  EXPECT_EQ(times_asked("_sip._tcp.svc.rtconn.test SRV"), 2);
  EXPECT_EQ(times_asked("one.rtconn.test A"), 2);
}

// A name that does not exist (NXDOMAIN) is kept as such for its SRV query, as NODATA is; a
// host's own name is not (c-ares gives no SOA for it), so its address is asked again.
TEST_F(KeptAnswers, ANameThatDoesNotExistIsKeptForItsSrvQuery) {
  dns.set_negative_ttl(30);
  dns.set_names_missing(true);
  answer("nothing at all");
  EXPECT_EQ(send_and_close("gone.rtconn.test", false), asio::error::host_not_found);
  EXPECT_EQ(send_and_close("gone.rtconn.test", false), asio::error::host_not_found);
  EXPECT_EQ(times_asked("_sip._tcp.gone.rtconn.test SRV"), 1);
  EXPECT_EQ(times_asked("gone.rtconn.test A"), 2);
}

// The hosts file c-ares reads (CARES_HOSTS) is one of the test's, and a second server listens on
// 127.0.0.9, at a port of its own: a connection that reaches it went where the hosts file said.
class HostsFile : public KeptAnswers {
 protected:
  void SetUp() override {
    KeptAnswers::SetUp();
    std::ofstream(hosts) << "127.0.0.1 localhost\n";
    ::setenv("CARES_HOSTS", hosts.c_str(), 1);
    client =
        std::make_unique<RealTimeClientConnectionManager>(io.get_executor(), client->options());
  }
  void TearDown() override {
    ::unsetenv("CARES_HOSTS");
    std::filesystem::remove(hosts);
  }

  // Written beside it and renamed over it, as an editor or a configuration tool does.
  void name_in_hosts(const std::string& name) {
    const auto next = hosts.string() + ".next";
    std::ofstream(next) << "127.0.0.9 " << name << "\n";
    std::filesystem::rename(next, hosts);
  }

  // Sends to `name` at the second server's port, and says where the connection went.
  std::optional<asio::ip::address> reached(const std::string& name) {
    const auto outcome = make_record();
    client->async_send({name, other.local_endpoint().port(), TransportType::Tcp, {}},
                       make_request("OPTIONS"), record(outcome));
    if (!run_until(io, [&] { return outcome->calls == 1; }) || outcome->ec) return std::nullopt;
    for (const auto& pool : client->connection_pools()) {
      for (const auto& connection : pool->connections()) {
        if (connection->is_connected()) return connection->remote_endpoint().address();
      }
    }
    return std::nullopt;
  }

  const std::filesystem::path hosts =
      std::filesystem::temp_directory_path() / ("rtconn-hosts-" + std::to_string(::getpid()));
  asio::ip::tcp::acceptor other{io, {asio::ip::make_address("127.0.0.9"), 0}};
};

// An address kept from DNS gives way to the hosts file once that changes (c-ares reads it first,
// so a name added there must not wait for the DNS answer's TTL).
TEST_F(HostsFile, AChangeIsReadBeforeWhatWasKept) {
  answer("moved.rtconn.test");
  EXPECT_FALSE(send_and_close("moved.rtconn.test"));  // 127.0.0.1, from DNS, kept
  name_in_hosts("moved.rtconn.test");
  EXPECT_EQ(reached("moved.rtconn.test"), asio::ip::make_address("127.0.0.9"));
  EXPECT_EQ(times_asked("moved.rtconn.test A"), 1);
}

// A lookup after the change does not join a DNS query asked before it (one c-ares may go on
// retrying for a minute), and that query's answer, when it comes, is not kept.
TEST_F(HostsFile, AChangeIsNotHeldUpByADnsQueryAskedBefore) {
  const auto first = make_record();
  client->async_send({"held.rtconn.test", other.local_endpoint().port(), TransportType::Tcp, {}},
                     make_request("OPTIONS"), record(first));
  ASSERT_TRUE(run_until(io, [&] { return was_asked("held.rtconn.test A"); }));
  name_in_hosts("held.rtconn.test");
  EXPECT_EQ(reached("held.rtconn.test"), asio::ip::make_address("127.0.0.9"));

  answer("held.rtconn.test");  // 127.0.0.1: the first connection is refused there
  ASSERT_TRUE(completes(first));
  close_every_connection();
  EXPECT_EQ(reached("held.rtconn.test"), asio::ip::make_address("127.0.0.9"));
}

// ConnectionManagerOptions::dns_cache_max_ttl caps a TTL; zero keeps nothing.
TEST_F(KeptAnswers, TheLongestKeptIsAnOption) {
  for (const auto cap : {10s, 0s}) {
    ConnectionManagerOptions options = client->options();
    options.dns_cache_max_ttl = cap;
    client = std::make_unique<RealTimeClientConnectionManager>(io.get_executor(), options);
    const std::string host = cap > 0s ? "capped.rtconn.test" : "unkept.rtconn.test";
    answer(host);
    EXPECT_FALSE(send_and_close(host));
    clock->advance(cap > 0s ? cap - 1s : 0s);
    EXPECT_FALSE(send_and_close(host));
    EXPECT_EQ(times_asked(host + " A"), cap > 0s ? 1 : 2);
    clock->advance(1s);
    EXPECT_FALSE(send_and_close(host));
    EXPECT_EQ(times_asked(host + " A"), cap > 0s ? 2 : 3);
  }
}

// The resolver's configuration is followed when it changes, as glibc follows resolv.conf: here
// its search list, which decides the names asked (the servers come from the same read).
class NameLookupConfiguration : public NameLookup {
 protected:
  void SetUp() override {
    NameLookup::SetUp();
    ::unsetenv("LOCALDOMAIN");  // it would win over the file's search list
    directory =
        std::filesystem::temp_directory_path() / ("rtconn-resolv-" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory);
    configuration = directory / "resolv.conf";
    write_configuration("one.rtconn.test");
    ConnectionManagerOptions options = client->options();
    options.resolver_configuration = configuration;
    client = std::make_unique<RealTimeClientConnectionManager>(io.get_executor(), options);
  }
  void TearDown() override {
    client.reset();
    test::drain(io);
    std::filesystem::remove_all(directory);
  }

  // Written beside it and renamed over it, as resolvconf and DHCP clients do.
  void write_configuration(const std::string& search) {
    const auto next = directory / "resolv.conf.next";
    std::ofstream(next) << "search " << search << "\n";
    std::filesystem::rename(next, configuration);
  }

  // Every name under rtconn.test is 127.0.0.1 (no AAAA), but `held` until released.
  void answer_all_but(const std::string* held) {
    dns.set_policy(
        [held](const std::string& name, std::uint16_t type) -> std::optional<std::vector<Bytes>> {
          if (held != nullptr && name == *held) return std::nullopt;
          if (!name.ends_with(".rtconn.test")) return std::nullopt;
          return type == type_a ? std::vector<Bytes>{a_record("127.0.0.1")} : std::vector<Bytes>{};
        });
  }

  test::CompletionRecordPtr send_to(const std::string& host) {
    auto outcome = make_record();
    client->async_send({host, server_port(), TransportType::Tcp, {}}, make_request("OPTIONS"),
                       record(outcome));
    return outcome;
  }

  // Sends to "slow", whose query (slow.one.rtconn.test) is left unanswered, then changes the
  // search list to two.rtconn.test.
  test::CompletionRecordPtr send_held_then_change() {
    answer_all_but(&slow_name);
    auto outcome = send_to("slow");
    EXPECT_TRUE(run_until(io, [&] { return was_asked("slow.one.rtconn.test A"); }));
    write_configuration("two.rtconn.test");
    return outcome;
  }

  const std::string slow_name = "slow.one.rtconn.test";
  std::filesystem::path directory;
  std::filesystem::path configuration;
};

TEST_F(NameLookupConfiguration, IsReadAgainWhenItChanges) {
  answer_all_but(nullptr);
  const auto before = send_to("pbx");
  ASSERT_TRUE(completes(before));
  EXPECT_FALSE(before->ec) << before->ec.message();
  EXPECT_TRUE(was_asked("pbx.one.rtconn.test A"));

  write_configuration("two.rtconn.test");
  const auto after = send_to("sbc");
  ASSERT_TRUE(completes(after));
  EXPECT_FALSE(after->ec) << after->ec.message();
  EXPECT_TRUE(was_asked("sbc.two.rtconn.test A"));
  EXPECT_FALSE(was_asked("sbc.one.rtconn.test A"));
}

// What the servers before answered is forgotten: the same name is asked again, here under the
// new search list.
TEST_F(NameLookupConfiguration, ForgetsTheAnswersKept) {
  answer_all_but(nullptr);
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(completes(send_to("pbx")));
    close_every_connection();
  }
  EXPECT_EQ(times_asked("pbx.one.rtconn.test A"), 1);  // kept, until:

  write_configuration("two.rtconn.test");
  const auto after = send_to("pbx");
  ASSERT_TRUE(completes(after));
  EXPECT_FALSE(after->ec) << after->ec.message();
  EXPECT_TRUE(was_asked("pbx.two.rtconn.test A"));
}

// An answer to a query sent on the settings before a change is handed to its waiters but not
// kept: what the servers before say (here: 127.0.0.2) must not outlast the change.
TEST_F(NameLookupConfiguration, AnAnswerFromTheServersBeforeIsNotKept) {
  const auto slow = send_held_then_change();
  ASSERT_TRUE(completes(send_to("slow")));  // slow.two.rtconn.test: 127.0.0.1, kept

  dns.set_policy(
      [](const std::string& name, std::uint16_t type) -> std::optional<std::vector<Bytes>> {
        if (name != "slow.one.rtconn.test") return std::nullopt;
        return type == type_a ? std::vector<Bytes>{a_record("127.0.0.2")} : std::vector<Bytes>{};
      });
  ASSERT_TRUE(completes(slow));  // to 127.0.0.2, where nothing listens
  close_every_connection();
  const auto again = send_to("slow");
  ASSERT_TRUE(completes(again));
  EXPECT_FALSE(again->ec) << again->ec.message();
}

// The settings a query was sent with stay its own: one still unanswered when the file changes
// is answered on them rather than ended, while the same name asked again does not join it (its
// server may be what changed) but goes out on the new settings.
TEST_F(NameLookupConfiguration, AQueryUnderWayFinishesOnTheSettingsItWasSentWith) {
  const auto slow = send_held_then_change();
  const auto fast = send_to("fast");
  ASSERT_TRUE(completes(fast));
  EXPECT_FALSE(fast->ec) << fast->ec.message();
  EXPECT_TRUE(was_asked("fast.two.rtconn.test A"));
  EXPECT_EQ(slow->calls, 0);
  // The pool opens a second connection (it is not full), so the host is looked up again.
  const auto again = send_to("slow");
  ASSERT_TRUE(completes(again));
  EXPECT_FALSE(again->ec) << again->ec.message();
  EXPECT_TRUE(was_asked("slow.two.rtconn.test A"));

  answer_all_but(nullptr);  // the query kept waiting is answered now
  ASSERT_TRUE(completes(slow));
  EXPECT_FALSE(slow->ec) << slow->ec.message();
}

}  // namespace
}  // namespace rtconn
