#include "connection/stream_connection.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/system_executor.hpp>

#include "common/recycled_buffers.hpp"
#include "rtconn/connection_manager_options.hpp"
#include "rtconn/errors.hpp"
#include "rtconn/tls_failure.hpp"
#include "sip/identifiers.hpp"
#include "sip/line_ends.hpp"
#include "sip/request_salvage.hpp"

namespace rtconn::connection {
namespace {

constexpr std::size_t initial_read_buffer = 4096;
// Enough to coalesce a burst of small responses into one writev without a huge iovec.
constexpr std::size_t max_gathered_writes = 64;
constexpr std::string_view keep_alive_ping = "\r\n\r\n";
constexpr std::string_view keep_alive_pong = "\r\n";

IpEndpoint to_ip_endpoint(const asio::ip::tcp::endpoint& e) {
  return {e.address(), e.port()};
}

bool has_required_request_headers(const SipMessage& request) {
  for (const auto* name : {"Via", "From", "To", "Call-ID", "CSeq"}) {
    if (!request.header(name)) return false;
  }
  return request.cseq().has_value();
}

}  // namespace

struct StreamConnection::RecycledWrites
    : detail::RecycledBuffers<std::vector<PendingWrite>, 4, max_gathered_writes> {};

std::shared_ptr<StreamConnection> StreamConnection::make_incoming(
    std::uint64_t id, TransportType transport, Executor executor,
    std::unique_ptr<stream::ByteStream> stream, IpEndpoint local, IpEndpoint remote,
    std::shared_ptr<const ConnectionSettings> settings,
    std::weak_ptr<ConnectionObserver> observer) {
  auto connection = std::make_shared<StreamConnection>(
      Passkey{}, id, transport, true, std::weak_ptr<ConnectionPool>{}, std::move(executor),
      std::move(stream), ConnectTarget{}, std::move(settings), std::move(observer));
  // Not shared yet: no lock needed.
  connection->local_ = std::move(local);
  connection->remote_ = std::move(remote);
  return connection;
}

std::shared_ptr<StreamConnection> StreamConnection::make_outgoing(
    std::uint64_t id, TransportType transport, Executor executor,
    std::unique_ptr<stream::ByteStream> stream, ConnectTarget target,
    std::shared_ptr<const ConnectionSettings> settings, std::weak_ptr<ConnectionObserver> observer,
    std::weak_ptr<ConnectionPool> pool) {
  return std::make_shared<StreamConnection>(
      Passkey{}, id, transport, false, std::move(pool), std::move(executor), std::move(stream),
      std::move(target), std::move(settings), std::move(observer));
}

StreamConnection::StreamConnection(Passkey, std::uint64_t id, TransportType transport,
                                   bool incoming, std::weak_ptr<ConnectionPool> pool,
                                   Executor executor, std::unique_ptr<stream::ByteStream> stream,
                                   ConnectTarget target,
                                   std::shared_ptr<const ConnectionSettings> settings,
                                   std::weak_ptr<ConnectionObserver> observer)
    : RealTimeConnection(id, transport, incoming, std::move(pool)),
      settings_(std::move(settings)),
      executor_(std::move(executor)),
      stream_(std::move(stream)),
      target_(incoming ? nullptr : std::make_unique<const ConnectTarget>(std::move(target))),
      observer_(std::move(observer)),
      timer_(settings_->clock->make_timer(executor_)),
      framer_(settings_->framer),
      created_(settings_->clock->now()),
      last_activity_(created_),
      idle_timeout_ms_(settings_->idle_timeout.count()),
      throttling_high_(settings_->throttling_high_mark),
      throttling_low_(settings_->throttling_low_mark) {}

void StreamConnection::start() {
  on_strand([self = self()] {
    if (self->state() != ConnectionState::connecting) return;
    // An incoming TLS connection's timer is already armed by await_first_bytes.
    if (self->armed_for_ == Clock::time_point::max()) self->arm_timer();
    if (self->is_incoming_connection()) {
      self->stream_->async_handshake(false, [self](std::error_code ec) { self->on_connected(ec); });
    } else {
      self->connect();
    }
  });
}

void StreamConnection::await_first_bytes(detail::UniqueFunction<void()> then) {
  on_strand([self = self(), then = std::move(then)]() mutable {
    if (self->state() != ConnectionState::connecting) return;
    self->arm_timer();
    self->stream_->async_wait_readable([self, then = std::move(then)](std::error_code ec) mutable {
      if (!ec && self->state() == ConnectionState::connecting) then();
    });
  });
}

void StreamConnection::record_endpoints() {
  std::error_code ignored;
  std::lock_guard lock(status_mutex_);
  local_ = to_ip_endpoint(stream_->socket().local_endpoint(ignored));
  remote_ = to_ip_endpoint(stream_->socket().remote_endpoint(ignored));
}

void StreamConnection::connect() {
  attempts_ = std::make_unique<ConnectAttempts>();
  std::error_code not_literal;
  const auto address = asio::ip::make_address(target_->host, not_literal);
  if (!not_literal) {
    // An address has no SRV records (RFC 3263 4.2): no port means the transport's default.
    attempts_->add_addresses(
        {{address, target_->port != 0 ? target_->port : default_port(transport())}});
    return connect_next({});
  }
  locate(nullptr, {});
}

void StreamConnection::locate(std::shared_ptr<dns::Lookup> later, std::error_code last_failure) {
  // A connection closed while its name is looked up is let go at once; the lookup runs on.
  auto on_located = [weak = std::weak_ptr<StreamConnection>(self()), last_failure](
                        std::error_code ec, dns::Located located) {
    const auto self = weak.lock();
    if (!self || self->state() != ConnectionState::connecting) return;
    // Once an address has been tried, a connection that cannot go on fails with its error,
    // unless the manager's end is why.
    if (ec) return self->on_connected(last_failure && ec != errc::shutdown ? last_failure : ec);
    // The pool's turns go round the first server's addresses; the order of the servers is the
    // domain's (SRV), kept as it is.
    self->attempts_->add_addresses(std::move(located.addresses), self->target_->first_address,
                                   located.spread);
    self->attempts_->set_later(std::move(located.later));
    self->connect_next(last_failure ? last_failure : asio::error::host_not_found);
  };
  if (later) {
    settings_->locator->async_more(std::move(later), executor_, std::move(on_located));
  } else {
    // An SRV server whose DNS does not answer must leave its backups time: c-ares alone would
    // retry it for longer than the whole connect time-out.
    std::optional<Clock::time_point> deadline;
    if (settings_->connect_timeout.count() > 0) deadline = created_ + settings_->connect_timeout;
    settings_->locator->async_locate(
        {target_->host, target_->port, transport(), target_->load_balancing, deadline}, executor_,
        std::move(on_located));
  }
}

void StreamConnection::connect_next(std::error_code last_failure) {
  if (state() != ConnectionState::connecting) return;  // closed meanwhile (time-out, shutdown)
  std::optional<Clock::time_point> deadline;
  if (settings_->connect_timeout.count() > 0) deadline = created_ + settings_->connect_timeout;
  const auto address = attempts_->next(settings_->clock->now(), deadline);
  if (!address) {
    // SRV's backups, still being looked up when the first servers' addresses came.
    if (auto later = attempts_->take_later()) return locate(std::move(later), last_failure);
    return on_connected(last_failure);
  }
  if (attempts_->attempt_deadline()) arm_timer();
  std::error_code ignored;
  stream_->socket().close(ignored);  // a socket whose connect failed cannot connect again
  stream_->socket().async_connect(*address, [self = self(), to = *address](std::error_code ec) {
    if (ec) {
      if (self->state() != ConnectionState::connecting) return;
      if (self->attempts_->given_up() && ec == asio::error::operation_aborted) {
        ec = make_error_code(errc::connect_timeout);
      }
      spdlog::debug("connection {}: {} ({}): {}", self->id(), self->target_->host,
                    to.address().to_string(), ec.message());
      return self->connect_next(ec);
    }
    if (self->state() != ConnectionState::connecting) return;
    // Connected just as the attempt was cut (its completion already queued when the timer
    // closed the socket): the socket is gone, so on to the next address.
    if (self->attempts_->given_up())
      return self->connect_next(make_error_code(errc::connect_timeout));
    self->attempts_.reset();
    self->stream_->async_handshake(true, [self](std::error_code e) { self->on_connected(e); });
  });
}

void StreamConnection::on_connected(std::error_code ec) {
  if (state() != ConnectionState::connecting) return;  // closed meanwhile (time-out, shutdown)
  if (ec) {
    if (target_) {  // incoming connections fail their handshake here too
      spdlog::debug("connection {}: cannot connect to {}:{}: {}", id(), target_->host,
                    target_->port, ec.message());
    }
    return transition(ConnectionState::closed, ec);
  }
  transition(ConnectionState::ready);
}

void StreamConnection::transition(ConnectionState next, std::error_code reason) {
  const auto current = state();
  if (current == ConnectionState::closed || current == next) return;
  switch (next) {
    case ConnectionState::connecting:
      return;  // never re-entered
    case ConnectionState::ready: {
      if (!is_incoming_connection()) record_endpoints();  // incoming: known from the accept
      {
        std::lock_guard lock(status_mutex_);
        // Held by pointer: a TCP connection, the many, pays 8 bytes for it, not 250.
        if (auto session = stream_->tls_session()) {
          tls_session_ = std::make_unique<TlsSessionInfo>(std::move(*session));
        }
      }
      state_.store(ConnectionState::ready, std::memory_order_release);
      if (!is_incoming_connection() && settings_->keep_alive_interval.count() > 0) {
        keep_alive_ = std::make_unique<KeepAliveSchedule>(settings_->keep_alive_interval,
                                                          settings_->keep_alive_pong_timeout,
                                                          settings_->clock->now());
        arm_timer();
      }
      if (auto observer = observer_.lock()) held_ = !observer->on_ready(shared_from_this());
      if (!held_) read();
      write();
      if (drain_requested_) transition(ConnectionState::draining, drain_reason_);
      return;
    }
    case ConnectionState::draining:
      if (current == ConnectionState::connecting && !queue_.empty()) {
        // Sends already waiting for this connection are accepted ones: it drains once ready.
        drain_requested_ = true;
        drain_reason_ = reason;
        return;
      }
      if (current == ConnectionState::connecting)
        return transition(ConnectionState::closed, reason);
      drain_reason_ = reason;
      // seq_cst, as end_transaction's count and its look at the state: one of the two must see
      // the other, or the drain would wait for its deadline with nothing left to answer.
      state_.store(ConnectionState::draining, std::memory_order_seq_cst);
      return finish_drain_when_done();
    case ConnectionState::closed: {
      {
        std::lock_guard lock(status_mutex_);
        close_reason_ = reason;
        failure_detail_ = stream_->failure_detail();
        // Whom the handshake turned away, if it got as far as a certificate: held where a
        // session is, so a connection pays nothing for it until a handshake fails.
        if (!tls_session_ && is_tls_failure(reason)) {
          if (auto session = stream_->tls_session(); session && session->has_peer_certificate) {
            tls_session_ = std::make_unique<TlsSessionInfo>(std::move(*session));
          }
        }
      }
      state_.store(ConnectionState::closed, std::memory_order_release);
      timer_->cancel();
      stream_->close();
      fail_queued(reason);
      if (is_tls_failure(reason) && !failure_detail_.empty()) {
        // The error code names the class of failure; OpenSSL's words say what to fix.
        spdlog::warn("connection {}: {}: {}", id(), reason.message(), failure_detail_);
      }
      spdlog::debug("connection {} closed: {}", id(), reason.message());
      if (auto observer = observer_.lock()) observer->on_closed(self(), reason);
      return;
    }
  }
}

void StreamConnection::read() {
  if (reading_ || held_ || peer_ended_ || state() == ConnectionState::closed) return;
  reading_ = true;
  // Nothing kept: wait without a buffer, so an idle connection holds none.
  if (read_begin_ == read_end_ && !read_buffer_.empty()) {
    std::vector<char>().swap(read_buffer_);
    read_begin_ = read_end_ = 0;
  }
  stream_->async_wait_readable([self = self()](std::error_code ec) { self->on_readable(ec); });
}

void StreamConnection::make_room_to_read() {
  if (read_end_ < read_buffer_.size()) return;
  if (read_begin_ > 0) {
    std::memmove(read_buffer_.data(), read_buffer_.data() + read_begin_, read_end_ - read_begin_);
    read_end_ -= read_begin_;
    read_begin_ = 0;
  } else {
    // The framer refuses anything larger than its limits before the buffer could outgrow them.
    read_buffer_.resize(std::max(initial_read_buffer, read_buffer_.size() * 2));
  }
}

void StreamConnection::on_readable(std::error_code ec) {
  if (ec) return on_read(ec, 0);
  // The bytes go to the thread's scratch buffer and are framed there; only a message left
  // incomplete (or held back by throttling) is copied into a buffer of the connection's own,
  // and the rest of such a message is read straight into that. A handler that runs an event
  // loop of its own could bring another connection here on this thread while the scratch is in
  // use: that one reads into a buffer of its own too.
  thread_local std::array<char, 64 * 1024> scratch;
  thread_local bool scratch_in_use = false;
  const bool into_scratch = read_begin_ == read_end_ && !scratch_in_use;
  if (!into_scratch) make_room_to_read();
  const auto destination =
      into_scratch ? asio::buffer(scratch)
                   : asio::buffer(read_buffer_.data() + read_end_, read_buffer_.size() - read_end_);
  std::error_code read_error;
  const auto bytes = stream_->read_available(destination, read_error);
  if (read_error == asio::error::would_block) {
    reading_ = false;
    return read();
  }
  if (read_error || !into_scratch) return on_read(read_error, bytes);
  scratch_in_use = true;
  scratch_input_ = scratch.data();
  on_read({}, bytes);
  scratch_input_ = nullptr;
  scratch_in_use = false;
}

void StreamConnection::keep_unconsumed_input() {
  const auto left = read_end_ - read_begin_;
  if (left > 0) {
    read_buffer_.resize(std::max(initial_read_buffer, left * 2));
    std::memcpy(read_buffer_.data(), scratch_input_ + read_begin_, left);
  }
  read_begin_ = 0;
  read_end_ = left;
}

void StreamConnection::on_read(std::error_code ec, std::size_t bytes) {
  reading_ = false;
  if (state() == ConnectionState::closed) return;
  if (ec) {
    // After our half-close the peer's end of stream is the drain's end, not the peer's doing.
    if (write_shut_) return transition(ConnectionState::closed, drain_reason_);
    ec = stream_->translate_error(ec);
    if (ec == asio::error::eof) return on_peer_end();
    return transition(ConnectionState::closed, ec);
  }
  read_end_ += bytes;
  counters_.bytes_received.add(bytes);
  corked_ = true;
  const bool more = process_input();
  corked_ = false;
  if (scratch_input_ && state() != ConnectionState::closed) keep_unconsumed_input();
  // The answers to everything this read brought, in one write made now: nothing of the
  // application's is on the stack, so the write may complete here.
  write(stream::ByteStream::Completion::may_be_inline);
  if (!more) return;
  // A message left half-read starts the slow-sender clock; one read ending mid-message per
  // message must not cost a timer re-arm, so only an earlier deadline re-arms.
  if (!framer_.inside_message()) {
    partial_since_.reset();
  } else if (!partial_since_) {
    partial_since_ = settings_->clock->now();
    if (settings_->message_completion_timeout.count() > 0 &&
        *partial_since_ + settings_->message_completion_timeout < armed_for_) {
      arm_timer();
    }
  }
  read();
}

void StreamConnection::on_peer_end() {
  const auto reason = make_error_code(errc::peer_closed);
  peer_ended_ = true;
  const auto current = state();
  const bool owed = !queue_.empty() || outstanding_.load(std::memory_order_seq_cst) > 0;
  if ((current != ConnectionState::ready && current != ConnectionState::draining) || !owed ||
      settings_->shutdown_timeout.count() == 0) {
    return transition(ConnectionState::closed, reason);
  }
  // A peer that ends its side may still read (a client that half-closes after its requests):
  // what is queued, and the answers to the requests the application holds, still go out, within
  // shutdown_timeout (or the deadline of a drain already under way, which goes on); then the
  // connection closes. A peer that closed outright makes the next write fail, closing it then.
  if (!drain_deadline_) drain_deadline_ = settings_->clock->now() + settings_->shutdown_timeout;
  if (current == ConnectionState::ready) transition(ConnectionState::draining, reason);
  arm_timer();
}

bool StreamConnection::process_input() {
  // Keep-alives are counted once per batch: a flood of them must not read the clock per CRLF.
  std::uint64_t keep_alives = 0;
  const bool more = frame_input(keep_alives);
  if (keep_alives > 0) {
    counters_.keep_alives_received.add(keep_alives);
    if (settings_->keep_alive_counts_as_activity) last_activity_ = settings_->clock->now();
  }
  return more;
}

bool StreamConnection::frame_input(std::uint64_t& keep_alives) {
  while (state() != ConnectionState::closed) {
    const char* data = scratch_input_ ? scratch_input_ : read_buffer_.data();
    const std::string_view input(data + read_begin_, read_end_ - read_begin_);
    const auto frame = framer_.next(input, keep_alive_ && keep_alive_->awaiting_pong());
    switch (frame.kind) {
      case sip::FrameKind::need_more:
        if (read_begin_ == read_end_) read_begin_ = read_end_ = 0;
        return true;
      case sip::FrameKind::message:
        if (outstanding_.load(std::memory_order_seq_cst) >=
            throttling_high_.load(std::memory_order_relaxed)) {
          // The message stays in the buffer until answers bring the count down. The flag is
          // set before the count is looked at again: an answer on another thread in between
          // either sees the flag (and resumes us) or is seen here.
          throttled_.store(true, std::memory_order_seq_cst);
          if (outstanding_.load(std::memory_order_seq_cst) >
              throttling_low_.load(std::memory_order_relaxed)) {
            held_ = true;
            return false;
          }
          throttled_.store(false, std::memory_order_seq_cst);
        }
        handle_message(frame);
        break;
      case sip::FrameKind::keep_alive_ping:
        // One pong answers every ping that arrives before it is written: a peer pouring out
        // CRLFs makes us write at most one small pong per write, not one per ping.
        if (!pong_queued_) {
          pong_queued_ = enqueue(std::string(keep_alive_pong), {}, WhenQueueFull::refuse);
        }
        ++keep_alives;
        break;
      case sip::FrameKind::keep_alive_pong:
        if (keep_alive_ && keep_alive_->awaiting_pong()) {
          keep_alive_->rest(settings_->clock->now());
          arm_timer();
        }
        ++keep_alives;
        break;
      case sip::FrameKind::oversize:
        refuse_header_section(frame.bytes, 413, "Request Entity Too Large", frame.error);
        break;
      case sip::FrameKind::discarded:
        break;
      case sip::FrameKind::framing_lost:
        spdlog::warn("connection {}: closing, {}", id(), frame.error.message());
        if (!frame.bytes.empty()) {
          // 513 for a header section over the limit (RFC 3261 21.5.14); 400 for bad framing.
          if (frame.error == errc::headers_too_large) {
            refuse_header_section(frame.bytes, 513, "Message Too Large", frame.error);
          } else {
            refuse_header_section(frame.bytes, 400, frame.error.message(), frame.error);
          }
        }
        read_begin_ += frame.consumed;
        transition(ConnectionState::draining, make_error_code(errc::framing_lost));
        return false;
    }
    read_begin_ += frame.consumed;
  }
  return false;
}

void StreamConnection::handle_message(const sip::Frame& frame) {
  const std::string_view bytes = frame.bytes;
  if (state() == ConnectionState::draining) return refuse_while_draining(bytes);
  std::error_code ec;
  sip::LineEnds line_ends(frame.line_ends);
  auto message = SipMessage::parse(bytes, line_ends, ec);
  if (ec) {
    counters_.bad_messages_received.add(1);
    return answer_unparseable(bytes, 400, "Bad Request");
  }
  if (message.is_request() && !has_required_request_headers(message)) {
    counters_.bad_messages_received.add(1);
    return answer(message, 400, "Missing Required Header");
  }
  if (const auto over = sip::exceeded_limit(message, settings_->message_limits)) {
    counters_.bad_messages_received.add(1);
    last_activity_ = settings_->clock->now();  // the peer is there, whatever it sent
    if (message.is_response()) {
      return reject_response(std::move(message), make_error_code(errc::header_limit_exceeded));
    }
    // Nothing answers an ACK: the peer never learns, and the 2xx it acknowledges is resent.
    if (message.method() == "ACK") spdlog::warn("connection {}: dropping an ACK: {}", id(), *over);
    return answer(message, 400, *over);
  }
  valid_message_seen_ = true;
  last_activity_ = settings_->clock->now();
  counters_.messages_received.add(1);
  if (auto observer = observer_.lock())
    observer->on_message(shared_from_this(), std::move(message));
}

void StreamConnection::refuse_while_draining(std::string_view bytes) {
  // Nothing new is taken on; a request still hears so, or its sender would wait out its
  // transaction timer before trying elsewhere. With Retry-After, for without it a 503 counts as
  // a 500 (RFC 3261 21.5.4): the time the drain has left, so a client that comes back finds a
  // connection made afresh. After our half-close nothing can be answered.
  if (write_shut_) return;
  std::error_code ec;
  const auto request = SipMessage::parse(bytes, ec);
  if (ec || !request.is_request() || !has_required_request_headers(request)) return;
  const auto left =
      drain_deadline_ ? *drain_deadline_ - settings_->clock->now() : Clock::duration{};
  const auto seconds =
      std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(left).count());
  answer(request, 503, "Service Unavailable", "Retry-After: " + std::to_string(seconds) + "\r\n");
}

