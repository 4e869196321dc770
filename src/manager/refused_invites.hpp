#pragma once
// The INVITEs the manager itself answered 503 (message throttling), so it can absorb their ACKs:
// the ACK of a non-2xx final response belongs to the transaction that sent it (RFC 3261
// 17.2.1), and the application never saw that INVITE. Bounded: the oldest are forgotten first.

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

#include "rtconn/sip_message.hpp"

namespace rtconn::detail {

class RefusedInvites {
 public:
  void remember(const SipMessage& invite) {
    auto key = key_of(invite);
    if (key.empty()) return;
    std::lock_guard lock(mutex_);
    if (!keys_.insert(key).second) return;
    order_.push_back(std::move(key));
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
    std::lock_guard lock(mutex_);
    if (keys_.erase(key) == 0) return false;
    std::erase(order_, key);
    size_.store(order_.size(), std::memory_order_release);
    return true;
  }

 private:
  static constexpr std::size_t capacity = 1024;

  // Call-ID and CSeq number: an ACK for a non-2xx response repeats both.
  static std::string key_of(const SipMessage& message) {
    const auto call_id = message.header("Call-ID");
    const auto cseq = message.cseq();
    if (!call_id || !cseq) return {};
    return std::string(*call_id) + ' ' + std::to_string(cseq->number);
  }

  std::mutex mutex_;
  std::unordered_set<std::string> keys_;
  std::deque<std::string> order_;
  std::atomic<std::size_t> size_{0};
};

}  // namespace rtconn::detail
