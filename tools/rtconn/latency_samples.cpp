#include "latency_samples.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

namespace rtconn::cli {

std::string LatencySamples::summary() const {
  if (samples_.empty()) return {};
  auto sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  // Nearest rank: the smallest sample with at least q% of them at or below it.
  const auto rank = [&sorted](std::size_t q) { return sorted[(sorted.size() * q + 99) / 100 - 1]; };
  const double mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / sorted.size();
  return fmt::format("rtt min/avg/p50/p90/p99/max = {:.3f}/{:.3f}/{:.3f}/{:.3f}/{:.3f}/{:.3f} ms",
                     sorted.front(), mean, rank(50), rank(90), rank(99), sorted.back());
}

}  // namespace rtconn::cli
