#pragma once
// The boundary between completion-token templates in public headers and the compiled bodies in
// src/: a move-only type-erased handler (Asio 1.22 has no any_completion_handler).

#include <cstddef>
#include <memory>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

namespace rtconn::detail {

template <class Signature>
class UniqueFunction;

/// Storage for callables too large to keep inline: blocks handed from one to the next on a
/// thread (bounded per thread), so a request made where the last one completed (a handler on
/// the manager's loop) allocates none for its completions.
void* allocate_callable(std::size_t bytes);
void deallocate_callable(void* pointer, std::size_t bytes) noexcept;

/// A move-only `std::function`: holds callables that cannot be copied, such as Asio handlers.
/// One of up to two words (what the library's own completions capture: a connection's `self`,
/// or an id and a status) is kept inline, so handing it over allocates nothing. Two, not more:
/// a connection's idle write queue keeps two of these, and each word counts there. A larger one
/// goes in a block from the thread's cache (allocate_callable).
template <class R, class... Args>
class UniqueFunction<R(Args...)> {
 public:
  UniqueFunction() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, UniqueFunction>>>
  UniqueFunction(F&& f) {
    using Target = std::decay_t<F>;
    if constexpr (fits_inline<Target>) {
      ::new (static_cast<void*>(storage_)) Target(std::forward<F>(f));
    } else if constexpr (!fits_a_block<Target>) {
      ::new (static_cast<void*>(storage_)) Target*(new Target(std::forward<F>(f)));
    } else {
      void* block = allocate_callable(sizeof(Target));
      try {
        ::new (static_cast<void*>(storage_)) Target*(::new (block) Target(std::forward<F>(f)));
      } catch (...) {
        deallocate_callable(block, sizeof(Target));
        throw;
      }
    }
    ops_ = &ops_for<Target>;
  }
  UniqueFunction(UniqueFunction&& other) noexcept { take(other); }
  UniqueFunction& operator=(UniqueFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  UniqueFunction(const UniqueFunction&) = delete;
  UniqueFunction& operator=(const UniqueFunction&) = delete;
  ~UniqueFunction() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  R operator()(Args... args) { return ops_->call(storage_, std::forward<Args>(args)...); }

 private:
  static constexpr std::size_t inline_size = 2 * sizeof(void*);
  template <class F>
  static constexpr bool fits_inline =
      sizeof(F) <= inline_size &&
      alignof(F) <= alignof(void*) && std::is_nothrow_move_constructible_v<F>;
  // What allocate_callable's blocks are aligned for; a callable asking more gets its own.
  template <class F>
  static constexpr bool fits_a_block = alignof(F) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__;

  struct Ops {
    R (*call)(void* storage, Args&&... args);
    // Moves the callable (or, when on the heap, the pointer to it) from one storage to another
    // and destroys what is left in the first.
    void (*relocate)(void* from, void* to) noexcept;
    void (*destroy)(void* storage) noexcept;
  };
  template <class F>
  static F& target(void* storage) noexcept {
    if constexpr (fits_inline<F>) {
      return *std::launder(static_cast<F*>(storage));
    } else {
      return **std::launder(static_cast<F**>(storage));
    }
  }
  template <class F>
  static constexpr Ops ops_for = {[](void* storage, Args&&... args) -> R {
                                    return target<F>(storage)(std::forward<Args>(args)...);
                                  },
                                  [](void* from, void* to) noexcept {
                                    if constexpr (fits_inline<F>) {
                                      ::new (to) F(std::move(target<F>(from)));
                                      target<F>(from).~F();
                                    } else {
                                      ::new (to) F*(*std::launder(static_cast<F**>(from)));
                                    }
                                  },
                                  [](void* storage) noexcept {
                                    if constexpr (fits_inline<F>) {
                                      target<F>(storage).~F();
                                    } else if constexpr (!fits_a_block<F>) {
                                      delete &target<F>(storage);
                                    } else {
                                      F* f = &target<F>(storage);
                                      f->~F();
                                      deallocate_callable(f, sizeof(F));
                                    }
                                  }};

  void take(UniqueFunction& other) noexcept {
    if (other.ops_ == nullptr) return;
    other.ops_->relocate(other.storage_, storage_);
    ops_ = std::exchange(other.ops_, nullptr);
  }
  void reset() noexcept {
    if (ops_ != nullptr) std::exchange(ops_, nullptr)->destroy(storage_);
  }

  alignas(void*) unsigned char storage_[inline_size];
  const Ops* ops_ = nullptr;
};

/// A completion the library calls exactly once with the operation's result.
template <class... Args>
using Completion = UniqueFunction<void(Args...)>;

/// How many initiating functions (async_send, async_request, ...) the calling thread is inside.
inline thread_local int initiating_depth = 0;

/// Marks the calling thread as inside an initiating function for its lifetime: a completion
/// called meanwhile (an operation that failed before it started: no route, a closed connection)
/// is posted rather than dispatched, so no handler runs inside the call that started its
/// operation. That is Asio's rule, and a caller chaining operations from its handlers would
/// otherwise go a frame deeper each time (`rtconn ping --count 200000` against a TLS context that
/// could not be made overflowed its stack).
class InitiatingScope {
 public:
  InitiatingScope() noexcept { ++initiating_depth; }
  ~InitiatingScope() { --initiating_depth; }
  InitiatingScope(const InitiatingScope&) = delete;
  InitiatingScope& operator=(const InitiatingScope&) = delete;
};

/// Wraps an Asio completion handler: calling the result runs the handler on its associated
/// executor (else `fallback`), and keeps that executor's context busy until then; at once when
/// called on that executor, outside an InitiatingScope.
template <class... Args, class Handler>
Completion<Args...> make_completion(Handler&& handler, const asio::any_io_executor& fallback) {
  auto work = asio::prefer(asio::get_associated_executor(handler, fallback),
                           asio::execution::outstanding_work.tracked);
  return [handler = std::forward<Handler>(handler), work = std::move(work)](Args... args) mutable {
    auto run = [handler = std::move(handler),
                result = std::make_tuple(std::move(args)...)]() mutable {
      std::apply(std::move(handler), std::move(result));
    };
    if (initiating_depth > 0) {
      asio::post(work, std::move(run));
    } else {
      asio::dispatch(work, std::move(run));
    }
  };
}

}  // namespace rtconn::detail
