#pragma once
// A RealTimeConnection over a ByteStream: reads and frames SIP, keeps a bounded write queue, and
// runs its time-outs. Knows nothing of pools or managers beyond ConnectionObserver.

#include <atomic>
#include <chrono>
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>

#include "connection/connect_attempts.hpp"
#include "connection/connection_observer.hpp"
#include "connection/keep_alive_schedule.hpp"
#include "connection/ring_queue.hpp"
#include "connection/single_writer_counter.hpp"
#include "dns/server_locator.hpp"
#include "rtconn/clock.hpp"
#include "rtconn/real_time_connection.hpp"
#include "sip/message_limits.hpp"
#include "sip/stream_framer.hpp"
#include "stream/byte_stream.hpp"

namespace rtconn::connection {

struct ConnectionSettings {
  /// The manager's own loops, when it runs on them (null on an application's executor): true
  /// once they are retired, and a share in their io_contexts, which the connection's socket and
  /// timers and the locator's were made on. First, so the rest is destroyed before it.
  std::shared_ptr<const std::atomic<bool>> loops_retired;
  sip::FramerLimits framer;
  sip::MessageLimits message_limits;
  std::chrono::milliseconds idle_timeout{0};                // 0: never
  std::chrono::milliseconds new_connection_timeout{0};      // incoming only; 0: never
  std::chrono::milliseconds connect_timeout{0};             // outgoing only; 0: never
  std::chrono::milliseconds message_completion_timeout{0};  // 0: never
  std::chrono::milliseconds shutdown_timeout{0};  // bounds the drain a peer's end begins; 0: none
  std::size_t max_write_queue_bytes = 0;
  bool wait_when_queue_full = false;  // hold sends that do not fit instead of failing them
  int throttling_high_mark = INT_MAX;
  int throttling_low_mark = INT_MAX;
  bool keep_alive_counts_as_activity = false;
  std::chrono::milliseconds keep_alive_interval{0};  // outgoing only; 0: no pings sent
  std::chrono::milliseconds keep_alive_pong_timeout{0};
  std::shared_ptr<Clock> clock;
  std::shared_ptr<dns::ServerLocator> locator;  // outgoing only: where a host name leads
};

/// Where an outgoing connection goes.
struct ConnectTarget {
  std::string host;
  std::uint16_t port = 0;  // 0: none given, so the host's SRV records say (RFC 3263)
  /// Which of the host's addresses to try first, counted round them (the others follow in the
  /// resolver's order): how a pool spreads its connections over a host's addresses.
  std::size_t first_address = 0;
  /// SRV targets of one priority drawn by weight (RFC 2782); off, the heaviest first.
  bool load_balancing = true;
};

class StreamConnection final : public RealTimeConnection {
  struct Passkey {};

 public:
  /// Where the connection's handlers run, one at a time: a strand, or a loop with one thread.
  using Executor = asio::any_io_executor;

  /// A connection the peer opened; `stream`'s socket is connected and bound to `executor`.
  /// `local` and `remote` are its endpoints, as the accept found them.
  static std::shared_ptr<StreamConnection> make_incoming(
      std::uint64_t id, TransportType transport, Executor executor,
      std::unique_ptr<stream::ByteStream> stream, IpEndpoint local, IpEndpoint remote,
      std::shared_ptr<const ConnectionSettings> settings,
      std::weak_ptr<ConnectionObserver> observer);
  /// A connection to `target`, made when `start` is called; sends wait until it is ready.
  static std::shared_ptr<StreamConnection> make_outgoing(
      std::uint64_t id, TransportType transport, Executor executor,
      std::unique_ptr<stream::ByteStream> stream, ConnectTarget target,
      std::shared_ptr<const ConnectionSettings> settings,
      std::weak_ptr<ConnectionObserver> observer, std::weak_ptr<ConnectionPool> pool);

  StreamConnection(Passkey, std::uint64_t id, TransportType transport, bool incoming,
                   std::weak_ptr<ConnectionPool> pool, Executor executor,
                   std::unique_ptr<stream::ByteStream> stream, ConnectTarget target,
                   std::shared_ptr<const ConnectionSettings> settings,
                   std::weak_ptr<ConnectionObserver> observer);

  /// Begins connecting (outgoing) or reading (incoming).
  void start();
  /// Incoming: arms the connection's time-outs and runs `then` on its strand once the peer has
  /// sent something (or ended its side), unless the connection closed meanwhile; a TLS
  /// handshake slot is taken only then, so a peer that connects and stays silent holds none.
  void await_first_bytes(detail::UniqueFunction<void()> then);
  /// Closes with `reason` (e.g. errc::shutdown): queued sends fail with it.
  void close(std::error_code reason);
  /// Takes no new requests, writes what is queued and the answers to the requests the
  /// application holds, ends its side and closes when the peer ends its own, with `reason`;
  /// closes with `reason` at `deadline` from now whatever is left.
  void drain(std::error_code reason, std::chrono::milliseconds deadline);
  /// Starts reading a connection its observer held back in `on_ready`.
  void resume_reading();
  /// Counts an incoming request as outstanding, until `end_transaction`.
  void begin_transaction();
  /// The request counted by `begin_transaction` was answered (or dropped); may resume reading.
  void end_transaction();
  /// Whether `observer` is the owner this connection reports to (its manager).
  bool reports_to(const ConnectionObserver* observer) const noexcept {
    return observer_.lock().get() == observer;
  }
  /// A request sent on this connection waits for its response (PendingRequests): when it
  /// closes, its waiting requests are failed. Connections that never sent one skip that scan.
  void expect_responses() noexcept { expects_responses_.store(true, std::memory_order_release); }
  bool expects_responses() const noexcept {
    return expects_responses_.load(std::memory_order_acquire);
  }

