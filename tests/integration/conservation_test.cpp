// Conservation: every message accepted by async_send completes exactly once, either delivered to
// the socket (empty error) or with an error naming why, while the peer is killed and restarted at
// fixed-seed random points; and what the peer itself counts agrees with "delivered".
//
// The invariants, precisely (a "delivered" message is one whose completion carried no error):
//   * every completion runs exactly once, and sent == delivered + failed;
//   * every failure carries an error of condition connection_lost (the peer closed or reset, the
//     listener was down) or resource_limit (the bounded write queue was full while the peer
//     stalled) — nothing else;
//   * a write cut short (the connection closed while a gathered write was part-way) reports the
//     messages whose bytes went into the kernel whole as delivered, the rest as failed;
//   * the peer never receives a message twice, nor one whose send was reported failed;
//   * GracefulKills: the peer ends connections only gracefully — it half-closes (FIN), keeps
//     reading until the client's FIN, and accepts every connection the kernel completed before
//     it closes its listener — so each byte the client's kernel took is read by the peer, and
//     the set of messages the peer received EQUALS the set reported delivered;
//   * AbruptKills: the peer also resets (SO_LINGER 0) and drops its accept queue, so bytes already
//     in a kernel buffer may be lost after the client was told "delivered" (that is what
//     delivered to the socket means on TCP): received must be a SUBSET of delivered;
//   * in both, once the faults stop, the same manager delivers the next 1,000 messages and the
//     peer receives every one of them (it keeps serving; no pool is left wedged).
// Plus a deterministic case for the edge the random run reaches only sometimes: a gathered write
// cut short by the peer's close after some whole messages went into the kernel.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <ostream>
#include <random>
#include <set>
#include <thread>

#include <asio/bind_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include "../support/test_support.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"

