#pragma once
// A counter one thread writes and any thread reads.

#include <atomic>
#include <cstdint>

namespace rtconn::connection {

/// Written only on one connection's strand, read from anywhere: with a single writer, a relaxed
/// load and store is enough (no locked read-modify-write, no mutex on the per-message path).
class SingleWriterCounter {
 public:
  void add(std::uint64_t n) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace rtconn::connection
