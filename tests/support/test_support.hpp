#pragma once
// Helpers shared by the unit and integration tests: bounded waiting on an io_context the test
// owns, SIP requests with every header a server insists on, and raw loopback peers that speak
// bytes rather than SIP (to see exactly what a manager puts on the wire).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include "rtconn/ip_endpoint.hpp"
#include "rtconn/pool_key.hpp"
#include "rtconn/sip_message.hpp"

namespace rtconn::test {

using namespace std::chrono_literals;

/// Runs `io` until `done()` holds or `limit` of wall time has passed; returns `done()`. Never
/// used to wait for a time-out (those are driven by ManualClock), only for loopback I/O.
template <class Predicate>
bool run_until(asio::io_context& io, Predicate&& done,
               std::chrono::steady_clock::duration limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    if (io.stopped()) io.restart();
    io.run_one_for(2ms);
  }
  return true;
}

/// Runs every handler that is ready now, and those they make ready, without waiting for I/O
/// that has not happened yet. Bounded, so a handler that re-posts itself cannot hang the test.
inline void drain(asio::io_context& io) {
  for (int round = 0; round < 1000; ++round) {
    if (io.stopped()) io.restart();
    if (io.poll() == 0) return;
  }
}

/// Runs `io` for a short while so loopback traffic already sent has landed: for the checks that
/// something did NOT happen (no response, not closed). Not a wait for any time-out.
inline void settle(asio::io_context& io, std::chrono::milliseconds span = 50ms) {
  if (io.stopped()) io.restart();
  io.run_for(span);
  drain(io);
}

/// What became of one asynchronous operation. Completions hold it by shared_ptr, so a test that
/// stops early (a failed ASSERT) leaves no completion writing into its dead stack frame.
struct CompletionRecord {
  int calls = 0;
  std::error_code ec;
  SipMessage response;  // async_request only
};
using CompletionRecordPtr = std::shared_ptr<CompletionRecord>;

inline CompletionRecordPtr make_record() {
  return std::make_shared<CompletionRecord>();
}
/// A completion handler for `void(std::error_code)` that records into `outcome`.
inline auto record(const CompletionRecordPtr& outcome) {
  return [outcome](std::error_code ec) {
    ++outcome->calls;
    outcome->ec = ec;
  };
}
/// A completion handler for `void(std::error_code, SipMessage)` that records into `outcome`.
inline auto record_response(const CompletionRecordPtr& outcome) {
  return [outcome](std::error_code ec, SipMessage response) {
    ++outcome->calls;
    outcome->ec = ec;
    outcome->response = std::move(response);
  };
}
inline std::vector<CompletionRecordPtr> make_records(std::size_t count) {
  std::vector<CompletionRecordPtr> all;
  for (std::size_t i = 0; i < count; ++i) all.push_back(make_record());
  return all;
}
inline bool all_completed(const std::vector<CompletionRecordPtr>& all) {
  for (const auto& o : all) {
    if (o->calls == 0) return false;
  }
  return true;
}

/// A string unique within the test process, for branches, tags and Call-IDs.
inline std::string unique_token(std::string_view prefix = "t") {
  static std::atomic<std::uint64_t> next{1};
  return std::string(prefix) + std::to_string(next.fetch_add(1));
}

/// A request with Via (fresh branch), Max-Forwards, From (with tag), To, Call-ID and CSeq: what
/// RFC 3261 8.1.1 requires and rtconn's connections check for.
inline SipMessage make_request(std::string method, std::string uri = "sip:test@127.0.0.1",
                               std::string to_tag = {}) {
  auto request = SipMessage::request(method, uri);
  request.add_header("Via", "SIP/2.0/TCP client.invalid;branch=z9hG4bK" + unique_token("b"));
  request.add_header("Max-Forwards", "70");
  request.add_header("From", "<sip:tester@client.invalid>;tag=" + unique_token("f"));
  request.add_header("To", "<" + uri + ">" + (to_tag.empty() ? "" : ";tag=" + to_tag));
  request.add_header("Call-ID", unique_token("call") + "@client.invalid");
  request.add_header("CSeq", "1 " + method);
  return request;
}

/// The ACK of `answer`, a non-2xx final response to `invite` (RFC 3261 17.1.1.3): the INVITE's
/// Via, From, Call-ID and CSeq number, the response's To (with its tag).
inline SipMessage make_ack(const SipMessage& invite, const SipMessage& answer) {
  auto ack = SipMessage::request("ACK", std::string(invite.request_uri()));
  for (const auto* name : {"Via", "Max-Forwards", "From", "Call-ID"}) {
    ack.add_header(name, std::string(invite.header(name).value_or("")));
  }
  ack.add_header("To", std::string(answer.header("To").value_or("")));
  ack.add_header("CSeq", std::to_string(invite.cseq()->number) + " ACK");
  return ack;
}

