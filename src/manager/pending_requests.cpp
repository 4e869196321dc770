#include "manager/pending_requests.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>
#include <asio/post.hpp>

#include "common/light_strand.hpp"
#include "common/recycled_buffers.hpp"
#include "rtconn/errors.hpp"

namespace rtconn::detail {
namespace {

// FNV-1a, fed in pieces: the hash of "branch method" is the same whether it is one string or
// its two parts.
constexpr std::size_t fnv_offset = 14695981039346656037ull;
constexpr std::size_t fnv_prime = 1099511628211ull;

std::size_t fnv(std::size_t hash, std::string_view bytes) noexcept {
  for (const char c : bytes) hash = (hash ^ static_cast<unsigned char>(c)) * fnv_prime;
  return hash;
}

std::optional<std::pair<std::string_view, std::string_view>> key_parts_of(
    const SipMessage& message) {
  const auto branch = message.top_via_branch();
  const auto cseq = message.cseq();
  if (!branch || branch->empty() || !cseq) return std::nullopt;
  return std::pair{*branch, std::string_view(cseq->method)};
}

}  // namespace

std::size_t PendingRequests::KeyHash::operator()(std::string_view key) const noexcept {
  return fnv(fnv_offset, key);
}

std::size_t PendingRequests::KeyHash::operator()(const KeyParts& key) const noexcept {
  return fnv(fnv(fnv(fnv_offset, key.branch), " "), key.method);
}

bool PendingRequests::KeyEqual::operator()(const KeyParts& a, std::string_view b) const noexcept {
  return b.size() == a.branch.size() + 1 + a.method.size() && b.starts_with(a.branch) &&
         b[a.branch.size()] == ' ' && b.ends_with(a.method);
}

PendingRequests::PendingRequests(asio::any_io_executor executor, std::shared_ptr<Clock> clock)
    : executor_(std::move(executor)),
      strand_(make_light_strand(executor_)),
      clock_(std::move(clock)),
      timer_(clock_->make_timer(strand_)) {}

std::string PendingRequests::key_of(const SipMessage& message) {
  const auto parts = key_parts_of(message);
  if (!parts) return {};
  std::string key = RecycledStrings::take();
  key.append(parts->first).append(" ").append(parts->second);
  return key;
}

std::uint64_t PendingRequests::add(std::string key, std::uint64_t connection_id,
                                   std::chrono::milliseconds timeout, Done done) {
  const auto deadline = clock_->now() + timeout;
  Done replaced;
  std::uint64_t ticket = 0;
  bool rearm = false;
  std::error_code refused;
  {
    std::lock_guard lock(mutex_);
    refused = failed_all_;
    if (!refused) {
      // What may throw (bad_alloc) first, before the table changes: an entry half filed would
      // be unlinked from a list it is not in.
      if (deadlines_.size() == deadlines_.capacity()) {
        deadlines_.reserve(std::max<std::size_t>(16, 2 * deadlines_.capacity()));  // as push_back
      }
      Node*& first = by_connection_[connection_id];
      auto [it, inserted] = entries_.try_emplace(std::move(key));
      std::uint64_t replaced_on = connection_id;
      if (!inserted) {
        heap_remove(it->second.heap_index);
        unlink(&*it);
        replaced = std::move(it->second.done);
        replaced_on = it->second.connection_id;
      }
      ticket = next_ticket_++;
      it->second = Entry{std::move(done), ticket, connection_id, deadline};
      heap_push(&*it);
      link(&*it, first);
      // The same key from another connection: the one it was on may have closed already.
      if (replaced_on != connection_id) forget_if_idle(replaced_on);
      rearm = deadline < armed_for_;
      if (rearm) armed_for_ = deadline;
    }
  }
  if (refused) {
    complete_later(std::move(done), refused);
    return 0;
  }
  // Timer calls stay on the strand; deadlines mostly come in order, so this is rare.
  if (rearm) {
    asio::post(strand_, [weak = weak_from_this()] {
      if (const auto self = weak.lock()) self->arm_for_earliest();
    });
  }
  if (replaced) complete_later(std::move(replaced), make_error_code(errc::invalid_argument));
  return ticket;
}

bool PendingRequests::on_response(SipMessage& response, std::uint64_t connection_id,
                                  std::error_code rejected) {
  if (response.status_code() < 200) return false;
  const auto parts = key_parts_of(response);
  if (!parts) return false;
  Done done;
  {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(KeyParts{parts->first, parts->second});
    if (it == entries_.end()) return false;
    if (it->second.connection_id != connection_id) {
      spdlog::debug("a {} response on connection {} to a request sent on connection {}",
                    response.status_code(), connection_id, it->second.connection_id);
      return false;
    }
    done = take(it);
  }
  if (rejected) {
    complete_later(std::move(done), rejected);
  } else {
    complete_later(std::move(done), {}, std::move(response));
  }
  return true;
}

void PendingRequests::fail(std::string_view key, std::uint64_t ticket, std::error_code ec) {
  Done done;
  {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.ticket != ticket) return;
    const auto connection_id = it->second.connection_id;
    done = take(it);
    forget_if_idle(connection_id);
  }
  complete_later(std::move(done), ec);
}

void PendingRequests::fail_connection(std::uint64_t connection_id, std::error_code ec) {
  std::vector<Done> failed;
  {
    std::lock_guard lock(mutex_);
    const auto list = by_connection_.find(connection_id);
    if (list == by_connection_.end()) return;
    // take() unlinks each from the front of the list.
    while (const Node* first = list->second) failed.push_back(take(entries_.find(first->first)));
    by_connection_.erase(list);
  }
  complete_apart(std::move(failed), ec);
}