void StreamConnection::refuse_header_section(std::string_view header_section, int status,
                                             std::string_view reason, std::error_code error) {
  counters_.bad_messages_received.add(1);
  std::error_code ec;
  auto message = SipMessage::parse(header_section, ec);
  if (ec) return answer_unparseable(header_section, status, reason);
  if (message.is_response()) return reject_response(std::move(message), error);
  answer(message, status, reason);
}

void StreamConnection::reject_response(SipMessage response, std::error_code reason) {
  spdlog::debug("connection {}: rejecting a {} response: {}", id(), response.status_code(),
                reason.message());
  if (auto observer = observer_.lock()) {
    observer->on_rejected_response(shared_from_this(), std::move(response), reason);
  }
}

void StreamConnection::answer_unparseable(std::string_view bytes, int status,
                                          std::string_view reason) {
  const auto salvaged = sip::salvage_request(bytes);
  if (!salvaged) return;  // not a request: no one to answer
  std::error_code ec;
  const auto request = SipMessage::parse(salvaged->header_section, ec);
  if (ec || !has_required_request_headers(request)) return;
  if (salvaged->other_version) return answer(request, 505, "Version Not Supported");
  answer(request, status, reason);
}

void StreamConnection::answer(const SipMessage& request, int status, std::string_view reason,
                              std::string_view extra_headers) {
  if (!request.is_request() || request.method() == "ACK") return;
  std::string bytes;
  // A final response needs a To tag (RFC 3261 8.2.6.2) even when the connection itself refuses
  // the request; response_to keeps the tag of a request already inside a dialog.
  SipMessage::serialize_response_to(request, status, reason, sip::make_tag(), bytes, extra_headers);
  // Remembered once its answer is queued: an unanswered INVITE has no ACK to absorb, and the
  // ACK comes only after the peer has read the answer.
  if (enqueue(std::move(bytes), {}, WhenQueueFull::refuse)) {
    if (auto observer = observer_.lock()) observer->on_refused(request);
  }
}