namespace rtconn::test {
namespace {

using asio::ip::tcp;

/// 127.x.y.1 with x.y from the process id: distinct per test process, never 127.0.0.1.
asio::ip::address_v4 own_loopback_address() {
  const auto pid = static_cast<unsigned>(::getpid());
  return asio::ip::address_v4((127u << 24) | ((pid % 250 + 1) << 16) | ((pid / 250 % 256) << 8) |
                              1);
}

/// A raw TCP peer on its own io_context and thread that counts each complete SIP message it reads
/// (by its `X-Seq` header) and can be killed in the ways the tests need. Every control call runs
/// on the peer's thread and returns once done (bounded).
class CountingPeer {
 public:
  explicit CountingPeer(int receive_buffer = 64 * 1024)
      : receive_buffer_(receive_buffer), work_(asio::make_work_guard(io_)) {
    listen(0);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~CountingPeer() {
    control([this] {
      std::error_code ignored;
      acceptor_.close(ignored);
      for (auto& [id, c] : open_) c->socket.close(ignored);
      open_.clear();
    });
    work_.reset();
    io_.stop();
    thread_.join();
  }
  CountingPeer(const CountingPeer&) = delete;
  CountingPeer& operator=(const CountingPeer&) = delete;

  std::uint16_t port() const { return port_; }
  /// A loopback address of this peer's own: a restart rebinds its port there, where no other
  /// socket of the machine (all on 127.0.0.1) can have taken that port in the meantime.
  const asio::ip::address_v4& address() const { return address_; }

  /// Graceful kill: shuts down the sending side of every connection (the client sees FIN) and
  /// reads on until the client's own FIN, so every byte the client's kernel took is counted.
  void half_close_all() {
    control([this] {
      for (auto& [id, c] : open_) {
        std::error_code ignored;
        c->socket.shutdown(tcp::socket::shutdown_send, ignored);
      }
      {
        std::lock_guard lock(mutex_);
        live_remotes_.clear();
      }
      paused_ = false;
      for (auto& [id, c] : open_) read(c);
    });
  }
  /// Abrupt kill: every connection is reset (SO_LINGER 0); unread bytes are lost.
  void reset_all() {
    control([this] {
      for (auto& [id, c] : open_) {
        std::error_code ignored;
        c->socket.set_option(asio::socket_base::linger(true, 0), ignored);
        c->socket.close(ignored);
      }
      open_.clear();
      paused_ = false;
      std::lock_guard lock(mutex_);
      open_remotes_.clear();
      live_remotes_.clear();
    });
  }
  /// Closes the listener. With `accept_backlog`, first takes every connection the kernel has
  /// completed (non-blocking accept until EAGAIN) so none is reset with unread data in it.
  void stop_listening(bool accept_backlog) {
    control([this, accept_backlog] {
      std::error_code ec;
      if (accept_backlog) {
        acceptor_.non_blocking(true, ec);
        for (;;) {
          tcp::socket socket(io_);
          acceptor_.accept(socket, ec);
          if (ec) break;
          adopt(std::move(socket));
        }
      }
      acceptor_.close(ec);
      listening_ = false;
    });
  }
  void start_listening() {
    control([this] { listen(port_); });
  }
  /// Stops reading (a busy peer: the client's socket buffers fill up) until `resume` or a kill.
  void pause() {
    control([this] { paused_ = true; });
  }
  void resume() {
    control([this] {
      paused_ = false;
      for (auto& [id, c] : open_) read(c);
    });
  }

  /// The sequence numbers of the complete messages read so far, in arrival order.
  std::vector<std::uint64_t> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::size_t received_count() const {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  /// Messages that did not parse, or had no X-Seq: must stay 0.
  std::size_t corrupt() const {
    std::lock_guard lock(mutex_);
    return corrupt_;
  }
  /// Connections whose stream ended inside a message (possible only after an abrupt close).
  std::size_t truncated() const {
    std::lock_guard lock(mutex_);
    return truncated_;
  }
  std::size_t accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  /// Remote endpoints of the connections the peer holds open now (half-closed ones included).
  std::set<IpEndpoint> open_remotes() const {
    std::lock_guard lock(mutex_);
    return open_remotes_;
  }
  /// Remote endpoints of the open connections the peer has not half-closed.
  std::set<IpEndpoint> live_remotes() const {
    std::lock_guard lock(mutex_);
    return live_remotes_;
  }

 private:
  struct Connection {
    explicit Connection(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    IpEndpoint remote;
    std::uint64_t id = 0;
    std::string buffer;
    std::size_t begin = 0;  // first unparsed byte of buffer
    bool reading = false;
    std::array<char, 64 * 1024> chunk;
  };
  using ConnectionPtr = std::shared_ptr<Connection>;

  template <class F>
  void control(F f) {
    std::promise<void> done;
    auto finished = done.get_future();
    asio::post(io_, [&] {
      f();
      done.set_value();
    });
    if (finished.wait_for(10s) != std::future_status::ready) {
      // The posted lambda refers to this frame: never return from under it.
      std::fprintf(stderr, "the peer's thread did not run a control call within 10 s\n");
      std::abort();
    }
  }

  void listen(std::uint16_t port) {
    const tcp::endpoint where(address_, port);
    acceptor_.open(where.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    // Inherited by accepted sockets: a fixed, small receive window, so a paused peer makes the
    // client's writes stall within a few megabytes.
    acceptor_.set_option(asio::socket_base::receive_buffer_size(receive_buffer_));
    acceptor_.bind(where);
    acceptor_.listen(4096);
    if (port == 0) port_ = acceptor_.local_endpoint().port();  // written before the thread starts
    listening_ = true;
    accept();
  }

  void accept() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket socket) {
      if (ec) return;  // closed by stop_listening (or the destructor)
      adopt(std::move(socket));
      if (listening_) accept();
    });
  }

  void adopt(tcp::socket socket) {
    auto c = std::make_shared<Connection>(std::move(socket));
    std::error_code ignored;
    const auto remote = c->socket.remote_endpoint(ignored);
    c->remote = {remote.address(), remote.port()};
    c->id = next_id_++;
    open_.emplace(c->id, c);
    {
      std::lock_guard lock(mutex_);
      ++accepted_;
      open_remotes_.insert(c->remote);
      live_remotes_.insert(c->remote);
    }
    read(c);
  }

  void read(const ConnectionPtr& c) {
    if (c->reading || paused_ || !open_.contains(c->id)) return;
    c->reading = true;
    c->socket.async_read_some(asio::buffer(c->chunk), [this, c](std::error_code ec, std::size_t n) {
      c->reading = false;
      if (!ec) {
        c->buffer.append(c->chunk.data(), n);
        parse(*c);
        return read(c);
      }
      // End of stream (the client's FIN after ours), a reset, or our own close.
      if (c->begin < c->buffer.size()) {
        std::lock_guard lock(mutex_);
        ++truncated_;
      }
      finish(c);
    });
  }

  void finish(const ConnectionPtr& c) {
    std::error_code ignored;
    c->socket.close(ignored);
    if (open_.erase(c->id) == 0) return;
    std::lock_guard lock(mutex_);
    open_remotes_.erase(c->remote);
    live_remotes_.erase(c->remote);
  }

  // Splits the buffer into messages by Content-Length, independently of the library's framer.
  void parse(Connection& c) {
    for (;;) {
      const std::string_view rest(c.buffer.data() + c.begin, c.buffer.size() - c.begin);
      const auto end = rest.find("\r\n\r\n");
      if (end == std::string_view::npos) break;
      const auto header = rest.substr(0, end + 4);
      std::size_t body = 0;
      if (const auto at = header.find("\r\nContent-Length: "); at != std::string_view::npos) {
        const auto digits = header.substr(at + 18);
        std::from_chars(digits.data(), digits.data() + digits.size(), body);
      }
      if (rest.size() < header.size() + body) break;
      std::error_code ec;
      const auto message = SipMessage::parse(rest.substr(0, header.size() + body), ec);
      std::uint64_t seq = 0;
      const auto value = ec ? std::nullopt : message.header("X-Seq");
      const bool ok =
          value &&
          std::from_chars(value->data(), value->data() + value->size(), seq).ec == std::errc{};
      {
        std::lock_guard lock(mutex_);
        if (ok) {
          received_.push_back(seq);
        } else {
          ++corrupt_;
        }
      }
      c.begin += header.size() + body;
    }
    if (c.begin > 1024 * 1024 || c.begin == c.buffer.size()) {
      c.buffer.erase(0, c.begin);
      c.begin = 0;
    }
  }

  const int receive_buffer_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  tcp::acceptor acceptor_{io_};
  std::uint16_t port_ = 0;
  const asio::ip::address_v4 address_ = own_loopback_address();
  std::thread thread_;

  // Peer-thread state.
  std::map<std::uint64_t, ConnectionPtr> open_;
  std::uint64_t next_id_ = 1;
  bool paused_ = false;
  bool listening_ = false;

  mutable std::mutex mutex_;  // guards everything below
  std::vector<std::uint64_t> received_;
  std::size_t corrupt_ = 0;
  std::size_t truncated_ = 0;
  std::size_t accepted_ = 0;
  std::set<IpEndpoint> open_remotes_;
  std::set<IpEndpoint> live_remotes_;
};

/// A MESSAGE carrying its sequence number, with a body of `body_bytes`.
SipMessage numbered_message(std::uint64_t seq, std::size_t body_bytes) {
  auto m = make_request("MESSAGE", "sip:peer@127.0.0.1");
  m.add_header("X-Seq", std::to_string(seq));
  m.set_body(std::string(body_bytes, static_cast<char>('a' + seq % 26)), "text/plain");
  return m;
}

enum class Fault {
  kill,        // graceful: half-close every connection / abrupt: reset every connection
  stall_kill,  // pause reading until the senders' buffers fill, then kill as above
  stall,       // pause reading until the senders' buffers fill, then resume
  restart,     // close the listener, kill every connection, stay down a while, listen again
};

const char* to_string(Fault f) {
  switch (f) {
    case Fault::kill:
      return "kill";
    case Fault::stall_kill:
      return "stall+kill";
    case Fault::stall:
      return "stall";
    case Fault::restart:
      return "restart";
  }
  return "?";
}

// Where the client manager runs: on the test's io_context (one thread, the test's), or on an
// event loop of its own with two threads, so its connections' strands, pool selection and
// closes really run concurrently. Completions run on the test's io_context either way.
enum class ClientLoop { test_io_context, own_two_threads };

void PrintTo(ClientLoop loop, std::ostream* out) {
  *out << (loop == ClientLoop::test_io_context ? "test io_context" : "own two threads");
}

class ConservationFixture : public testing::Test {
 protected:
  static constexpr std::size_t message_count = 20'000;
  static constexpr std::size_t recovery_count = 1'000;
  static constexpr std::size_t window = 512;  // sends outstanding at most
  static constexpr int pool_size = 4;

