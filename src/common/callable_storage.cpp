// UniqueFunction's out-of-line storage (rtconn/detail/completion.hpp) over the per-thread block
// cache: completions too large to keep inline (an async_request's, holding its handler and its
// executor; a send's failure path) come and go once per request.
#include "common/cached_allocator.hpp"
#include "rtconn/detail/completion.hpp"

namespace rtconn::detail {

void* allocate_callable(std::size_t bytes) {
  return BlockCache::allocate(bytes);
}

void deallocate_callable(void* pointer, std::size_t bytes) noexcept {
  BlockCache::deallocate(pointer, bytes);
}

}  // namespace rtconn::detail