void StreamConnection::start_send_serialized(std::string wire,
                                             detail::Completion<std::error_code> done,
                                             WhenQueueFull when_full) {
  if (done) pending_sends_.fetch_add(1, std::memory_order_acq_rel);
  if (loop_retired()) {
    // Gone with its manager, as the loop that would write it: failed here, on the caller's
    // thread (an async_send's completion then runs on a system thread, completion_executor).
    const auto reason = close_reason();
    return complete_unqueued(std::move(done), reason ? reason : make_error_code(errc::shutdown));
  }
  // Checked just above: every answer comes this way, so not again through on_strand.
  asio::dispatch(executor_, [self = self(), wire = std::move(wire), done = std::move(done),
                             when_full]() mutable {
    self->enqueue(std::move(wire), std::move(done), when_full);
  });
}

asio::any_io_executor StreamConnection::completion_executor() const {
  if (loop_retired()) return asio::system_executor();
  return executor_;
}

bool StreamConnection::enqueue(std::string bytes, detail::Completion<std::error_code> done,
                               WhenQueueFull when_full) {
  const auto current = state();
  if (current == ConnectionState::closed) {
    const auto reason = close_reason();
    complete_unqueued(std::move(done), reason ? reason : make_error_code(errc::connection_closed));
    return false;
  }
  // A draining connection still writes (the answers to requests the application holds);
  // only once it has ended its side is there no way out.
  if (write_shut_) {
    complete_unqueued(std::move(done), drain_reason_);
    return false;
  }
  // One message larger than the whole limit still goes out when nothing else is queued, or it
  // could never be sent at all. Nothing overtakes a waiting send.
  const auto limit = settings_->max_write_queue_bytes;
  const bool admitted = waiting_ == 0 && (queue_.empty() || queued_bytes_ + bytes.size() <= limit);
  // What nothing paces (answers, the connection's own writes) waits only to keep its place
  // behind sends that wait, and only while what waits stays within one more queue's worth.
  const bool may_wait = when_full == WhenQueueFull::as_configured
                            ? settings_->wait_when_queue_full
                            : waiting_ > 0 && waiting_bytes_ + bytes.size() <= limit;
  if (!admitted && !may_wait) {
    complete_unqueued(std::move(done), make_error_code(errc::write_queue_full));
    return false;
  }
  if (admitted) {
    queued_bytes_ += bytes.size();
  } else {
    ++waiting_;
    waiting_bytes_ += bytes.size();
  }
  // The queue moves its entries when it grows, some while they are being written: bytes kept
  // inside a string object (the small-string buffer: a pong) would move under the write.
  if (bytes.capacity() < sizeof(std::string)) bytes.reserve(sizeof(std::string));
  queue_.push_back({std::move(bytes), std::move(done)});
  write();
  return true;
}

