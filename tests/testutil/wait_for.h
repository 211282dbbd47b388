// WaitFor: how a scenario test waits for a condition another process brings about (a row
// applied, a position reached): the condition is asked again every 10 ms until it holds or the
// deadline passes. Never a fixed sleep standing in for the condition.
//
// Thread safety: a function of its arguments.
#pragma once

#include <chrono>
#include <functional>

namespace sqlift::testutil {

// True once `done` holds; false if it still does not at `timeout`.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

}  // namespace sqlift::testutil
