#pragma once
// A manager's connection pools by key, in shards with a lock each, so a send looks its pool up
// without taking a lock every other send in the process takes too.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "rtconn/connection_pool.hpp"
#include "rtconn/pool_key.hpp"

namespace rtconn::detail {

class PoolMap {
 public:
  /// The pool filed under `key`; when there is none, `make()` runs under the shard's lock (so
  /// nothing about that key can happen between) and files what it returns, unless null.
  template <class Make>
  std::shared_ptr<ConnectionPool> find_or_make(const PoolKey& key, Make&& make) {
    auto& shard = shard_of(key);
    std::lock_guard lock(shard.mutex);
    if (const auto it = shard.pools.find(key); it != shard.pools.end()) return it->second;
    auto made = make();
    if (made) {
      shard.pools.emplace(key, made);
      size_.fetch_add(1, std::memory_order_acq_rel);
    }
    return made;
  }

  /// Unfiles `pool` if it is still the one filed under its key and `agree()` (run under the
  /// shard's lock) says so; true when it did.
  template <class Agree>
  bool remove(const std::shared_ptr<ConnectionPool>& pool, Agree&& agree) {
    auto& shard = shard_of(pool->key());
    std::lock_guard lock(shard.mutex);
    const auto it = shard.pools.find(pool->key());
    if (it == shard.pools.end() || it->second != pool || !agree()) return false;
    shard.pools.erase(it);
    size_.fetch_sub(1, std::memory_order_acq_rel);
    return true;
  }

  std::vector<std::shared_ptr<ConnectionPool>> all() const {
    std::vector<std::shared_ptr<ConnectionPool>> result;
    for (const auto& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      for (const auto& [key, pool] : shard.pools) result.push_back(pool);
    }
    return result;
  }

  std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }

 private:
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<PoolKey, std::shared_ptr<ConnectionPool>> pools;
  };

  Shard& shard_of(const PoolKey& key) {
    return shards_[std::hash<PoolKey>{}(key) % shards_.size()];
  }

  std::array<Shard, 16> shards_;
  std::atomic<std::size_t> size_{0};
};

}  // namespace rtconn::detail
