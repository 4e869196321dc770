#pragma once
// Warnings a peer can provoke over and over (refused connections, answers it never reads) are
// counted, and logged when the count reaches a power of two: a flood shows in the log without
// filling it.

#include <atomic>
#include <cstdint>
#include <string_view>

#include <spdlog/spdlog.h>

namespace rtconn::detail {

inline void count_and_log(std::atomic<std::uint64_t>& counter, std::string_view what) {
  const auto count = counter.fetch_add(1, std::memory_order_relaxed) + 1;
  if ((count & (count - 1)) == 0) spdlog::warn("{} ({} so far)", what, count);
}

}  // namespace rtconn::detail