void StreamConnection::complete_unqueued(detail::Completion<std::error_code> done,
                                         std::error_code reason) {
  if (!done) return;  // the connection's own write
  pending_sends_.fetch_sub(1, std::memory_order_acq_rel);
  done(reason);
}

void StreamConnection::write(stream::ByteStream::Completion completion) {
  const auto current = state();
  if (corked_ || in_flight_ > 0 || queue_.empty() ||
      (current != ConnectionState::ready && current != ConnectionState::draining)) {
    return;
  }
  // admit_waiting keeps the head of a non-empty queue writable; this guards a write of nothing.
  if (queue_.size() == waiting_) return;
  in_flight_ = std::min(queue_.size() - waiting_, max_gathered_writes);
  gather_.clear();
  for (std::size_t i = 0; i < in_flight_; ++i) gather_.push_back(asio::buffer(queue_[i].bytes));
  stream_->async_write(
      gather_,
      [self = self()](std::error_code ec, std::size_t count) { self->on_written(ec, count); },
      completion);
}

void StreamConnection::on_written(std::error_code ec, std::size_t count) {
  // Take the finished entries out before completing them: a completion may run inline on this
  // strand and send again, or close the connection. One entry, the usual case, needs no vector.
  PendingWrite single;
  std::vector<PendingWrite> several;
  std::span<PendingWrite> finished(&single, 1);
  if (in_flight_ == 1) {
    single = queue_.take_front();
  } else {
    several = RecycledWrites::take();
    several.reserve(in_flight_);
    for (std::size_t i = 0; i < in_flight_; ++i) several.push_back(queue_.take_front());
    finished = several;
  }
  in_flight_ = 0;
  std::size_t bytes = 0;
  for (const auto& entry : finished) {
    bytes += entry.bytes.size();
    if (!entry.done && entry.bytes == keep_alive_pong) pong_queued_ = false;
  }
  // A write that failed (or was aborted by a close) part-way still put its first `count` bytes
  // into the socket: the messages they cover whole were written, and the peer may well read
  // them, so they complete as written; only the one cut short and those after it fail.
  std::size_t whole = finished.size();
  if (ec) {
    whole = 0;
    for (std::size_t covered = 0; whole < finished.size(); ++whole) {
      covered += finished[whole].bytes.size();
      if (covered > count) break;
    }
  }
  std::uint64_t messages = 0;
  std::uint64_t written = 0;
  for (std::size_t i = 0; i < finished.size(); ++i) {
    if (!finished[i].done) continue;
    ++messages;
    if (i < whole) ++written;
  }
  pending_sends_.fetch_sub(messages, std::memory_order_acq_rel);
  queued_bytes_ -= bytes;
  counters_.bytes_sent.add(count);
  counters_.messages_sent.add(written);
  if (!ec) admit_waiting();
  if (ec) ec = stream_->translate_error(ec);
  std::error_code result = ec;
  if (ec && state() == ConnectionState::closed) result = close_reason();
  if (written > 0) last_activity_ = settings_->clock->now();
  for (std::size_t i = 0; i < finished.size(); ++i) {
    if (finished[i].done) finished[i].done(i < whole ? std::error_code{} : result);
    detail::RecycledStrings::give_back(std::move(finished[i].bytes));
  }
  RecycledWrites::give_back(std::move(several));
  // After the peer's end a failed write is how a peer that closed outright shows: it closed.
  if (ec) {
    return transition(ConnectionState::closed,
                      peer_ended_ ? make_error_code(errc::peer_closed) : ec);
  }
  finish_drain_when_done();
  write();
}

