#include "manager/pending_requests.hpp"

#include <vector>

#include <spdlog/spdlog.h>
#include <asio/post.hpp>

#include "rtconn/errors.hpp"

namespace rtconn::detail {

PendingRequests::PendingRequests(asio::any_io_executor executor, std::shared_ptr<Clock> clock)
    : strand_(asio::make_strand(std::move(executor))), clock_(std::move(clock)) {}

std::string PendingRequests::key_of(const SipMessage& message) {
  const auto branch = message.top_via_branch();
  const auto cseq = message.cseq();
  if (!branch || branch->empty() || !cseq) return {};
  std::string key(*branch);
  key += ' ';
  key += cseq->method;
  return key;
}

void PendingRequests::add(std::string key, std::uint64_t connection_id,
                          std::chrono::milliseconds timeout, Done done) {
  asio::post(strand_, [self = shared_from_this(), key = std::move(key), connection_id, timeout,
                       done = std::move(done)]() mutable {
    auto timer = self->clock_->make_timer(self->strand_);
    timer->arm(timeout, [weak = std::weak_ptr(self), key] {
      if (auto me = weak.lock()) me->finish(key, make_error_code(errc::request_timeout), {});
    });
    Entry entry{std::move(done), std::move(timer), connection_id};
    const auto [it, inserted] = self->entries_.try_emplace(key, std::move(entry));
    if (!inserted) {
      // A second request with the same branch would steal the first one's response.
      it->second.timer->cancel();
      auto previous = std::move(it->second.done);
      it->second = std::move(entry);
      previous(make_error_code(errc::invalid_argument), {});
    }
  });
}

void PendingRequests::on_response(SipMessage response) {
  asio::post(strand_, [self = shared_from_this(), response = std::move(response)]() mutable {
    if (response.status_code() < 200) return;
    const auto key = key_of(response);
    if (!self->entries_.contains(key)) {
      spdlog::debug("dropping a {} response that matches no request", response.status_code());
      return;
    }
    self->finish(key, {}, std::move(response));
  });
}

void PendingRequests::fail(std::string key, std::error_code ec) {
  asio::post(strand_,
             [self = shared_from_this(), key = std::move(key), ec] { self->finish(key, ec, {}); });
}

void PendingRequests::fail_connection(std::uint64_t connection_id, std::error_code ec) {
  asio::post(strand_, [self = shared_from_this(), connection_id, ec] {
    std::vector<std::string> keys;
    for (const auto& [key, entry] : self->entries_) {
      if (entry.connection_id == connection_id) keys.push_back(key);
    }
    for (const auto& key : keys) self->finish(key, ec, {});
  });
}

void PendingRequests::fail_all(std::error_code ec) {
  asio::post(strand_, [self = shared_from_this(), ec] {
    auto entries = std::move(self->entries_);
    self->entries_.clear();
    for (auto& [key, entry] : entries) {
      entry.timer->cancel();
      entry.done(ec, {});
    }
  });
}

void PendingRequests::finish(const std::string& key, std::error_code ec, SipMessage response) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return;
  auto entry = std::move(it->second);
  entries_.erase(it);
  entry.timer->cancel();
  entry.done(ec, std::move(response));
}

}  // namespace rtconn::detail
