#include "common/base/backoff.h"

#include <algorithm>

namespace sqlift {

Backoff::Backoff(Duration first, Duration max, double factor)
    : first_(first), max_(std::max(first, max)), current_(first), factor_(factor) {}

Backoff& Backoff::WithJitter(uint64_t seed) {
  jitter_.emplace(static_cast<std::minstd_rand::result_type>(seed));
  return *this;
}

Backoff::Duration Backoff::Next() {
  return NextUpTo(max_);
}

Backoff::Duration Backoff::NextUpTo(Duration cap) {
  Duration wait = current_;
  auto grown =
      Duration(static_cast<Duration::rep>(static_cast<double>(current_.count()) * factor_));
  current_ = std::min({grown, max_, cap});
  if (!jitter_) return wait;
  std::uniform_int_distribution<Duration::rep> draw(wait.count() / 2, wait.count());
  return Duration(draw(*jitter_));
}

}  // namespace sqlift