void StreamConnection::finish_drain_when_done() {
  // Done when everything queued is written and every request the application took is answered.
  if (state() != ConnectionState::draining || write_shut_ || !queue_.empty() || in_flight_ > 0 ||
      outstanding_.load(std::memory_order_seq_cst) > 0) {
    return;
  }
  finish_drain();
}

void StreamConnection::finish_drain() {
  // Everything is written. Closing now, with the peer's unread answers in our receive buffer,
  // would send a reset, and a reset can destroy what we just wrote before the peer reads it:
  // half-close instead, and close when the peer ends its side (or the shutdown deadline).
  stream_->shutdown_send();
  write_shut_ = true;
  if (!reading_) transition(ConnectionState::closed, drain_reason_);
}

void StreamConnection::admit_waiting() {
  while (waiting_ > 0) {
    const auto& next = queue_[queue_.size() - waiting_];
    const bool nothing_writable = queue_.size() == waiting_;
    if (!nothing_writable && queued_bytes_ + next.bytes.size() > settings_->max_write_queue_bytes) {
      return;
    }
    queued_bytes_ += next.bytes.size();
    waiting_bytes_ -= next.bytes.size();
    --waiting_;
  }
}

void StreamConnection::fail_queued(std::error_code reason) {
  std::vector<PendingWrite> failed;
  std::size_t bytes = 0;
  std::size_t sends = 0;
  while (queue_.size() > in_flight_) {
    if (waiting_ > 0) {
      --waiting_;  // never counted in queued_bytes_
      waiting_bytes_ -= queue_.back().bytes.size();
    } else {
      bytes += queue_.back().bytes.size();
    }
    sends += queue_.back().done ? 1 : 0;
    failed.push_back(queue_.take_back());
  }
  pending_sends_.fetch_sub(sends, std::memory_order_acq_rel);
  queued_bytes_ -= bytes;
  // Oldest first, as they were sent.
  for (auto it = failed.rbegin(); it != failed.rend(); ++it) {
    if (it->done) it->done(reason);
  }
}

