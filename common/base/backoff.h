// Backoff: the waits between attempts at something that keeps failing (a connection, a busy
// database). The first wait is `first`, each next one `factor` times longer, up to `max`;
// Reset() after a success starts again at `first`. Jitter is off by default, so the waits are
// exactly predictable; with it, each wait is drawn from [wait/2, wait] (a seeded generator),
// so that many clients cut off together do not come back together.
//
// Ownership: a value; copy it freely. Thread safety: one thread at a time per object.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace sqlift {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;

  Backoff(Duration first, Duration max, double factor = 2.0);

  // Turns jitter on, drawing from a generator seeded with `seed`.
  Backoff& WithJitter(uint64_t seed);

  // The wait before the next attempt; the one after it is `factor` times longer, up to max.
  Duration Next();
  // As Next, with the one after it at most `cap` (a condition expected to clear soon).
  Duration NextUpTo(Duration cap);
  // After a success: the next wait is `first` again.
  void Reset() { current_ = first_; }

  Duration first() const { return first_; }
  Duration max() const { return max_; }

 private:
  Duration first_, max_, current_;
  double factor_;
  std::optional<std::minstd_rand> jitter_;
};

}  // namespace sqlift
