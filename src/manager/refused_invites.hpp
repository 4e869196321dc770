#pragma once
// The INVITEs the stack itself refused (message throttling's 503, the 500 when nothing took one,
// a connection's 400 / 413 / 503), so it can absorb their ACKs: the ACK of a non-2xx final
// response belongs to the transaction that sent it (RFC 3261 17.2.1), and the application never
// took that INVITE. Bounded: the oldest are forgotten first.

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

#include "rtconn/sip_message.hpp"

namespace rtconn::detail {

class RefusedInvites {
 public:
  void remember(const SipMessage& invite) {
    const auto key = key_of(invite);
    if (!key) return;
    std::lock_guard lock(mutex_);
    if (!keys_.insert(*key).second) return;
    order_.push_back(*key);
    if (order_.size() > capacity) {
      keys_.erase(order_.front());
      order_.pop_front();
    }
    size_.store(order_.size(), std::memory_order_release);
  }

  /// True (and forgotten) when `ack` acknowledges a remembered INVITE.
  bool absorb(const SipMessage& ack) {
    if (size_.load(std::memory_order_acquire) == 0) return false;  // no lock in the usual case
    const auto key = key_of(ack);
    if (!key) return false;
    std::lock_guard lock(mutex_);
    if (keys_.erase(*key) == 0) return false;
    std::erase(order_, *key);
    size_.store(order_.size(), std::memory_order_release);
    return true;
  }

 private:
  static constexpr std::size_t capacity = 1024;

  // The ACK of a non-2xx response repeats the INVITE's top Via branch, Call-ID and CSeq number
  // (RFC 3261 17.1.1.3); the branch tells apart forks that share the other two. Kept as a hash:
  // a peer's Call-IDs may be kilobytes long, and 1,024 of them, twice, were held before.
  static std::optional<std::size_t> key_of(const SipMessage& message) {
    const auto call_id = message.header("Call-ID");
    const auto cseq = message.cseq();
    if (!call_id || !cseq) return std::nullopt;
    std::string text(message.top_via_branch().value_or(""));
    text += ' ';
    text += *call_id;
    text += ' ';
    text += std::to_string(cseq->number);
    return std::hash<std::string>{}(text);
  }

  std::mutex mutex_;
  std::unordered_set<std::size_t> keys_;
  std::deque<std::size_t> order_;  // oldest first; an ACK's erase scans at most 1,024 words
  std::atomic<std::size_t> size_{0};
};

}  // namespace rtconn::detail