void StreamConnection::arm_timer() {
  const auto current = state();
  if (current == ConnectionState::closed) return;
  std::optional<Clock::time_point> deadline;
  const auto consider = [&deadline](Clock::time_point t) {
    if (!deadline || t < *deadline) deadline = t;
  };
  if (current == ConnectionState::connecting && !is_incoming_connection() &&
      settings_->connect_timeout.count() > 0) {
    consider(created_ + settings_->connect_timeout);
  }
  if (attempts_ && attempts_->attempt_deadline()) consider(*attempts_->attempt_deadline());
  if (is_incoming_connection() && !valid_message_seen_ &&
      settings_->new_connection_timeout.count() > 0) {
    consider(created_ + settings_->new_connection_timeout);
  }
  const std::chrono::milliseconds idle(idle_timeout_ms_.load(std::memory_order_relaxed));
  if (idle.count() > 0 && ref_count() == 0) consider(last_activity_ + idle);
  if (partial_since_ && settings_->message_completion_timeout.count() > 0) {
    consider(*partial_since_ + settings_->message_completion_timeout);
  }
  if (drain_deadline_) consider(*drain_deadline_);
  if (keep_alive_ && current == ConnectionState::ready) consider(keep_alive_->deadline());
  armed_for_ = deadline.value_or(Clock::time_point::max());
  if (!deadline) return timer_->cancel();
  const auto wait = std::max(*deadline - settings_->clock->now(), Clock::duration::zero());
  timer_->arm(wait, [weak = weak_from_this()] {
    if (auto self = weak.lock()) static_cast<StreamConnection&>(*self).on_timer();
  });
}