void PendingRequests::fail_all(std::error_code ec) {
  Entries entries;
  {
    std::lock_guard lock(mutex_);
    failed_all_ = ec;
    entries = std::move(entries_);
    entries_.clear();
    deadlines_.clear();
    by_connection_.clear();
    armed_for_ = Clock::time_point::max();
  }
  asio::post(strand_, [weak = weak_from_this()] {
    if (const auto self = weak.lock()) self->timer_->cancel();
  });
  std::vector<Done> failed;
  failed.reserve(entries.size());
  for (auto& [key, entry] : entries) failed.push_back(std::move(entry.done));
  complete_apart(std::move(failed), ec);
}

PendingRequests::Done PendingRequests::take(Entries::iterator it) {
  heap_remove(it->second.heap_index);
  unlink(&*it);
  auto node = entries_.extract(it);
  RecycledStrings::give_back(std::move(node.key()));
  // The timer stays armed for a deadline that may now be gone: when it fires it re-arms for the
  // earliest left, which costs one wake-up per time-out period instead of a re-arm per answer.
  return std::move(node.mapped().done);
}

void PendingRequests::link(Node* node, Node*& first) noexcept {
  node->second.first_on_connection = &first;  // stays put: the map's elements never move
  node->second.previous_on_connection = nullptr;
  node->second.next_on_connection = first;
  if (first != nullptr) first->second.previous_on_connection = node;
  first = node;
}

void PendingRequests::unlink(Node* node) noexcept {
  Entry& entry = node->second;
  if (entry.previous_on_connection != nullptr) {
    entry.previous_on_connection->second.next_on_connection = entry.next_on_connection;
  } else {
    *entry.first_on_connection = entry.next_on_connection;
  }
  if (entry.next_on_connection != nullptr) {
    entry.next_on_connection->second.previous_on_connection = entry.previous_on_connection;
  }
}

std::size_t PendingRequests::connections_listed() {
  std::lock_guard lock(mutex_);
  return by_connection_.size();
}

void PendingRequests::forget_if_idle(std::uint64_t connection_id) {
  if (const auto list = by_connection_.find(connection_id);
      list != by_connection_.end() && list->second == nullptr) {
    by_connection_.erase(list);
  }
}

void PendingRequests::complete_later(Done done, std::error_code ec, SipMessage response) {
  asio::post(executor_, [done = std::move(done), ec, response = std::move(response)]() mutable {
    done(ec, std::move(response));
  });
}

void PendingRequests::complete_apart(std::vector<Done> completions, std::error_code ec) {
  for (auto& done : completions) complete_later(std::move(done), ec);
}

void PendingRequests::on_timer() {
  std::vector<Done> overdue;
  {
    std::lock_guard lock(mutex_);
    armed_for_ = Clock::time_point::max();
    const auto now = clock_->now();
    while (!deadlines_.empty() && deadlines_.front()->second.deadline <= now) {
      const auto connection_id = deadlines_.front()->second.connection_id;
      overdue.push_back(take(entries_.find(deadlines_.front()->first)));
      forget_if_idle(connection_id);
    }
  }
  arm_for_earliest();
  complete_apart(std::move(overdue), make_error_code(errc::request_timeout));
}

void PendingRequests::arm_for_earliest() {
  Clock::time_point earliest;
  {
    std::lock_guard lock(mutex_);
    // Empty, and `armed_for_` may name a request that left before this ran: forgotten, or the
    // next one, later than it, would never arm the timer.
    earliest = armed_for_ =
        deadlines_.empty() ? Clock::time_point::max() : deadlines_.front()->second.deadline;
  }
  if (earliest == Clock::time_point::max()) return timer_->cancel();
  timer_->arm(std::max(earliest - clock_->now(), Clock::duration::zero()),
              [weak = weak_from_this()] {
                if (const auto self = weak.lock()) self->on_timer();
              });
}

void PendingRequests::heap_push(Node* node) {
  node->second.heap_index = deadlines_.size();
  deadlines_.push_back(node);
  heap_place(deadlines_.size() - 1);
}

void PendingRequests::heap_remove(std::size_t index) {
  const std::size_t last = deadlines_.size() - 1;
  if (index != last) heap_swap(index, last);
  deadlines_.pop_back();
  if (index < deadlines_.size()) heap_place(index);
}

// Moves the entry at `index` up or down to where the heap order wants it.
void PendingRequests::heap_place(std::size_t index) {
  while (index > 0 && heap_before(index, (index - 1) / 2)) {
    heap_swap(index, (index - 1) / 2);
    index = (index - 1) / 2;
  }
  for (;;) {
    const std::size_t left = 2 * index + 1;
    const std::size_t right = left + 1;
    std::size_t earliest = index;
    if (left < deadlines_.size() && heap_before(left, earliest)) earliest = left;
    if (right < deadlines_.size() && heap_before(right, earliest)) earliest = right;
    if (earliest == index) return;
    heap_swap(index, earliest);
    index = earliest;
  }
}

bool PendingRequests::heap_before(std::size_t a, std::size_t b) const noexcept {
  return deadlines_[a]->second.deadline < deadlines_[b]->second.deadline;
}

void PendingRequests::heap_swap(std::size_t a, std::size_t b) noexcept {
  std::swap(deadlines_[a], deadlines_[b]);
  deadlines_[a]->second.heap_index = a;
  deadlines_[b]->second.heap_index = b;
}

}  // namespace rtconn::detail