  // First: outlives the manager and its sockets.
  asio::io_context io;
  std::unique_ptr<CountingPeer> peer;
  std::unique_ptr<RealTimeClientConnectionManager> client;
  PoolKey key;
  std::vector<CompletionRecordPtr> records;
  std::size_t completed = 0;  // completions seen (by the test's own counter)
  std::size_t calls_total = 0;

  ~ConservationFixture() override {
    client.reset();
    drain(io);
    peer.reset();
  }

  void SetUp() override {
    peer = std::make_unique<CountingPeer>();
    ConnectionManagerOptions options;
    options.default_maximum_number_of_connections_per_pool = pool_size;
    options.connect_timeout = 5s;
    make_client(options);
    key = PoolKey{peer->address().to_string(), peer->port(), TransportType::Tcp, {}};
  }

  virtual ClientLoop client_loop() const { return ClientLoop::test_io_context; }

  void make_client(ConnectionManagerOptions options) {
    if (client_loop() == ClientLoop::own_two_threads) {
      options.event_loop_threads = 2;
      client = std::make_unique<RealTimeClientConnectionManager>(options);
    } else {
      client = std::make_unique<RealTimeClientConnectionManager>(io.get_executor(), options);
    }
  }

  std::size_t outstanding() const { return records.size() - completed; }