void StreamConnection::on_timer() {
  const auto current = state();
  if (current == ConnectionState::closed) return;
  const auto now = settings_->clock->now();
  const std::chrono::milliseconds idle(idle_timeout_ms_.load(std::memory_order_relaxed));
  if (current == ConnectionState::connecting && !is_incoming_connection() &&
      settings_->connect_timeout.count() > 0 && now >= created_ + settings_->connect_timeout) {
    return transition(ConnectionState::closed, make_error_code(errc::connect_timeout));
  }
  if (attempts_ && attempts_->attempt_deadline() && now >= *attempts_->attempt_deadline()) {
    attempts_->give_up();
    std::error_code ignored;
    stream_->socket().close(ignored);  // its completion tries the next address
  }
  if (is_incoming_connection() && !valid_message_seen_ &&
      settings_->new_connection_timeout.count() > 0 &&
      now >= created_ + settings_->new_connection_timeout) {
    return transition(ConnectionState::closed, make_error_code(errc::new_connection_timeout));
  }
  if (idle.count() > 0 && ref_count() == 0 && now >= last_activity_ + idle) {
    return transition(ConnectionState::closed, make_error_code(errc::idle_timeout));
  }
  if (drain_deadline_ && now >= *drain_deadline_) {
    return transition(ConnectionState::closed, drain_reason_);
  }
  if (partial_since_ && settings_->message_completion_timeout.count() > 0 &&
      now >= *partial_since_ + settings_->message_completion_timeout) {
    spdlog::warn("connection {}: closing, a message took longer than {} ms to arrive", id(),
                 settings_->message_completion_timeout.count());
    return transition(ConnectionState::closed, make_error_code(errc::message_timeout));
  }
  if (keep_alive_ && current == ConnectionState::ready) keep_alive_step(now);
  arm_timer();
}

void StreamConnection::keep_alive_step(Clock::time_point now) {
  const bool due = now >= keep_alive_->deadline();
  if (held_) {
    // Not reading (throttled): a pong would go unread, so the flow is not judged meanwhile.
    if (due) keep_alive_->rest(now);
    return;
  }
  if (due && !keep_alive_->awaiting_pong() && !queue_.empty()) {
    // Behind other writes the pong's wait would start before the ping leaves: a slow link
    // would pass for a dead one. Traffic is flowing anyway; the next interval pings.
    keep_alive_->rest(now);
    return;
  }
  switch (keep_alive_->on_timer(now)) {
    case KeepAliveSchedule::Step::failed:
      spdlog::warn("connection {}: closing, no pong within {} ms of a keep-alive ping", id(),
                   settings_->keep_alive_pong_timeout.count());
      return transition(ConnectionState::closed, make_error_code(errc::keep_alive_timeout));
    case KeepAliveSchedule::Step::ping:
      enqueue(std::string(keep_alive_ping), {}, WhenQueueFull::refuse);  // the queue is empty
      return write();
    case KeepAliveSchedule::Step::wait:
      return;
  }
}

