#pragma once
// The lifetime guard the per-thread caches share. A cache is a thread_local object; other
// thread_locals (a thread's scratch message, say) may give it buffers from their destructors
// after it was destroyed at thread exit. Touching it then would be undefined, so each cache
// keeps a trivially destructible state beside it, readable at any time.

namespace rtconn::detail {

template <class Cache>
class ThreadCache {
 public:
  /// The calling thread's `Cache`, built on first use; nullptr once the thread has destroyed it.
  static Cache* get() noexcept {
    if (state == State::gone) return nullptr;
    static thread_local Guarded cache;
    return &cache;
  }

 private:
  enum class State : unsigned char { unused, alive, gone };
  struct Guarded : Cache {
    Guarded() noexcept { state = State::alive; }
    ~Guarded() { state = State::gone; }
  };
  static inline thread_local State state = State::unused;
};

}  // namespace rtconn::detail
