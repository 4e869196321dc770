#pragma once
// The boundary between completion-token templates in public headers and the compiled bodies in
// src/: a move-only type-erased handler (Asio 1.22 has no any_completion_handler).

#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/prefer.hpp>

namespace rtconn::detail {

template <class Signature>
class UniqueFunction;

/// A move-only `std::function`: holds callables that cannot be copied, such as Asio handlers.
template <class R, class... Args>
class UniqueFunction<R(Args...)> {
 public:
  UniqueFunction() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, UniqueFunction>>>
  UniqueFunction(F&& f) : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  R operator()(Args... args) { return impl_->call(std::forward<Args>(args)...); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual R call(Args... args) = 0;
  };
  template <class F>
  struct Impl final : Base {
    explicit Impl(F&& f) : f_(std::move(f)) {}
    explicit Impl(const F& f) : f_(f) {}
    R call(Args... args) override { return f_(std::forward<Args>(args)...); }
    F f_;
  };
  std::unique_ptr<Base> impl_;
};

/// A completion the library calls exactly once with the operation's result.
template <class... Args>
using Completion = UniqueFunction<void(Args...)>;

/// Wraps an Asio completion handler: calling the result runs the handler on its associated
/// executor (else `fallback`), and keeps that executor's context busy until then.
template <class... Args, class Handler>
Completion<Args...> make_completion(Handler&& handler, const asio::any_io_executor& fallback) {
  auto work = asio::prefer(asio::get_associated_executor(handler, fallback),
                           asio::execution::outstanding_work.tracked);
  return [handler = std::forward<Handler>(handler), work = std::move(work)](Args... args) mutable {
    asio::dispatch(work, [handler = std::move(handler),
                          result = std::make_tuple(std::move(args)...)]() mutable {
      std::apply(std::move(handler), std::move(result));
    });
  };
}

}  // namespace rtconn::detail