void StreamConnection::close(std::error_code reason) {
  on_strand([self = self(), reason] { self->transition(ConnectionState::closed, reason); });
}

void StreamConnection::drain(std::error_code reason, std::chrono::milliseconds deadline) {
  on_strand([self = self(), reason, deadline] {
    if (self->state() == ConnectionState::closed) return;
    self->drain_deadline_ = self->settings_->clock->now() + deadline;
    self->transition(ConnectionState::draining, reason);
    self->arm_timer();
  });
}

void StreamConnection::resume_reading() {
  on_strand([self = self()] {
    self->held_ = false;
    self->read();
  });
}

void StreamConnection::begin_transaction() {
  outstanding_.fetch_add(1, std::memory_order_acq_rel);
}

void StreamConnection::end_transaction() {
  const int left = outstanding_.fetch_sub(1, std::memory_order_seq_cst) - 1;
  if (throttled_.load(std::memory_order_seq_cst) &&
      left <= throttling_low_.load(std::memory_order_relaxed)) {
    on_strand([self = self()] { self->unthrottle(); });
  }
  if (left == 0 && state_.load(std::memory_order_seq_cst) == ConnectionState::draining) {
    on_strand([self = self()] { self->finish_drain_when_done(); });
  }
}

void StreamConnection::unthrottle() {
  if (!throttled_.load(std::memory_order_acquire) ||
      outstanding_.load(std::memory_order_acquire) >
          throttling_low_.load(std::memory_order_relaxed) ||
      state() == ConnectionState::closed) {
    return;
  }
  throttled_.store(false, std::memory_order_release);
  held_ = false;
  if (process_input()) read();
}

int StreamConnection::outstanding_requests() const {
  return outstanding_.load(std::memory_order_acquire);
}

bool StreamConnection::is_connection_throttled() const {
  return throttled_.load(std::memory_order_acquire);
}

int StreamConnection::connection_throttling_high_mark() const {
  return throttling_high_.load(std::memory_order_relaxed);
}

int StreamConnection::connection_throttling_low_mark() const {
  return throttling_low_.load(std::memory_order_relaxed);
}

void StreamConnection::set_connection_throttling_marks(int high_mark, int low_mark) {
  if (low_mark < 1 || high_mark < low_mark) {
    throw std::invalid_argument("throttling marks: need 1 <= low mark <= high mark");
  }
  throttling_high_.store(high_mark, std::memory_order_relaxed);
  throttling_low_.store(low_mark, std::memory_order_relaxed);
  // Posted: reading again runs request handlers, which must not run inside the caller's (a
  // handler holding a lock of its own and setting the marks would deadlock on itself).
  if (!loop_retired()) asio::post(executor_, [self = self()] { self->unthrottle(); });
}

void StreamConnection::disconnect() {
  close(make_error_code(errc::connection_closed));
}

std::error_code StreamConnection::close_reason() const {
  std::lock_guard lock(status_mutex_);
  return close_reason_;
}

std::string StreamConnection::failure_detail() const {
  std::lock_guard lock(status_mutex_);
  return failure_detail_;
}

IpEndpoint StreamConnection::local_endpoint() const {
  std::lock_guard lock(status_mutex_);
  return local_;
}

IpEndpoint StreamConnection::remote_endpoint() const {
  std::lock_guard lock(status_mutex_);
  return remote_;
}

void StreamConnection::set_matching_domain_name(std::string domain) {
  std::lock_guard lock(status_mutex_);
  if (tls_session_) tls_session_->matching_domain_name = std::move(domain);
}

std::optional<TlsSessionInfo> StreamConnection::tls_session() const {
  std::lock_guard lock(status_mutex_);
  if (!tls_session_) return std::nullopt;
  return *tls_session_;
}

ConnectionCounters StreamConnection::counters() const {
  ConnectionCounters counters;
  counters.messages_received = counters_.messages_received.get();
  counters.messages_sent = counters_.messages_sent.get();
  counters.bytes_received = counters_.bytes_received.get();
  counters.bytes_sent = counters_.bytes_sent.get();
  counters.keep_alives_received = counters_.keep_alives_received.get();
  counters.bad_messages_received = counters_.bad_messages_received.get();
  return counters;
}

std::size_t StreamConnection::pending_sends() const {
  return pending_sends_.load(std::memory_order_acquire);
}

std::chrono::milliseconds StreamConnection::connection_timeout() const {
  return std::chrono::milliseconds(idle_timeout_ms_.load(std::memory_order_relaxed));
}

void StreamConnection::set_connection_timeout(std::chrono::milliseconds timeout) {
  // A later deadline would wrap past the clock's end and close the connection at once.
  if (timeout.count() < 0 || timeout > ConnectionManagerOptions::longest_time_out) {
    throw std::invalid_argument("connection time-out: need 0 (never) up to 100 years");
  }
  idle_timeout_ms_.store(timeout.count(), std::memory_order_relaxed);
  on_strand([self = self()] { self->arm_timer(); });
}

void StreamConnection::on_unreferenced() noexcept {
  if (state() == ConnectionState::closed) return;  // no timer to arm
  // Idle from now, not from the last traffic: a component that just let go was using it.
  on_strand([self = self()] {
    if (self->ref_count() > 0) return;  // claimed again meanwhile
    self->last_activity_ = self->settings_->clock->now();
    self->arm_timer();
  });
}

}  // namespace rtconn::connection
