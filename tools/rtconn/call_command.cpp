// `rtconn call`: INVITE dialogs, `connections` of them at a time. The INVITE goes with
// async_send and its responses come to the response handler (rtconn keeps no INVITE
// transaction: this is the SIP stack above it, at its simplest); a 2xx is ACKed as a request of
// its own, a failure on the connection it came on; the BYE after the hold time is an
// async_request. The dialog's requests go on the connection its 2xx came on while it is open
// (RFC 5923's reuse: a callee such as SIPp -t tn keeps a call on its socket and answers there),
// else through the pool.

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <asio/steady_timer.hpp>

#include "client_arguments.hpp"
#include "latency_samples.hpp"
#include "outgoing_request.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"

namespace rtconn::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view offer =
    "v=0\r\n"
    "o=rtconn 1 1 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "t=0 0\r\n"
    "m=audio 9 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

class CallRun : public std::enable_shared_from_this<CallRun> {
 public:
  CallRun(RealTimeClientConnectionManager& manager, PoolKey key, const CallArguments& arguments)
      : manager_(manager), key_(std::move(key)), arguments_(arguments) {}

  void run() {
    manager_.set_response_handler(
        [self = shared_from_this()](SipMessage& response,
                                    const std::shared_ptr<RealTimeConnection>& connection) {
          self->on_response(response, connection);
        });
    for (int i = 0; i < arguments_.client.connections; ++i) next();
    finished_.get_future().wait();
    manager_.set_response_handler({});
  }

  int summarize() const {
    std::lock_guard lock(mutex_);
    fmt::print("--- {} call: {} calls, {} completed, {} failed ---\n", arguments_.client.uri,
               arguments_.count, completed_, failed_);
    if (!set_up_.empty()) fmt::print("set-up {}\n", set_up_.summary());
    return failed_ == 0 ? 0 : 1;
  }

 private:
  enum class Stage { inviting, answered, ended };
  struct Call {
    Call(int number, asio::any_io_executor executor) : sequence(number), timer(executor) {}
    const int sequence;
    SipMessage invite;
    Clock::time_point start;
    // What follows is the run's mutex's: the response handler, the timer's handlers and the
    // completions run on any of the manager's threads.
    Stage stage = Stage::inviting;
    asio::steady_timer timer;  // the wait for a final response (timer B), then the hold
    SipMessage ack;            // the 2xx's, sent again if the 2xx comes again
    std::weak_ptr<RealTimeConnection> dialog_connection;  // the one the 2xx came on
  };
  using CallPtr = std::shared_ptr<Call>;

  void next() {
    const int sequence = started_.fetch_add(1) + 1;
    if (sequence > arguments_.count) {
      if (++idle_workers_ == arguments_.client.connections) finished_.set_value();
      return;
    }
    const auto host = manager_.local_host_name();
    auto call = std::make_shared<Call>(sequence, manager_.get_executor());
    call->invite = make_request("INVITE", arguments_.client.uri, host, 1);
    call->invite.add_header("Via", make_via(key_.transport, host));
    call->invite.add_header(
        "Contact", fmt::format("<sip:rtconn@{};transport={}>", host, to_string(key_.transport)));
    call->invite.set_body(offer, "application/sdp");
    call->start = Clock::now();
    {
      std::lock_guard lock(mutex_);
      calls_[std::string(*call->invite.header("Call-ID"))] = call;
      call->timer.expires_after(std::chrono::milliseconds(arguments_.client.timeout_ms));
      call->timer.async_wait([self = shared_from_this(), call](std::error_code ec) {
        if (!ec) self->time_out(call);
      });
    }
    manager_.async_send(key_, call->invite, [self = shared_from_this(), call](std::error_code ec) {
      if (ec) self->finish(call, "INVITE not sent: " + ec.message());
    });
  }

  void time_out(const CallPtr& call) {
    {
      std::lock_guard lock(mutex_);
      if (call->stage != Stage::inviting) return;
      call->stage = Stage::ended;
    }
    finish(call, "no final response");
  }

  void on_response(const SipMessage& response,
                   const std::shared_ptr<RealTimeConnection>& connection) {
    const auto cseq = response.cseq();
    const auto call_id = response.header("Call-ID");
    if (!cseq || cseq->method != "INVITE" || !call_id || response.status_code() < 200) return;
    const bool success = response.status_code() < 300;
    CallPtr call;
    Stage was;
    {
      std::lock_guard lock(mutex_);
      const auto it = calls_.find(std::string(*call_id));
      if (it == calls_.end()) return;  // a 2xx again after the BYE: that dialog is over
      call = it->second;
      was = call->stage;
      if (was == Stage::inviting) {
        call->stage = success ? Stage::answered : Stage::ended;
        call->timer.cancel();
      }
      if (was == Stage::inviting && success) {
        call->ack = in_dialog_request("ACK", *call, response, {});
        call->dialog_connection = connection;
        call->timer.expires_after(std::chrono::milliseconds(arguments_.hold_ms));
        call->timer.async_wait([self = shared_from_this(), call, response](std::error_code ec) {
          if (!ec) self->hang_up(call, response);
        });
        set_up_.add(std::chrono::duration<double, std::milli>(Clock::now() - call->start).count());
      }
    }
    if (!success) {
      // RFC 3261 17.1.1.3: the ACK of a failure is the INVITE transaction's, on its connection.
      connection->async_send(in_dialog_request("ACK", *call, response, call->invite.header("Via")),
                             [](std::error_code) {});
      if (was == Stage::inviting) {
        finish(call, fmt::format("{} {}", response.status_code(), response.reason_phrase()));
      }
    } else if (was != Stage::ended) {
      acknowledge(call);
    }
  }

