// `sqlift bench switch`: the pauses of the switches at two database sizes. The demo's live
// migration (demo_run.h: real daemons, capture mode wal, route-following writers running) is
// run once with `small` bookings and once with `large`, and its cutover, fallback and second
// cutover pauses are printed side by side with their ratio large / small: a pause that does not
// grow with the data has a ratio near 1. Both runs must end with no acknowledged write lost.
//
// Thread safety: one call at a time, on the calling thread.
#pragma once

#include <cstdint>

namespace sqlift {

struct SwitchBenchOptions {
  int64_t small = 20'000;
  int64_t large = 200'000;
  bool json = false;
};

// 0 when both runs succeeded (targets are for the reader), 1 otherwise.
int RunSwitchBench(const SwitchBenchOptions& options);

}  // namespace sqlift
