#pragma once
// A FIFO on one power-of-two ring that allocates nothing while empty. A connection's write queue
// is empty most of its life; std::deque allocates about 600 bytes up front and keeps them, which
// alone is a quarter of the memory an idle connection may cost. A ring that grew past its idle
// size and is released takes its slots from, and gives them back to, the thread's block cache.

#include <cstddef>
#include <memory>
#include <utility>

#include "common/cached_allocator.hpp"

namespace rtconn::connection {

template <class T>
class RingQueue {
 public:
  RingQueue() = default;
  RingQueue(const RingQueue&) = delete;
  RingQueue& operator=(const RingQueue&) = delete;
  ~RingQueue() { release(); }

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  /// The i-th element from the front.
  T& operator[](std::size_t i) noexcept { return slots_[(head_ + i) & (capacity_ - 1)]; }
  T& front() noexcept { return (*this)[0]; }
  T& back() noexcept { return (*this)[size_ - 1]; }

  void push_back(T value) {
    if (size_ == capacity_) grow();
    (*this)[size_] = std::move(value);
    ++size_;
  }

  T take_front() {
    T value = std::exchange(front(), T{});
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
    release_if_empty();
    return value;
  }

  T take_back() {
    T value = std::exchange(back(), T{});
    --size_;
    release_if_empty();
    return value;
  }

 private:
  // A few slots stay allocated when empty: a connection trading one message at a time would
  // otherwise allocate for every send.
  static constexpr std::size_t kept_when_empty = 4;

  void grow() {
    const std::size_t capacity = capacity_ == 0 ? 2 : capacity_ * 2;
    T* slots = allocator_.allocate(capacity);
    std::uninitialized_default_construct_n(slots, capacity);
    for (std::size_t i = 0; i < size_; ++i) slots[i] = std::move((*this)[i]);
    release();
    slots_ = slots;
    capacity_ = capacity;
    head_ = 0;
  }

  void release() noexcept {
    if (slots_ == nullptr) return;
    std::destroy_n(slots_, capacity_);
    allocator_.deallocate(slots_, capacity_);
    slots_ = nullptr;
  }

  void release_if_empty() {
    if (size_ != 0) return;
    head_ = 0;
    if (capacity_ > kept_when_empty) {
      release();
      capacity_ = 0;
    }
  }

  [[no_unique_address]] detail::CachedAllocator<T> allocator_;
  T* slots_ = nullptr;
  std::size_t capacity_ = 0;  // 0 or a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace rtconn::connection
