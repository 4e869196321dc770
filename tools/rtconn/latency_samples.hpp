#pragma once
// Round-trip times of answered requests, and the figures `ping` and `bench` print of them.

#include <cstddef>
#include <string>
#include <vector>

namespace rtconn::cli {

class LatencySamples {
 public:
  void add(double milliseconds) { samples_.push_back(milliseconds); }
  std::size_t size() const noexcept { return samples_.size(); }
  bool empty() const noexcept { return samples_.empty(); }
  /// "min/avg/p50/p90/p99/max = ... ms", nearest-rank percentiles; empty when there are none.
  std::string summary() const;

 private:
  std::vector<double> samples_;
};

}  // namespace rtconn::cli
