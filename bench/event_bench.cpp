// Raising an event: what every connection and pool change costs the handlers' side.
#include <benchmark/benchmark.h>

#include <vector>

#include "rtconn/event.hpp"

namespace {

struct Args {
  int value;
};

void EventRaise(benchmark::State& state) {
  rtconn::Event<Args> event;
  int sum = 0;
  std::vector<rtconn::Subscription> subscriptions;
  for (int i = 0; i < state.range(0); ++i) {
    subscriptions.push_back(event.subscribe([&sum](const Args& a) { sum += a.value; }));
  }
  for (auto _ : state) {
    rtconn::detail::EventAccess<Args>::raise(event, Args{1});
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(EventRaise)->Arg(1)->Arg(4);

}  // namespace
