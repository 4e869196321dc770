#pragma once
// Buffers handed from one message to the next on a thread, so the per-message path allocates
// nothing once a thread has answered a few: the parsed request's text and header table, the
// answer's wire bytes, a connection's list of finished writes. Bounded in count and in each
// buffer's capacity: what a burst of large messages grew is freed, not kept.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "common/thread_cache.hpp"

namespace rtconn::detail {

/// `Buffer` is a std::string or std::vector: clear() keeps its capacity.
template <class Buffer, std::size_t MaxKept, std::size_t MaxCapacity>
class RecycledBuffers {
 public:
  /// An empty buffer: one given back earlier on this thread when there is one.
  static Buffer take() noexcept {
    Cache* cache = ThreadCache<Cache>::get();
    if (cache == nullptr || cache->count == 0) return Buffer{};
    return std::move(cache->kept[--cache->count]);
  }

  /// Keeps `buffer`'s storage for a later take() on this thread, unless it has none worth
  /// keeping, is larger than the bound, or the thread keeps enough already.
  static void give_back(Buffer&& buffer) noexcept {
    if (buffer.capacity() <= Buffer{}.capacity() || buffer.capacity() > MaxCapacity) return;
    Cache* cache = ThreadCache<Cache>::get();
    if (cache == nullptr || cache->count == MaxKept) return;
    buffer.clear();
    cache->kept[cache->count++] = std::move(buffer);
  }

 private:
  struct Cache {
    std::array<Buffer, MaxKept> kept;
    std::size_t count = 0;
  };
};

/// Message-sized strings: a parsed message's text, an answer's wire bytes.
using RecycledStrings = RecycledBuffers<std::string, 32, 4096>;

/// A copy of `text` in one of RecycledStrings, given back when it is destroyed: for a string a
/// completion keeps, which goes where the completion ran.
class RecycledString {
 public:
  explicit RecycledString(std::string_view text) : text_(RecycledStrings::take()) {
    text_.assign(text);
  }
  RecycledString(RecycledString&&) noexcept = default;
  RecycledString& operator=(RecycledString&&) = delete;
  ~RecycledString() { RecycledStrings::give_back(std::move(text_)); }

  std::string_view view() const noexcept { return text_; }

 private:
  std::string text_;
};

}  // namespace rtconn::detail