  void send(std::size_t body_bytes) {
    const auto seq = records.size();
    auto outcome = make_record();
    records.push_back(outcome);
    client->async_send(key, numbered_message(seq, body_bytes),
                       asio::bind_executor(io, [this, outcome](std::error_code ec) {
                         if (++outcome->calls == 1) ++completed;
                         ++calls_total;
                         outcome->ec = ec;
                       }));
  }

  // Runs the test's io_context until at most `limit` sends are outstanding.
  bool wait_outstanding_at_most(std::size_t limit, std::chrono::seconds bound = 15s) {
    return run_until(
        io, [&] { return outstanding() <= limit; }, bound);
  }

  // Every client connection that is open is one the peer accepted and holds: nothing sits in the
  // kernel's accept queue, so closing the listener resets nothing that carried data.
  bool peer_holds_every_client_connection(bool live_only = false) {
    const auto held = live_only ? peer->live_remotes() : peer->open_remotes();
    for (const auto& pool : client->connection_pools()) {
      for (const auto& connection : pool->connections()) {
        const auto state = connection->state();
        if (state != ConnectionState::ready && state != ConnectionState::draining) continue;
        if (!held.contains(connection->local_endpoint())) return false;
      }
    }
    return true;
  }

  void kill(bool graceful) {
    if (graceful) {
      peer->half_close_all();
    } else {
      peer->reset_all();
    }
  }

  struct Tally {
    std::map<std::string, std::size_t> faults;
    std::map<std::string, std::size_t> failures;  // by error message
  };

  // Sends message_count through the pool while faults hit the peer at fixed-seed random points.
  void run_with_faults(bool graceful, std::uint32_t seed, Tally& tally) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> gap(150, 1200);
    std::uniform_int_distribution<int> percent(0, 99);
    std::uniform_int_distribution<std::size_t> small_body(0, 300);
    std::uniform_int_distribution<std::size_t> large_body(16 * 1024, 128 * 1024);
    std::uniform_int_distribution<std::size_t> downtime(20, 300);
    // While the peer stalls, the application sends big messages: the kernel buffers fill and
    // gathered writes stop part-way (and the bounded write queues fill: write_queue_full).
    std::uniform_int_distribution<std::size_t> stall_body(32 * 1024, 160 * 1024);

    std::size_t next_fault = gap(rng);
    std::optional<Fault> stalled;   // a stall in progress, and what ends it
    std::size_t stall_started = 0;  // sends made since the stall began
    std::size_t up_again_at = 0;    // the listener is down until this send (0: up)

