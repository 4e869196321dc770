#pragma once
// Completing an operation in a handler of its own: one that fails before it starts (a request
// that cannot be sent, no route) must not run its handler inside the call that started it.
// That is Asio's rule for initiating functions, and a caller that starts the next operation
// from the handler would otherwise go a frame deeper each time: `rtconn ping --count 200000`
// against a TLS context that could not be made overflowed its stack.

#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/post.hpp>

#include "rtconn/detail/completion.hpp"

namespace rtconn::detail {

template <class... Args>
void complete_posted(const asio::any_io_executor& executor, Completion<Args...> done,
                     Args... args) {
  asio::post(executor, [done = std::move(done), ... args = std::move(args)]() mutable {
    done(std::move(args)...);
  });
}

}  // namespace rtconn::detail