  std::error_code close_reason() const override;
  /// The stream's own words for why TLS failed, if it did.
  std::string failure_detail() const;
  IpEndpoint local_endpoint() const override;
  IpEndpoint remote_endpoint() const override;
  ConnectionCounters counters() const override;
  std::optional<TlsSessionInfo> tls_session() const override;
  std::size_t pending_sends() const override;
  std::chrono::milliseconds connection_timeout() const override;
  void set_connection_timeout(std::chrono::milliseconds timeout) override;
  int outstanding_requests() const override;
  bool is_connection_throttled() const override;
  int connection_throttling_high_mark() const override;
  int connection_throttling_low_mark() const override;
  void set_connection_throttling_marks(int high_mark, int low_mark) override;
  /// Records the allowed domain that admitted the peer (see TlsSessionInfo).
  void set_matching_domain_name(std::string domain);
  void disconnect() override;
  void start_send_serialized(std::string wire, detail::Completion<std::error_code> done,
                             WhenQueueFull when_full) override;
  /// The connection's strand; once its manager's loops are retired, a system thread's.
  asio::any_io_executor completion_executor() const override;

 protected:
  void on_unreferenced() noexcept override;

 private:
  struct PendingWrite {
    std::string bytes;
    detail::Completion<std::error_code> done;  // empty for the connection's own writes (pongs)
  };
  struct RecycledWrites;  // the thread's lists of finished writes, kept between writes

  std::shared_ptr<StreamConnection> self() {
    return std::static_pointer_cast<StreamConnection>(shared_from_this());
  }

  /// Whether the manager's own loops this connection runs on were retired with their manager:
  /// nothing posted to them would ever run.
  bool loop_retired() const noexcept {
    return settings_->loops_retired && settings_->loops_retired->load(std::memory_order_acquire);
  }
  // Runs `work` on the strand, at once when already there; drops it once the loop is retired.
  template <class Work>
  void on_strand(Work&& work) {
    if (!loop_retired()) asio::dispatch(executor_, std::forward<Work>(work));
  }

  // The one transition function: every state change goes through here.
  void transition(ConnectionState next, std::error_code reason = {});

  void record_endpoints();
  void connect();
  /// Looks the host's servers up (`later` null), or the next of them (`later`: what the last
  /// lookup left), and connects to what it gives.
  void locate(std::shared_ptr<dns::Lookup> later, std::error_code last_failure);
  // Tries the next of the host's addresses; `last_failure` is what the connect fails with when
  // none is left.
  void connect_next(std::error_code last_failure);
  void on_connected(std::error_code ec);
  void read();
  void on_read(std::error_code ec, std::size_t bytes);
  // Grows or compacts read_buffer_ so a read has room after read_end_.
  void make_room_to_read();
  // Input may be there: reads it, into the thread's scratch buffer when nothing is kept.
  void on_readable(std::error_code ec);
  // Moves what framing left of the scratch input into read_buffer_.
  void keep_unconsumed_input();
  // Frames and handles what the read buffer holds; false when the connection must stop reading.
  bool process_input();
  // The framing loop of process_input; counts keep-alives into `keep_alives`.
  bool frame_input(std::uint64_t& keep_alives);
  void handle_message(const sip::Frame& frame);
  // Answers a request the connection itself refuses (400, 413, 503); responses and ACKs get
  // nothing. `extra_headers` as SipMessage::serialize_response_to takes them.
  void answer(const SipMessage& request, int status, std::string_view reason,
              std::string_view extra_headers = {});
  // Draining: a request is refused 503, while the drain still writes.
  void refuse_while_draining(std::string_view bytes);
  // A message refused by its header section (too large, or its framing lost): a request is
  // answered `status`, a response rejected with `error`.
  void refuse_header_section(std::string_view header_section, int status, std::string_view reason,
                             std::error_code error);
  // A response the connection will not pass on: what waits for it fails with `reason` at once.
  void reject_response(SipMessage response, std::error_code reason);
  // Answers a request that does not parse, from what of it does (sip::salvage_request): 505
  // for another SIP version, else `status`; nothing when its Via, From, To, Call-ID or CSeq is
  // lost, or it is no request.
  void answer_unparseable(std::string_view bytes, int status, std::string_view reason);
  // False when it did not take the bytes (then `done` has completed with why). The
  // connection's own writes (pongs, 400/413) pass no `done` and `refuse`.
  bool enqueue(std::string bytes, detail::Completion<std::error_code> done,
               WhenQueueFull when_full);
  // Completes a send that never entered the queue (closed, or no room).
  void complete_unqueued(detail::Completion<std::error_code> done, std::error_code reason);
  // The peer ended its side of the stream (a TCP FIN, a TLS close_notify).
  void on_peer_end();
  void write(stream::ByteStream::Completion completion = stream::ByteStream::Completion::posted);
  void on_written(std::error_code ec, std::size_t count);
  // Draining and nothing left to write or answer: finish_drain.
  void finish_drain_when_done();
  // Half-closes and waits for the peer to end its side.
  void finish_drain();
  // Moves waiting entries into the writable part of the queue while they fit.
  void admit_waiting();
  void fail_queued(std::error_code reason);
  // Reads again after throttling, once the outstanding requests are down to the low mark.
  void unthrottle();
  void arm_timer();
  void on_timer();
  // Pings, or judges the last ping's pong, when due (RFC 5626 4.4.1).
  void keep_alive_step(Clock::time_point now);

