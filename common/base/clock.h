// Clocks, read the same way everywhere: wall-clock time as unix microseconds (what commit
// times, heartbeats and lag are measured in, and what PostgreSQL's timestamps use), steady
// microseconds for durations (never goes back, unrelated to the date), and the UTC text of a
// wall-clock time.
//
// Thread safety: pure functions, callable from any thread.
#pragma once

#include <cstdint>
#include <string>

namespace sqlift {

// Microseconds since 1970-01-01 UTC on the system clock.
int64_t NowMicros();

// Microseconds on the steady clock: only differences between two readings mean anything.
int64_t SteadyNowMicros();

// "2026-11-21T23:54:16.123456Z"
std::string FormatMicrosUtc(int64_t unix_micros);

}  // namespace sqlift
