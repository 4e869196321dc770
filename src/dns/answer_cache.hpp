#pragma once
// DNS answers kept for as long as their TTLs allow, so that a pool opening a connection now and
// another in a minute asks its DNS server once, as a stub resolver behind nscd or systemd-resolved
// would. c-ares 1.18 keeps nothing past a query (its cache came in 1.23). Bounded: a name looked
// up once stays at most its lifetime, and past `capacity` names the soonest to expire goes.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "rtconn/clock.hpp"

namespace rtconn::dns {

/// Used on its owner's strand only.
template <class Answer>
class AnswerCache {
 public:
  explicit AnswerCache(std::size_t capacity) : capacity_(capacity) {}

  /// A copy: whoever is handed it may store or clear before using it up.
  std::optional<Answer> find(const std::string& question, Clock::time_point now) {
    const auto found = entries_.find(question);
    if (found == entries_.end()) return std::nullopt;
    if (found->second.expiry <= now) {
      entries_.erase(found);
      return std::nullopt;
    }
    return found->second.answer;
  }

  void store(std::string question, Answer answer, Clock::time_point expiry, Clock::time_point now) {
    if (capacity_ == 0 || expiry <= now) return;
    if (entries_.size() >= capacity_ && !entries_.contains(question)) make_room(now);
    entries_.insert_or_assign(std::move(question), Entry{std::move(answer), expiry});
  }

  void clear() noexcept { entries_.clear(); }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    Answer answer;
    Clock::time_point expiry;
  };

  // Runs only when full, so a full cache of live names costs a scan per new name: names are
  // looked up per connection set-up, not per message.
  void make_room(Clock::time_point now) {
    std::erase_if(entries_, [now](const auto& entry) { return entry.second.expiry <= now; });
    if (entries_.size() < capacity_) return;
    entries_.erase(std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.expiry < b.second.expiry; }));
  }

  std::size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace rtconn::dns