/// The pool key that reaches `endpoint` by its address literal.
inline PoolKey key_for(const IpEndpoint& endpoint) {
  PoolKey key;
  key.host = endpoint.address().to_string();
  key.port = endpoint.port();
  key.transport = TransportType::Tcp;
  return key;
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released): connecting is refused.
inline std::uint16_t unused_loopback_port(asio::io_context& io) {
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  const auto port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

/// What a raw peer saw on its socket, split into SIP messages and keep-alive line endings by a
/// framer independent of the library's (so a framing bug there cannot hide here).
struct WireView {
  std::vector<SipMessage> messages;
  std::size_t crlfs = 0;       // lone CRLFs (pongs) between messages
  bool trailing_junk = false;  // bytes that do not (yet) form a message
};

inline WireView split_wire(std::string_view bytes) {
  WireView view;
  while (!bytes.empty()) {
    if (bytes.starts_with("\r\n")) {
      ++view.crlfs;
      bytes.remove_prefix(2);
      continue;
    }
    const auto end = bytes.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      view.trailing_junk = true;
      return view;
    }
    const auto header = bytes.substr(0, end + 4);
    std::size_t body = 0;
    // Our managers write the long form at the start of a line.
    if (const auto at = header.find("\r\nContent-Length:"); at != std::string_view::npos) {
      body = std::stoul(std::string(header.substr(at + 17, header.find("\r\n", at + 2) - at - 17)));
    }
    if (bytes.size() < header.size() + body) {
      view.trailing_junk = true;
      return view;
    }
    std::error_code ec;
    auto message = SipMessage::parse(bytes.substr(0, header.size() + body), ec);
    if (ec) {
      view.trailing_junk = true;
      return view;
    }
    view.messages.push_back(std::move(message));
    bytes.remove_prefix(header.size() + body);
  }
  return view;
}

/// A TCP client on the test's io_context that writes raw bytes and records everything it reads.
class RawClient {
 public:
  RawClient(asio::io_context& io, const IpEndpoint& to) : state_(std::make_shared<State>(io)) {
    state_->socket.connect({to.address(), to.port()});
    state_->socket.set_option(asio::ip::tcp::no_delay(true));
    read(state_);
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// Writes every byte now (loopback buffers take small writes without the peer reading).
  void send(std::string_view bytes) { asio::write(state_->socket, asio::buffer(bytes)); }
  void send(const SipMessage& message) { send(message.to_string()); }

  const std::string& received() const { return state_->received; }
  WireView wire() const { return split_wire(state_->received); }
  std::size_t message_count() const { return wire().messages.size(); }
  /// True once the peer closed (end of stream) or the socket failed.
  bool peer_closed() const { return state_->closed; }
  IpEndpoint local_endpoint() const {
    const auto e = state_->socket.local_endpoint();
    return {e.address(), e.port()};
  }
  void close() {
    std::error_code ignored;
    state_->socket.close(ignored);
  }
  /// Ends our side (a FIN) and goes on reading.
  void end_sending() { state_->socket.shutdown(asio::ip::tcp::socket::shutdown_send); }

 private:
  struct State {
    explicit State(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    std::string received;
    bool closed = false;
    char buffer[4096];
  };

  static void read(std::shared_ptr<State> state) {
    // Both taken before `state` is moved into the handler (argument order is unspecified).
    auto& socket = state->socket;
    const auto buffer = asio::buffer(state->buffer);
    socket.async_read_some(buffer,
                           [state = std::move(state)](std::error_code ec, std::size_t n) mutable {
                             if (ec) {
                               state->closed = true;
                               return;
                             }
                             state->received.append(state->buffer, n);
                             read(std::move(state));
                           });
  }

  std::shared_ptr<State> state_;
};

/// A listener on 127.0.0.1 that accepts connections and never reads from them, so a sender's
/// socket buffers fill up and its writes stay in flight.
class SilentPeer {
 public:
  explicit SilentPeer(asio::io_context& io) : state_(std::make_shared<State>(io)) {
    accept(state_);
  }
  ~SilentPeer() {
    std::error_code ignored;
    state_->acceptor.close(ignored);
    for (auto& socket : state_->accepted) socket.close(ignored);
  }
  SilentPeer(const SilentPeer&) = delete;
  SilentPeer& operator=(const SilentPeer&) = delete;

  IpEndpoint endpoint() const {
    const auto e = state_->acceptor.local_endpoint();
    return {e.address(), e.port()};
  }
  std::size_t accepted() const { return state_->accepted.size(); }

 private:
  struct State {
    explicit State(asio::io_context& io) : acceptor(io) {
      const asio::ip::tcp::endpoint where(asio::ip::address_v4::loopback(), 0);
      acceptor.open(where.protocol());
      // A small fixed receive buffer (inherited by accepted sockets) turns off autotuning, so a
      // few megabytes are enough to stall the sender.
      acceptor.set_option(asio::socket_base::receive_buffer_size(8192));
      acceptor.bind(where);
      acceptor.listen();
    }
    asio::ip::tcp::acceptor acceptor;
    std::vector<asio::ip::tcp::socket> accepted;
  };

  static void accept(std::shared_ptr<State> state) {
    auto& acceptor = state->acceptor;
    acceptor.async_accept(
        [state = std::move(state)](std::error_code ec, asio::ip::tcp::socket socket) mutable {
          if (ec) return;
          state->accepted.push_back(std::move(socket));
          accept(std::move(state));
        });
  }

  std::shared_ptr<State> state_;
};

}  // namespace rtconn::test
