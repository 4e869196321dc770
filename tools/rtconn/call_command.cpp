// `rtconn call`: INVITE dialogs, `connections` of them at a time. The INVITE goes with
// async_send and its responses come to the response handler (rtconn keeps no INVITE
// transaction: this is the SIP stack above it, at its simplest). A 2xx makes the dialog (RFC 3261
// 12.1.2: its Contact the remote target, its Record-Route the route set) and is ACKed as a
// request of its own; a failure is ACKed on the connection it came on; the BYE after the hold
// time is an async_request. The dialog's requests go on the connection its 2xx came on, claimed
// (ConnectionReference) so that no idle time-out closes it during the hold, while it is open
// (RFC 5923's reuse: a callee such as SIPp -t tn keeps a call on its socket and answers there),
// else to the first route or the remote target (over TLS for a sips: call). A 2xx from another
// fork (a To tag of its own) is ACKed and its dialog ended at once, its resends only ACKed.
// A call that ended stays within reach of 2xx responses for 64*T1 (at most `max_lingering`
// calls, while the run lasts): one that answers a call given up is ACKed and hung up, another
// fork's ACKed and ended, the call's own again ACKed.
// With no final response in --timeout: a call that had a provisional one is CANCELled and waits
// as long again for the INVITE's final response (487, or a 2xx that crossed the CANCEL, which is
// ACKed and hung up at once); one without may not be CANCELled (9.1) and is given up, and a 2xx
// that still comes within 64*T1 is ACKed and hung up.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <asio/steady_timer.hpp>