  // RFC 3261 13.2.2.4: a 2xx's ACK is a transaction of its own, with a branch of its own.
  void acknowledge(const CallPtr& call) {
    SipMessage ack;
    std::shared_ptr<RealTimeConnection> connection;
    {
      std::lock_guard lock(mutex_);
      ack = call->ack;
      connection = open_dialog_connection(*call);
    }
    ack.set_header("Via", make_via(key_.transport, manager_.local_host_name()));
    if (connection) return connection->async_send(std::move(ack), [](std::error_code) {});
    manager_.async_send(key_, std::move(ack), [](std::error_code) {});
  }

  void hang_up(const CallPtr& call, const SipMessage& answer) {
    auto done = [self = shared_from_this(), call](std::error_code ec, SipMessage response) {
      if (ec) return self->finish(call, "BYE: " + ec.message());
      if (response.status_code() >= 300) {
        return self->finish(
            call, fmt::format("BYE: {} {}", response.status_code(), response.reason_phrase()));
      }
      self->finish(call, {});
    };
    auto bye = in_dialog_request("BYE", *call, answer, {});
    std::shared_ptr<RealTimeConnection> connection;
    {
      std::lock_guard lock(mutex_);
      // The hold's expiry may have been queued as the call ended (its INVITE's send failing
      // after the 2xx came): no BYE for a call that is over.
      if (call->stage != Stage::answered) return;
      connection = open_dialog_connection(*call);
    }
    if (connection) return manager_.async_request(connection, std::move(bye), std::move(done));
    manager_.async_request(key_, std::move(bye), std::move(done));
  }

  // Null once that connection closed (an idle time-out over a long hold, say).
  static std::shared_ptr<RealTimeConnection> open_dialog_connection(const Call& call) {
    auto connection = call.dialog_connection.lock();
    return connection && connection->is_connected() ? connection : nullptr;
  }

  // A request in the dialog `answer` made (or, for a failure's ACK, in its transaction): the
  // INVITE's From and Call-ID, the answer's To with its tag; the CSeq number goes up for a BYE.
  SipMessage in_dialog_request(std::string_view method, const Call& call, const SipMessage& answer,
                               std::optional<std::string_view> via) const {
    auto request = SipMessage::request(method, arguments_.client.uri);
    if (via) request.add_header("Via", *via);
    request.add_header("Max-Forwards", "70");
    request.add_header("From", *call.invite.header("From"));
    request.add_header("To", answer.header("To").value_or(""));
    request.add_header("Call-ID", *call.invite.header("Call-ID"));
    request.add_header("CSeq", fmt::format("{} {}", method == "BYE" ? 2 : 1, method));
    return request;
  }

  // Ends the call, with `failure` empty when it went through. Once per call: later calls find
  // it gone.
  void finish(const CallPtr& call, const std::string& failure) {
    {
      std::lock_guard lock(mutex_);
      if (calls_.erase(std::string(*call->invite.header("Call-ID"))) == 0) return;
      call->stage = Stage::ended;
      call->timer.cancel();
      ++(failure.empty() ? completed_ : failed_);
      if (!arguments_.quiet) {
        fmt::print("call {}: {} ({:.3f} ms)\n", call->sequence,
                   failure.empty() ? "completed" : failure,
                   std::chrono::duration<double, std::milli>(Clock::now() - call->start).count());
      }
    }
    next();
  }

  RealTimeClientConnectionManager& manager_;
  const PoolKey key_;
  const CallArguments& arguments_;
  std::atomic<int> started_{0};
  std::atomic<int> idle_workers_{0};
  std::promise<void> finished_;
  mutable std::mutex mutex_;  // guards what follows, the calls' stage, timer and ACK, and stdout
  std::unordered_map<std::string, CallPtr> calls_;  // by Call-ID, until they end
  LatencySamples set_up_;                           // INVITE to 2xx, of the calls answered 2xx
  int completed_ = 0;
  int failed_ = 0;
};

}  // namespace

int call(const CallArguments& arguments) {
  const auto key = target_of(arguments.client);
  RealTimeClientConnectionManager manager(client_options(arguments.client));
  const auto run = std::make_shared<CallRun>(manager, key, arguments);
  run->run();
  return run->summarize();
}

}  // namespace rtconn::cli