    for (std::size_t i = 0; i < message_count; ++i) {
      if (up_again_at != 0 && i >= up_again_at) {
        peer->start_listening();
        up_again_at = 0;
      }
      if (i >= next_fault && !stalled && up_again_at == 0) {
        const int roll = percent(rng);
        const Fault fault = roll < 35   ? Fault::kill
                            : roll < 60 ? Fault::stall_kill
                            : roll < 75 ? Fault::stall
                                        : Fault::restart;
        ++tally.faults[to_string(fault)];
        switch (fault) {
          case Fault::kill:
            kill(graceful);
            break;
          case Fault::stall_kill:
          case Fault::stall:
            peer->pause();
            stalled = fault;
            stall_started = 0;
            break;
          case Fault::restart:
            if (graceful) {
              // Quiesce, so no connection is in the kernel's accept queue when it closes.
              ASSERT_TRUE(wait_outstanding_at_most(0)) << outstanding() << " sends outstanding";
              ASSERT_TRUE(run_until(io, [&] { return peer_holds_every_client_connection(); }))
                  << "the peer never accepted every client connection";
            }
            peer->stop_listening(graceful);
            kill(graceful);
            up_again_at = i + downtime(rng);
            break;
        }
        next_fault = i + gap(rng);
      }
      // A stall ends once the senders' buffers are full (the window is used up) or after a
      // while; kills at that moment cut gathered writes short.
      if (stalled && (outstanding() >= window - 1 || stall_started >= 600)) {
        if (*stalled == Fault::stall_kill) {
          kill(graceful);
        } else {
          peer->resume();
        }
        stalled.reset();
      }
      if (io.stopped()) io.restart();
      io.poll();  // keep the pipeline moving between sends
      ASSERT_TRUE(wait_outstanding_at_most(window - 1))
          << "sends stopped completing at #" << i << ": " << outstanding() << " outstanding";
      if (stalled) ++stall_started;
      send(stalled ? stall_body(rng) : percent(rng) < 8 ? large_body(rng) : small_body(rng));
    }
    if (stalled) kill(graceful);
    if (up_again_at != 0) peer->start_listening();
    peer->resume();
    ASSERT_TRUE(wait_outstanding_at_most(0)) << outstanding() << " sends never completed";
  }

  // After the faults: the same manager keeps delivering, and the peer gets all of it.
  void recover() {
    // Connections the last fault killed go first (they fail fast once they notice).
    ASSERT_TRUE(run_until(
        io, [&] { return peer_holds_every_client_connection(true); }, 10s))
        << "client connections the peer killed are still open 10 s later";
    const auto first = records.size();
    for (std::size_t i = 0; i < recovery_count; ++i) {
      ASSERT_TRUE(wait_outstanding_at_most(window - 1));
      send(200);
    }
    ASSERT_TRUE(wait_outstanding_at_most(0));
    std::size_t failed = 0;
    std::string first_error;
    for (std::size_t i = first; i < records.size(); ++i) {
      if (records[i]->ec) {
        if (failed++ == 0) first_error = records[i]->ec.message();
      }
    }
    EXPECT_EQ(failed, 0u) << "after the faults stopped, " << failed << " of " << recovery_count
                          << " sends still failed, first: " << first_error;
    ASSERT_TRUE(run_until(
        io,
        [&] {
          const auto got = peer->received();
          return std::count_if(got.begin(), got.end(), [&](auto s) { return s >= first; }) ==
                 static_cast<std::ptrdiff_t>(recovery_count);
        },
        10s))
        << "the peer did not receive every message sent after the faults";
  }

  struct Receipts {
    std::vector<int> times;        // how often the peer received each sequence number
    std::size_t out_of_range = 0;  // numbers never sent
  };

  static Receipts count_receipts(const std::vector<std::uint64_t>& got, std::size_t sent) {
    Receipts receipts{std::vector<int>(sent, 0), 0};
    for (const auto seq : got) {
      if (seq < sent) {
        ++receipts.times[seq];
      } else {
        ++receipts.out_of_range;
      }
    }
    return receipts;
  }

  struct Outcome {
    std::size_t ok = 0;
    std::size_t failed = 0;
    std::vector<char> delivered;  // by sequence number
  };

  Outcome check_completions(Tally& tally) {
    Outcome o;
    o.delivered.assign(records.size(), 0);
    std::size_t not_once = 0;
    std::size_t unexplained = 0;
    std::string unexplained_example;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& r = *records[i];
      if (r.calls != 1) ++not_once;
      if (!r.ec) {
        ++o.ok;
        o.delivered[i] = 1;
        continue;
      }
      ++o.failed;
      ++tally.failures[r.ec.message()];
      if (r.ec != condition::connection_lost && r.ec != condition::resource_limit) {
        if (unexplained++ == 0) {
          unexplained_example = r.ec.category().name() + std::string(":") +
                                std::to_string(r.ec.value()) + " " + r.ec.message();
        }
      }
    }
    EXPECT_EQ(not_once, 0u) << not_once << " sends did not complete exactly once";
    EXPECT_EQ(calls_total, records.size()) << "completions called in total";
    EXPECT_EQ(o.ok + o.failed, records.size());
    EXPECT_EQ(unexplained, 0u) << unexplained << " failures outside connection_lost and "
                               << "resource_limit, e.g. " << unexplained_example;
    return o;
  }

