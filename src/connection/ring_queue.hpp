#pragma once
// A FIFO on one power-of-two ring that allocates nothing while empty. A connection's write queue
// is empty most of its life; std::deque allocates about 600 bytes up front and keeps them, which
// alone is a quarter of the memory an idle connection may cost.

#include <cstddef>
#include <memory>
#include <utility>

namespace rtconn::connection {

template <class T>
class RingQueue {
 public:
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
    auto slots = std::make_unique<T[]>(capacity);
    for (std::size_t i = 0; i < size_; ++i) slots[i] = std::move((*this)[i]);
    slots_ = std::move(slots);
    capacity_ = capacity;
    head_ = 0;
  }

  void release_if_empty() {
    if (size_ != 0) return;
    head_ = 0;
    if (capacity_ > kept_when_empty) {
      slots_.reset();
      capacity_ = 0;
    }
  }

  std::unique_ptr<T[]> slots_;
  std::size_t capacity_ = 0;  // 0 or a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace rtconn::connection