#include "call_dialog.hpp"
#include "client_arguments.hpp"
#include "latency_samples.hpp"
#include "outgoing_request.hpp"
#include "rtconn/connection_reference.hpp"
#include "rtconn/real_time_client_connection_manager.hpp"
#include "rtconn/sip_uri.hpp"

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
      : manager_(manager),
        key_(std::move(key)),
        arguments_(arguments),
        secure_(SipUri::parse(arguments.client.uri).value_or(SipUri{}).scheme == "sips") {}

  void run() {
    manager_.set_response_handler(
        [self = shared_from_this()](SipMessage& response,
                                    const std::shared_ptr<RealTimeConnection>& connection) {
          self->on_response(response, connection);
        });
    for (int i = 0; i < arguments_.client.connections; ++i) next();
    finished_.get_future().wait();
    manager_.set_response_handler({});
    // Calls given up linger for a late 2xx only while the run lasts; their claims go before
    // the manager does (a connection must not outlive it).
    std::lock_guard lock(mutex_);
    for (auto& [id, call] : calls_) forget_locked(*call);
    calls_.clear();
    lingering_.clear();
  }

  int summarize() const {
    std::lock_guard lock(mutex_);
    fmt::print("--- {} call: {} calls, {} completed, {} failed ---\n", arguments_.client.uri,
               arguments_.count, completed_, failed_);
    if (!set_up_.empty()) fmt::print("set-up {}\n", set_up_.summary());
    return failed_ == 0 ? 0 : 1;
  }

 private:
  // 64*T1 (RFC 3261 17.1.1.2): how long a callee retransmits a 2xx that nobody ACKs.
  static constexpr std::chrono::seconds late_answer_window{32};
  // Calls kept for that window at most, the oldest let go first: a run of many short calls
  // would otherwise keep 32 s of them.
  static constexpr std::size_t max_lingering = 4096;

  enum class Stage { inviting, cancelling, answered, abandoned, ended };
  // What a 2xx with a To tag not the call's own is: the first of another fork's dialog, or a
  // resend of one.
  enum class Fork { none, new_dialog, resent };
  struct Call {
    Call(int number, asio::any_io_executor executor) : sequence(number), timer(executor) {}
    const int sequence;
    SipMessage invite;
    Clock::time_point start;
    // What follows is the run's mutex's: the response handler, the timer's handlers and the
    // completions run on any of the manager's threads.
    Stage stage = Stage::inviting;
    bool counted = false;      // in completed_ or failed_
    asio::steady_timer timer;  // timer B, then the hold, the wait after a CANCEL or the linger
    bool lingering = false;    // the timer is the linger's
    std::weak_ptr<RealTimeConnection> invite_connection;  // where a provisional response came
    std::optional<CallDialog> dialog;                     // from the first 2xx
    SipMessage ack;                                       // the 2xx's, sent again for each
    ConnectionReference dialog_connection;                // the one the 2xx came on
    std::vector<std::string> ended_forks;                 // To tags of other forks' dialogs
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
      wait_locked(call, std::chrono::milliseconds(arguments_.client.timeout_ms),
                  &CallRun::time_out);
    }
    manager_.async_send(key_, call->invite, [self = shared_from_this(), call](std::error_code ec) {
      if (ec) self->finish(call, "INVITE not sent: " + ec.message());
    });
  }

  // Arms the call's timer to run `then` after `wait`. The run's mutex held.
  void wait_locked(const CallPtr& call, std::chrono::milliseconds wait,
                   void (CallRun::*then)(const CallPtr&)) {
    call->lingering = false;
    call->timer.expires_after(wait);
    call->timer.async_wait([self = shared_from_this(), call, then](std::error_code ec) {
      if (!ec) ((*self).*then)(call);
    });
  }

  // Timer B: no final response in --timeout.
  void time_out(const CallPtr& call) {
    std::optional<SipMessage> cancel;
    std::shared_ptr<RealTimeConnection> connection;
    {
      std::lock_guard lock(mutex_);
      if (call->stage != Stage::inviting) return;
      connection = call->invite_connection.lock();
      if (connection && connection->is_connected()) {
        call->stage = Stage::cancelling;
        cancel = invite_transaction_request("CANCEL", call->invite, *call->invite.header("To"));
        wait_locked(call, std::chrono::milliseconds(arguments_.client.timeout_ms),
                    &CallRun::give_up);
      }
    }
    if (!cancel) return finish(call, "no final response", true);
    // Its own answer decides nothing: the INVITE's final response (487, or a 2xx) does.
    manager_.async_request(connection, std::move(*cancel), [](std::error_code, SipMessage) {});
  }

  // No final response to the INVITE in --timeout after its CANCEL either.
  void give_up(const CallPtr& call) {
    {
      std::lock_guard lock(mutex_);
      if (call->stage != Stage::cancelling) return;
    }
    finish(call, "no final response after the CANCEL", true);
  }

  void on_response(const SipMessage& response,
                   const std::shared_ptr<RealTimeConnection>& connection) {
    const auto cseq = response.cseq();
    const auto call_id = response.header("Call-ID");
    if (!cseq || cseq->method != "INVITE" || !call_id) return;
    const bool success = response.status_code() >= 200 && response.status_code() < 300;
    CallPtr call;
    Stage was;
    Fork fork = Fork::none;
    {
      std::lock_guard lock(mutex_);
      const auto it = calls_.find(std::string(*call_id));
      if (it == calls_.end()) return;  // past the late-answer window
      call = it->second;
      was = call->stage;
      if (response.status_code() < 200) {
        if (was == Stage::inviting) call->invite_connection = connection;
        return;
      }
      const auto tag = header_parameter(response.header("To").value_or(""), "tag");
      if (success && !call->dialog && was != Stage::ended) {
        call->dialog = CallDialog::from_answer(call->invite, response);
        call->ack = call->dialog->request("ACK", call->invite, 1);
        call->dialog_connection = ConnectionReference(connection);
      } else if (success && (!call->dialog || tag != header_parameter(call->dialog->to, "tag"))) {
        // Another fork's (the call failed, or was answered, by one before it).
        const std::string fork_tag(tag.value_or(""));
        const bool seen = std::find(call->ended_forks.begin(), call->ended_forks.end(), fork_tag) !=
                          call->ended_forks.end();
        if (!seen) call->ended_forks.push_back(fork_tag);
        fork = seen ? Fork::resent : Fork::new_dialog;
      }
      if (was != Stage::answered && was != Stage::ended) {
        call->timer.cancel();
        call->lingering = false;
        call->stage = success ? Stage::answered : Stage::ended;
      }
      if (was == Stage::inviting && success) {
        wait_locked(call, std::chrono::milliseconds(arguments_.hold_ms), &CallRun::hold_over);
        set_up_.add(std::chrono::duration<double, std::milli>(Clock::now() - call->start).count());
      }
    }
    if (!success) return on_failure(call, was, response, connection);
    if (fork != Fork::none) return end_other_dialog(*call, response, connection, fork);
    if (was == Stage::ended) return acknowledge_on(*call, connection);  // its own, resent
    acknowledge(call);
    // Answered after the caller gave up: the session is not wanted (RFC 3261 15).
    if (was == Stage::cancelling || was == Stage::abandoned) hang_up(call, "answered too late");
  }

  void on_failure(const CallPtr& call, Stage was, const SipMessage& response,
                  const std::shared_ptr<RealTimeConnection>& connection) {
    // RFC 3261 17.1.1.3: the ACK of a failure is the INVITE transaction's, on its connection.
    connection->async_send(
        invite_transaction_request("ACK", call->invite, response.header("To").value_or("")),
        [](std::error_code) {});
    const auto status = fmt::format("{} {}", response.status_code(), response.reason_phrase());
    if (was == Stage::inviting) finish(call, status);
    if (was == Stage::cancelling) finish(call, "cancelled: " + status);
    if (was == Stage::abandoned) finish(call, {});  // counted already: it lingers on
  }

  // The dialog's connection while it is open, else null: the request goes to the next hop.
  static std::shared_ptr<RealTimeConnection> open_dialog_connection(const Call& call) {
    const auto& connection = call.dialog_connection.connection();
    return connection && connection->is_connected() ? connection : nullptr;
  }

  // Where a dialog's request goes once its connection closed; nullopt for a hop over neither TCP
  // nor TLS. A dialog a sips: INVITE made is secure (RFC 3261 12.1.2): every hop is taken as
  // sips:, TLS and 5061 unless it names a port.
  std::optional<PoolKey> next_hop_key(const CallDialog& dialog) const {
    auto uri = SipUri::parse(dialog.next_hop());
    if (!uri) return std::nullopt;
    if (secure_) {
      uri->scheme = "sips";
      uri->transport.clear();
    }
    return PoolKey::from_uri(*uri);
  }

  // Sends a dialog's request with `send_on(connection, request)` on its open connection, else
  // with `send_to(key, request)` to its next hop, its Via (a fresh branch) naming the transport
  // it goes over; false, with nothing sent, when there is no usable next hop.
  template <class OnConnection, class ToHop>
  bool send_in_dialog(SipMessage request, const CallDialog& dialog,
                      const std::shared_ptr<RealTimeConnection>& connection, OnConnection&& send_on,
                      ToHop&& send_to) {
    const auto host = manager_.local_host_name();
    if (connection) {
      request.set_header("Via", make_via(connection->transport(), host));
      send_on(connection, std::move(request));
      return true;
    }
    const auto hop = next_hop_key(dialog);
    if (!hop) return false;
    request.set_header("Via", make_via(hop->transport, host));
    send_to(*hop, std::move(request));
    return true;
  }

  // RFC 3261 13.2.2.4: a 2xx's ACK is a transaction of its own, with a branch of its own.
  void acknowledge(const CallPtr& call) {
    SipMessage ack;
    CallDialog dialog;
    std::shared_ptr<RealTimeConnection> connection;
    {
      std::lock_guard lock(mutex_);
      ack = call->ack;
      dialog = *call->dialog;
      connection = open_dialog_connection(*call);
    }
    send_in_dialog(
        std::move(ack), dialog, connection,
        [](const auto& on, SipMessage a) { on->async_send(std::move(a), [](std::error_code) {}); },
        [this](const PoolKey& to, SipMessage a) {
          manager_.async_send(to, std::move(a), [](std::error_code) {});
        });
  }

  // A 2xx from another fork (a To tag of its own) made a dialog of its own, which the call does
  // not want: ACKed and ended at once, on the connection it came on (RFC 3261 13.2.2.4); a
  // resend of it (the fork had not had the ACK yet) is only ACKed.
  void end_other_dialog(const Call& call, const SipMessage& answer,
                        const std::shared_ptr<RealTimeConnection>& connection, Fork fork) {
    const auto other = CallDialog::from_answer(call.invite, answer);
    send_on(connection, other.request("ACK", call.invite, 1));
    if (fork == Fork::new_dialog) send_on(connection, other.request("BYE", call.invite, 2));
  }

  // The call's own 2xx again after it ended (its BYE crossed it): ACKed where it came.
  void acknowledge_on(const Call& call, const std::shared_ptr<RealTimeConnection>& connection) {
    SipMessage ack;
    {
      std::lock_guard lock(mutex_);
      ack = call.ack;
    }
    send_on(connection, std::move(ack));
  }

  // Sends `request` on `connection` with a Via of its own, its outcome unwatched.
  void send_on(const std::shared_ptr<RealTimeConnection>& connection, SipMessage request) {
    request.set_header("Via", make_via(connection->transport(), manager_.local_host_name()));
    connection->async_send(std::move(request), [](std::error_code) {});
  }

  void hold_over(const CallPtr& call) { hang_up(call, {}); }

  // Sends the BYE; the call ends with its answer, `outcome` when that is a 2xx (empty: the
  // call completed).
  void hang_up(const CallPtr& call, std::string outcome) {
    auto done = [self = shared_from_this(), call, outcome](std::error_code ec,
                                                           SipMessage response) {
      if (ec) return self->finish(call, "BYE: " + ec.message());
      if (response.status_code() >= 300) {
        return self->finish(
            call, fmt::format("BYE: {} {}", response.status_code(), response.reason_phrase()));
      }
      self->finish(call, outcome);
    };
    SipMessage bye;
    CallDialog dialog;
    std::shared_ptr<RealTimeConnection> connection;
    {
      std::lock_guard lock(mutex_);
      // The hold's expiry may have been queued as the call ended (its INVITE's send failing
      // after the 2xx came): no BYE for a call that is over.
      if (call->stage != Stage::answered) return;
      bye = call->dialog->request("BYE", call->invite, 2);
      dialog = *call->dialog;
      connection = open_dialog_connection(*call);
    }
    const bool sent = send_in_dialog(
        std::move(bye), dialog, connection,
        [&](const auto& on, SipMessage b) { manager_.async_request(on, std::move(b), done); },
        [&](const PoolKey& to, SipMessage b) { manager_.async_request(to, std::move(b), done); });
    if (!sent) finish(call, fmt::format("BYE: no TCP or TLS hop in {}", dialog.next_hop()));
  }

  // Ends the call, with `failure` empty when it went through; counted once. A call is given up
  // (`given_up`: its timer fired with no final response) only while it still waits for one: a
  // 2xx may have come since the timer fired, and won. Either way it then lingers.
  void finish(const CallPtr& call, const std::string& failure, bool given_up = false) {
    bool first = false;
    {
      std::lock_guard lock(mutex_);
      if (given_up && call->stage != Stage::inviting && call->stage != Stage::cancelling) return;
      first = !call->counted;
      if (first) {
        call->counted = true;
        ++(failure.empty() ? completed_ : failed_);
        if (!arguments_.quiet) {
          fmt::print("call {}: {} ({:.3f} ms)\n", call->sequence,
                     failure.empty() ? "completed" : failure,
                     std::chrono::duration<double, std::milli>(Clock::now() - call->start).count());
        }
      }
      if (given_up) {
        call->stage = Stage::abandoned;
        linger_locked(call);
      } else if (call->stage != Stage::ended || !call->lingering) {
        call->stage = Stage::ended;
        call->dialog_connection.reset();
        linger_locked(call);
      }
    }
    if (first) next();
  }

  // Keeps the call in calls_ for `late_answer_window`, letting the oldest lingering go beyond
  // `max_lingering`. The run's mutex held.
  void linger_locked(const CallPtr& call) {
    wait_locked(call, late_answer_window, &CallRun::expire);
    call->lingering = true;
    lingering_.push_back(call);
    while (lingering_.size() > max_lingering) {
      const auto oldest = lingering_.front().lock();
      lingering_.pop_front();
      if (oldest && oldest->lingering) erase_locked(oldest);
    }
  }

  void expire(const CallPtr& call) {
    std::lock_guard lock(mutex_);
    if (call->lingering) erase_locked(call);
  }

  void erase_locked(const CallPtr& call) {
    forget_locked(*call);
    if (const auto it = calls_.find(std::string(*call->invite.header("Call-ID")));
        it != calls_.end() && it->second == call) {
      calls_.erase(it);
    }
  }

  // The run's mutex held; the caller takes it out of calls_.
  static void forget_locked(Call& call) {
    call.stage = Stage::ended;
    call.lingering = false;
    call.timer.cancel();
    call.dialog_connection.reset();
  }

  RealTimeClientConnectionManager& manager_;
  const PoolKey key_;
  const CallArguments& arguments_;
  const bool secure_;  // a sips: call
  std::atomic<int> started_{0};
  std::atomic<int> idle_workers_{0};
  std::promise<void> finished_;
  mutable std::mutex mutex_;  // guards what follows, the calls' state, and stdout
  std::unordered_map<std::string, CallPtr> calls_;  // by Call-ID, until they stop lingering
  std::deque<std::weak_ptr<Call>> lingering_;       // the order they began to linger in
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