  static std::string describe(const Tally& t) {
    std::string text = "faults:";
    for (const auto& [name, n] : t.faults) text += " " + name + "=" + std::to_string(n);
    text += "; failures:";
    for (const auto& [name, n] : t.failures) text += " [" + name + "]=" + std::to_string(n);
    return text;
  }
};

class Conservation : public ConservationFixture, public testing::WithParamInterface<ClientLoop> {
 protected:
  ClientLoop client_loop() const override { return GetParam(); }
};

TEST_P(Conservation, GracefulKillsLoseNothing) {
  Tally tally;
  run_with_faults(true, 20240611, tally);
  if (HasFatalFailure()) return;
  recover();
  if (HasFatalFailure()) return;

  const auto o = check_completions(tally);
  // Everything delivered is read: wait for the peer to catch up, then let stray bytes land.
  run_until(
      io, [&] { return peer->received_count() >= o.ok; }, 10s);
  settle(io, 200ms);
  const auto got = peer->received();
  const auto [times, out_of_range] = count_receipts(got, records.size());
  std::size_t duplicated = 0, reported_failed_but_received = 0, delivered_but_lost = 0;
  std::uint64_t example_failed = 0, example_lost = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (times[i] > 1) ++duplicated;
    if (times[i] > 0 && !o.delivered[i] && reported_failed_but_received++ == 0) example_failed = i;
    if (times[i] == 0 && o.delivered[i] && delivered_but_lost++ == 0) example_lost = i;
  }
  RecordProperty("summary", describe(tally));
  // A connection the client closed in the middle of a write leaves a partial message on the
  // wire (the one reported failed); the peer discards it.
  std::printf(
      "[ conservation graceful ] sent %zu, delivered %zu, failed %zu, peer received %zu "
      "over %zu connections (%zu ended mid-message); %s\n",
      records.size(), o.ok, o.failed, got.size(), peer->accepted(), peer->truncated(),
      describe(tally).c_str());
  EXPECT_EQ(peer->corrupt(), 0u) << "messages the peer could not parse";
  EXPECT_EQ(out_of_range, 0u);
  EXPECT_EQ(duplicated, 0u) << "messages the peer received more than once";
  EXPECT_EQ(reported_failed_but_received, 0u)
      << "messages reported failed that the peer received whole, e.g. #" << example_failed << " ("
      << records[example_failed]->ec.message() << ")";
  EXPECT_EQ(delivered_but_lost, 0u)
      << "messages reported delivered that the peer never received, e.g. #" << example_lost;
  EXPECT_EQ(got.size(), o.ok) << "peer's count vs delivered";
  // The faults really happened and really cost something.
  EXPECT_GE(tally.faults.size(), 3u) << describe(tally);
  EXPECT_GT(o.failed, 0u);
  EXPECT_GT(peer->accepted(), static_cast<std::size_t>(pool_size) * 5);
}

TEST_P(Conservation, AbruptKillsNeverDuplicateOrDeliverAFailure) {
  Tally tally;
  run_with_faults(false, 4242, tally);
  if (HasFatalFailure()) return;
  recover();
  if (HasFatalFailure()) return;

  const auto o = check_completions(tally);
  settle(io, 200ms);
  const auto got = peer->received();
  const auto [times, out_of_range] = count_receipts(got, records.size());
  std::size_t duplicated = 0, reported_failed_but_received = 0, lost = 0;
  std::uint64_t example_failed = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (times[i] > 1) ++duplicated;
    if (times[i] > 0 && !o.delivered[i] && reported_failed_but_received++ == 0) example_failed = i;
    if (times[i] == 0 && o.delivered[i]) ++lost;
  }
  std::printf(
      "[ conservation abrupt ] sent %zu, delivered %zu, failed %zu, peer received %zu "
      "(%zu delivered into buffers the peer reset) over %zu connections; %s\n",
      records.size(), o.ok, o.failed, got.size(), lost, peer->accepted(), describe(tally).c_str());
  EXPECT_EQ(peer->corrupt(), 0u);
  EXPECT_EQ(out_of_range, 0u);
  EXPECT_EQ(duplicated, 0u) << "messages the peer received more than once";
  EXPECT_EQ(reported_failed_but_received, 0u)
      << "messages reported failed that the peer received whole, e.g. #" << example_failed << " ("
      << records[example_failed]->ec.message() << ")";
  EXPECT_LE(got.size(), o.ok);
  EXPECT_GE(tally.faults.size(), 3u) << describe(tally);
  EXPECT_GT(o.failed, 0u);
}