  // First: destroyed last, as what it holds (the loops) must outlive the socket and timer.
  const std::shared_ptr<const ConnectionSettings> settings_;  // idle_timeout_ms_ overrides idle
  Executor executor_;  // one handler at a time: "the strand" in the comments below
  std::unique_ptr<stream::ByteStream> stream_;
  // Outgoing only; by pointer, as the settings, shared by every connection made under them, so
  // the many incoming connections pay 16 bytes for both.
  const std::unique_ptr<const ConnectTarget> target_;
  const std::weak_ptr<ConnectionObserver> observer_;
  std::unique_ptr<Timer> timer_;
  std::unique_ptr<ConnectAttempts> attempts_;      // outgoing, until the TCP connect succeeds
  std::unique_ptr<KeepAliveSchedule> keep_alive_;  // outgoing, once ready, when pings are asked
  sip::StreamFramer framer_;

  // Strand-only state.
  std::vector<char> read_buffer_;        // empty while a readiness stream waits with nothing kept
  const char* scratch_input_ = nullptr;  // the thread's scratch buffer while input is framed there
  std::size_t read_begin_ = 0;           // first unconsumed byte
  std::size_t read_end_ = 0;             // one past the last byte read
  RingQueue<PendingWrite> queue_;
  std::size_t in_flight_ = 0;  // entries at the front of queue_ being written now
  // Entries at the back of queue_ held until the bytes before them leave room (the wait
  // action); they are not in queued_bytes_ and are not written yet.
  std::size_t waiting_ = 0;
  std::size_t waiting_bytes_ = 0;
  std::vector<asio::const_buffer> gather_;
  std::size_t queued_bytes_ = 0;  // in the writable part of queue_
  std::error_code drain_reason_;
  std::optional<Clock::time_point> drain_deadline_;
  // The flags side by side: every idle connection pays for padding between them.
  bool pong_queued_ = false;  // a keep-alive pong is queued and not written yet
  bool reading_ = false;
  // Input is being framed: what it is answered with waits, to leave in one write at the end.
  bool corked_ = false;
  bool held_ = false;             // the observer has not let it read yet
  bool peer_ended_ = false;       // the peer ended its side: nothing more to read
  bool drain_requested_ = false;  // drain as soon as the connection is ready
  bool write_shut_ = false;       // drained and half-closed: waiting for the peer's end
  bool valid_message_seen_ = false;
  Clock::time_point created_;
  Clock::time_point last_activity_;
  std::optional<Clock::time_point> partial_since_;  // a message has begun and is not complete
  Clock::time_point armed_for_ = Clock::time_point::max();  // the timer's deadline

  // Read from any thread.
  mutable std::mutex status_mutex_;  // guards everything below
  std::error_code close_reason_;
  std::string failure_detail_;
  std::unique_ptr<TlsSessionInfo> tls_session_;
  IpEndpoint local_;
  IpEndpoint remote_;

  // Strand-written, read from any thread by counters(): field by field, not as one snapshot.
  struct {
    SingleWriterCounter messages_received;
    SingleWriterCounter messages_sent;
    SingleWriterCounter bytes_received;
    SingleWriterCounter bytes_sent;
    SingleWriterCounter keep_alives_received;
    SingleWriterCounter bad_messages_received;
  } counters_;

  // Sends accepted by start_send_serialized and not yet completed: counted before they reach the
  // strand, so a stop() right after async_send sees them.
  std::atomic<std::size_t> pending_sends_{0};
  std::atomic<std::chrono::milliseconds::rep> idle_timeout_ms_;
  std::atomic<int> outstanding_{0};
  std::atomic<int> throttling_high_;
  std::atomic<int> throttling_low_;
  std::atomic<bool> throttled_{false};  // written on the strand only
  std::atomic<bool> expects_responses_{false};
};

}  // namespace rtconn::connection
