#pragma once
/// \file
/// Events in the style of UCMA's: `manager.connection_pool_added += handler;`.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace rtconn {

/// Identifies a handler added with `+=`, to take it away again with `-=`.
struct HandlerToken {
  std::uint64_t id = 0;
};

/// Keeps a handler subscribed while it lives; destroying it removes the handler. Safe to destroy
/// after the event itself is gone.
class [[nodiscard]] Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> remove) : remove_(std::move(remove)) {}
  Subscription(Subscription&& other) noexcept : remove_(std::exchange(other.remove_, {})) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      remove_ = std::exchange(other.remove_, {});
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }

  /// Removes the handler now.
  void reset() {
    if (auto remove = std::exchange(remove_, {})) remove();
  }

 private:
  std::function<void()> remove_;
};

namespace detail {
template <class Args>
struct EventAccess;
}

/// A list of handlers called with `const Args&` each time the owner raises the event.
///
/// Thread-safe: handlers may be added and removed from any thread, also from inside a handler
/// (the list is copied before a raise, so a change takes effect from the next raise). The owner
/// documents on which executor it raises; rtconn's managers raise on their event strand, one
/// event at a time, in the order things happened.
template <class Args>
class Event {
 public:
  using Handler = std::function<void(const Args&)>;

  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  /// Adds a handler for the event's lifetime (or until `-=`), as in C#.
  HandlerToken operator+=(Handler handler) { return {state_->add(std::move(handler))}; }
  /// Removes a handler added with `+=`.
  void operator-=(HandlerToken token) { state_->remove(token.id); }
  /// Adds a handler for as long as the returned subscription lives.
  Subscription subscribe(Handler handler) {
    const auto id = state_->add(std::move(handler));
    return Subscription([weak = std::weak_ptr<State>(state_), id] {
      if (auto state = weak.lock()) state->remove(id);
    });
  }
  /// Number of handlers subscribed.
  std::size_t handler_count() const { return state_->count.load(std::memory_order_acquire); }

 private:
  friend struct detail::EventAccess<Args>;

  struct State {
    std::mutex mutex;  // guards handlers and next_id
    std::vector<std::pair<std::uint64_t, std::shared_ptr<const Handler>>> handlers;
    std::uint64_t next_id = 1;
    // handlers.size(), for owners to skip raising an event nobody listens to without a lock.
    std::atomic<std::size_t> count{0};

    std::uint64_t add(Handler handler) {
      std::lock_guard lock(mutex);
      handlers.emplace_back(next_id, std::make_shared<const Handler>(std::move(handler)));
      count.store(handlers.size(), std::memory_order_release);
      return next_id++;
    }
    void remove(std::uint64_t id) {
      std::lock_guard lock(mutex);
      std::erase_if(handlers, [id](const auto& entry) { return entry.first == id; });
      count.store(handlers.size(), std::memory_order_release);
    }
  };

  void raise(const Args& args) const {
    std::vector<std::shared_ptr<const Handler>> snapshot;
    {
      std::lock_guard lock(state_->mutex);
      snapshot.reserve(state_->handlers.size());
      for (const auto& entry : state_->handlers) snapshot.push_back(entry.second);
    }
    for (const auto& handler : snapshot) (*handler)(args);
  }
  void clear() {
    std::lock_guard lock(state_->mutex);
    state_->handlers.clear();
    state_->count.store(0, std::memory_order_release);
  }

  std::shared_ptr<State> state_ = std::make_shared<State>();
};

namespace detail {
/// How an owner raises or clears an event; kept out of the event's public surface.
template <class Args>
struct EventAccess {
  static void raise(const Event<Args>& event, const Args& args) { event.raise(args); }
  static void clear(Event<Args>& event) { event.clear(); }
};
}  // namespace detail

}  // namespace rtconn
