#include "dns/srv_order.hpp"

#include <algorithm>
#include <iterator>

namespace rtconn::dns {
namespace {

bool by_priority(const SrvRecord& a, const SrvRecord& b) noexcept {
  return a.priority < b.priority;
}

}  // namespace

std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records, std::mt19937_64& random) {
  std::stable_sort(records.begin(), records.end(), by_priority);
  std::vector<SrvRecord> ordered;
  ordered.reserve(records.size());
  auto group = records.begin();
  while (group != records.end()) {
    const auto group_end = std::find_if(
        group, records.end(), [&](const SrvRecord& r) { return r.priority != group->priority; });
    // RFC 2782: the records "in any order" but the weight-0 ones first (shuffled, so records
    // all of weight 0 share the load too), then draw a number up to the sum of the weights and
    // take the first record whose running sum reaches it; repeat over what is left.
    std::shuffle(group, group_end, random);
    std::stable_partition(group, group_end, [](const SrvRecord& r) { return r.weight == 0; });
    std::vector<SrvRecord> left(std::make_move_iterator(group), std::make_move_iterator(group_end));
    while (!left.empty()) {
      std::uint64_t total = 0;
      for (const auto& r : left) total += r.weight;
      const std::uint64_t draw = std::uniform_int_distribution<std::uint64_t>(0, total)(random);
      std::uint64_t running = 0;
      auto chosen = left.begin();
      for (; chosen != left.end(); ++chosen) {
        running += chosen->weight;
        if (running >= draw) break;
      }
      ordered.push_back(std::move(*chosen));
      left.erase(chosen);
    }
    group = group_end;
  }
  return ordered;
}

std::vector<SrvRecord> order_srv_fixed(std::vector<SrvRecord> records) {
  std::stable_sort(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
  });
  return records;
}

}  // namespace rtconn::dns
