#pragma once
// A strand over an application's executor, as an any_io_executor that copies without allocating.
// A strand<any_io_executor> is too large for any_io_executor's inline storage, so every copy of
// the handle (Asio makes several per handler) went to the heap; a strand over an io_context's own
// executor type fits. Other executors get the general strand.

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>

namespace rtconn::detail {

inline asio::any_io_executor make_light_strand(const asio::any_io_executor& executor) {
  if (const auto* io = executor.target<asio::io_context::executor_type>()) {
    return asio::make_strand(*io);
  }
  return asio::make_strand(executor);
}

}  // namespace rtconn::detail
