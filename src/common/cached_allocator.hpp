#pragma once
// A standard allocator over per-thread free lists of small blocks, for the fixed-size objects the
// per-message path makes and drops every time: a request's transaction token, the slots of a
// write queue that grows past its idle size. Each size class (64 to 2048 bytes) keeps a bounded
// number of blocks per thread; a block freed on another thread joins that thread's list.

#include <array>
#include <cstddef>
#include <new>
#include <utility>

#include "common/thread_cache.hpp"

namespace rtconn::detail {

class BlockCache {
 public:
  static void* allocate(std::size_t bytes) {
    const std::size_t size_class = class_of(bytes);
    if (size_class < classes) {
      if (Lists* lists = ThreadCache<Lists>::get(); lists && lists->heads[size_class]) {
        Block* block = lists->heads[size_class];
        lists->heads[size_class] = block->next;
        --lists->counts[size_class];
        return block;
      }
      return ::operator new(smallest << size_class);
    }
    return ::operator new(bytes);
  }

  static void deallocate(void* pointer, std::size_t bytes) noexcept {
    const std::size_t size_class = class_of(bytes);
    if (size_class < classes) {
      if (Lists* lists = ThreadCache<Lists>::get();
          lists && lists->counts[size_class] < kept_per_class) {
        lists->heads[size_class] = new (pointer) Block{lists->heads[size_class]};
        ++lists->counts[size_class];
        return;
      }
    }
    ::operator delete(pointer);
  }

 private:
  struct Block {
    Block* next;
  };
  static constexpr std::size_t smallest = 64;
  static constexpr std::size_t classes = 6;  // 64 .. 2048 bytes
  static constexpr std::size_t kept_per_class = 32;

  struct Lists {
    std::array<Block*, classes> heads{};
    std::array<std::size_t, classes> counts{};
    ~Lists() {
      for (Block* head : heads) {
        while (head) ::operator delete(std::exchange(head, head->next));
      }
    }
  };

  /// The size class holding `bytes`; `classes` when it is larger than any.
  static constexpr std::size_t class_of(std::size_t bytes) noexcept {
    std::size_t size_class = 0;
    while (size_class < classes && (smallest << size_class) < bytes) ++size_class;
    return size_class;
  }
};

template <class T>
struct CachedAllocator {
  using value_type = T;
  CachedAllocator() noexcept = default;
  template <class U>
  CachedAllocator(const CachedAllocator<U>&) noexcept {}
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  T* allocate(std::size_t n) { return static_cast<T*>(BlockCache::allocate(n * sizeof(T))); }
  void deallocate(T* pointer, std::size_t n) noexcept {
    BlockCache::deallocate(pointer, n * sizeof(T));
  }
  template <class U>
  bool operator==(const CachedAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace rtconn::detail
