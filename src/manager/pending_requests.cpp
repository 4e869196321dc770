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
    : strand_(make_light_strand(executor)),
      clock_(std::move(clock)),
      timer_(clock_->make_timer(strand_)) {}

std::string PendingRequests::key_of(const SipMessage& message) {
  const auto parts = key_parts_of(message);
  if (!parts) return {};
  std::string key = RecycledStrings::take();
  key.append(parts->first).append(" ").append(parts->second);
  return key;
}

void PendingRequests::add(std::string key, std::uint64_t connection_id,
                          std::chrono::milliseconds timeout, Done done) {
  asio::post(strand_, [self = shared_from_this(), key = std::move(key), connection_id, timeout,
                       done = std::move(done)]() mutable {
    self->insert(std::move(key), connection_id, self->clock_->now() + timeout, std::move(done));
  });
}

void PendingRequests::insert(std::string key, std::uint64_t connection_id,
                             Clock::time_point deadline, Done done) {
  auto [it, inserted] = entries_.try_emplace(std::move(key));
  Done replaced;
  if (!inserted) {
    // A second request with the same branch would steal the first one's response.
    heap_remove(it->second.heap_index);
    replaced = std::move(it->second.done);
  }
  it->second.done = std::move(done);
  it->second.connection_id = connection_id;
  it->second.deadline = deadline;
  heap_push(&*it);
  if (deadline < armed_for_) arm_for_earliest();
  // Last: a completion may run its handler here, and one that throws must find the table whole.
  if (replaced) replaced(make_error_code(errc::invalid_argument), {});
}

void PendingRequests::on_response(SipMessage response, std::uint64_t connection_id,
                                  std::error_code rejected) {
  asio::post(strand_, [self = shared_from_this(), response = std::move(response), connection_id,
                       rejected]() mutable {
    if (response.status_code() < 200) return;
    const auto parts = key_parts_of(response);
    const auto it =
        parts ? self->entries_.find(KeyParts{parts->first, parts->second}) : self->entries_.end();
    if (it == self->entries_.end()) {
      spdlog::debug("dropping a {} response that matches no request", response.status_code());
      return;
    }
    if (it->second.connection_id != connection_id) {
      spdlog::debug("dropping a {} response on connection {} to a request sent on connection {}",
                    response.status_code(), connection_id, it->second.connection_id);
      return;
    }
    if (rejected) return self->finish(it, rejected, {});
    self->finish(it, {}, std::move(response));
  });
}

void PendingRequests::fail(std::string key, std::error_code ec) {
  asio::post(strand_, [self = shared_from_this(), key = std::move(key), ec] {
    if (const auto it = self->entries_.find(key); it != self->entries_.end()) {
      self->finish(it, ec, {});
    }
  });
}

void PendingRequests::fail_connection(std::uint64_t connection_id, std::error_code ec) {
  asio::post(strand_, [self = shared_from_this(), connection_id, ec] {
    std::vector<Done> failed;
    for (auto it = self->entries_.begin(); it != self->entries_.end();) {
      const auto next = std::next(it);
      if (it->second.connection_id == connection_id) failed.push_back(self->take(it));
      it = next;
    }
    self->complete_apart(std::move(failed), ec);
  });
}

void PendingRequests::fail_all(std::error_code ec) {
  asio::post(strand_, [self = shared_from_this(), ec] {
    auto entries = std::move(self->entries_);
    self->entries_.clear();
    self->deadlines_.clear();
    self->timer_->cancel();
    self->armed_for_ = Clock::time_point::max();
    std::vector<Done> failed;
    failed.reserve(entries.size());
    for (auto& [key, entry] : entries) failed.push_back(std::move(entry.done));
    self->complete_apart(std::move(failed), ec);
  });
}

PendingRequests::Done PendingRequests::take(Entries::iterator it) {
  heap_remove(it->second.heap_index);
  auto node = entries_.extract(it);
  RecycledStrings::give_back(std::move(node.key()));
  // The timer stays armed for a deadline that may now be gone: when it fires it re-arms for the
  // earliest left, which costs one wake-up per time-out period instead of a re-arm per answer.
  return std::move(node.mapped().done);
}

void PendingRequests::finish(Entries::iterator it, std::error_code ec, SipMessage response) {
  take(it)(ec, std::move(response));
}

void PendingRequests::on_timer() {
  armed_for_ = Clock::time_point::max();
  const auto now = clock_->now();
  std::vector<Done> overdue;
  while (!deadlines_.empty() && deadlines_.front()->second.deadline <= now) {
    overdue.push_back(take(entries_.find(deadlines_.front()->first)));
  }
  arm_for_earliest();
  complete_apart(std::move(overdue), make_error_code(errc::request_timeout));
}

void PendingRequests::complete_apart(std::vector<Done> completions, std::error_code ec) {
  // Each in a handler of its own: one whose handler throws then takes none of the others with
  // it (a time-out or a closed connection ends many at once).
  for (auto& done : completions) {
    asio::post(strand_, [done = std::move(done), ec]() mutable { done(ec, {}); });
  }
}

void PendingRequests::arm_for_earliest() {
  if (deadlines_.empty()) return;
  armed_for_ = deadlines_.front()->second.deadline;
  timer_->arm(std::max(armed_for_ - clock_->now(), Clock::duration::zero()),
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