// The edge that decides "delivered": one gathered write of large messages stalls part-way
// because the peer does not read, then the client closes the connection and the peer reads
// everything. The messages whose bytes the kernel had taken whole must be reported delivered,
// since the peer gets them; only the one cut in the middle and those after it fail. (A peer
// that half-closes instead is still written to: that drains, it does not cut.) On the test's
// io_context only: there every send is queued before the connection's first write, so that
// write is one batch of 60 and is certain to stop part-way with whole messages behind it.
class StalledWrite : public ConservationFixture {
 protected:
  static constexpr std::size_t count = 60;

  // 60 x 256 KiB = 15 MiB queued, written 64 messages at a time: far more than the client's
  // send buffer (4 MiB at most here) and the peer's 64 KiB receive window can hold, so the
  // gathered write stops part-way; returns once it has.
  void stall_a_gathered_write() {
    ConnectionManagerOptions options;
    options.default_maximum_number_of_connections_per_pool = 1;
    options.max_write_queue_bytes = 32 * 1024 * 1024;  // all of it queued: one gathered write
    make_client(options);
    peer->pause();
    for (std::size_t i = 0; i < count; ++i) send(256 * 1024 - 400);
    // Wait until connected (the write is under way), then a moment more: the write is stuck in
    // the kernel's buffers.
    ASSERT_TRUE(run_until(io, [&] {
      const auto pools = client->connection_pools();
      return !pools.empty() && !pools[0]->connections().empty() &&
             pools[0]->connections()[0]->is_connected();
    }));
    settle(io, 300ms);
    ASSERT_EQ(completed, 0u) << "the sends completed before the peer read anything: the "
                                "gathered write did not stall, so this test proves nothing";
  }
};

using CutWrite = StalledWrite;

TEST_F(CutWrite, ReportsTheWholeMessagesItWroteAsDelivered) {
  ASSERT_NO_FATAL_FAILURE(stall_a_gathered_write());
  client->connection_pools().at(0)->connections().at(0)->disconnect();
  peer->resume();
  ASSERT_TRUE(wait_outstanding_at_most(0));
  Tally tally;
  const auto o = check_completions(tally);
  run_until(
      io, [&] { return peer->accepted() == 1 && peer->open_remotes().empty(); }, 10s);
  const auto got = peer->received();
  std::printf(
      "[ conservation cut write ] %zu sent, %zu delivered, %zu failed, peer received "
      "%zu whole\n",
      records.size(), o.ok, o.failed, got.size());
  EXPECT_GT(got.size(), 0u) << "the kernel took no whole message: the case was not reached";
  EXPECT_LT(got.size(), count) << "every message got through: the write was not cut short";
  EXPECT_EQ(got.size(), o.ok) << "the peer received " << got.size() << " whole messages but "
                              << o.ok << " were reported delivered";
  for (const auto seq : got) {
    ASSERT_LT(seq, records.size());
    EXPECT_FALSE(records[seq]->ec)
        << "#" << seq << " arrived whole but was reported failed: " << records[seq]->ec.message();
  }
}

// A peer that ends its side while the write is stalled, and goes on reading, gets everything.
TEST_F(StalledWrite, APeerThatHalfClosesStillReceivesEverySend) {
  ASSERT_NO_FATAL_FAILURE(stall_a_gathered_write());
  peer->half_close_all();
  ASSERT_TRUE(wait_outstanding_at_most(0));
  Tally tally;
  const auto o = check_completions(tally);
  EXPECT_EQ(o.ok, count) << describe(tally);
  EXPECT_TRUE(run_until(
      io, [&] { return peer->received().size() == count; }, 10s))
      << "the peer received " << peer->received().size() << " of " << count;
}

INSTANTIATE_TEST_SUITE_P(ClientLoops, Conservation,
                         testing::Values(ClientLoop::test_io_context, ClientLoop::own_two_threads),
                         [](const testing::TestParamInfo<ClientLoop>& param) {
                           return param.param == ClientLoop::test_io_context ? "OnTestIoContext"
                                                                             : "OnTwoLoopThreads";
                         });

}  // namespace
}  // namespace rtconn::test
