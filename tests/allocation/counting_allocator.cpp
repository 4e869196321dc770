#include "counting_allocator.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace rtconn::allocation {
namespace {

thread_local bool counted_thread = false;
std::atomic<std::size_t> allocation_count{0};
std::atomic<std::size_t> byte_count{0};
std::atomic<std::size_t> refused_size{0};

void* allocate(std::size_t size, std::size_t alignment) {
  if (counted_thread) {
    allocation_count.fetch_add(1, std::memory_order_relaxed);
    byte_count.fetch_add(size, std::memory_order_relaxed);
    const auto refused = refused_size.load(std::memory_order_relaxed);
    if (refused != 0 && size == refused) throw std::bad_alloc();
  }
  void* p = alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__
                ? std::malloc(size ? size : 1)
                : std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

void count_this_thread(bool counted) noexcept {
  counted_thread = counted;
}
std::size_t allocations() noexcept {
  return allocation_count.load();
}
std::size_t allocated_bytes() noexcept {
  return byte_count.load();
}
void refuse_allocations_of(std::size_t bytes) noexcept {
  refused_size.store(bytes);
}

}  // namespace rtconn::allocation

using rtconn::allocation::allocate;

void* operator new(std::size_t size) {
  return allocate(size, 0);
}
void* operator new[](std::size_t size) {
  return allocate(size, 0);
}
void* operator new(std::size_t size, std::align_val_t a) {
  return allocate(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
  return allocate(size, static_cast<std::size_t>(a));
}
// The nothrow forms too (std::stable_sort's buffer comes from one): each new must pair with the
// delete below, which frees with free(), or a sanitizer's own new and free would meet.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return allocate(size, 0);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& nothrow) noexcept {
  return operator new(size, nothrow);
}
void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return allocate(size, static_cast<std::size_t>(a));
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t& nothrow) noexcept {
  return operator new(size, a, nothrow);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
