// The order of a switch's steps (the protocol is in switch_run.h), over SwitchSides: which step
// runs next, when the fence is undone, and what the timed report says. No database here, so
// unit tests run it against fakes; RunCutover and RunFallback run it over the real sides.
//
// Thread safety: one call at a time per report; everything runs on the calling thread.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "capture/outbox/route_table.h"
#include "common/base/status.h"
#include "tools/switch/switch_run.h"
#include "tools/switch/switch_sides.h"

namespace sqlift::switching {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t);

// Runs one step of `label` (for the log: "cutover tenant \"acme\"", "finish"), timing it and
// appending it to *steps; returns its status.
[[nodiscard]] Status RunStep(const std::string& label, std::vector<SwitchStep>* steps,
                             const std::string& name,
                             const std::function<Status(std::string* note)>& body);

// Whether the tenant's route lets the direction start: a cutover needs it on sqlite, a fallback
// on postgres (FailedPrecondition naming what to run instead).
[[nodiscard]] Status CutoverRouteAllows(const RouteRow& route, const std::string& tenant);
[[nodiscard]] Status FallbackRouteAllows(const RouteRow& route, const std::string& tenant);

// The steps of each direction, in order, recorded in *r (r->direction and r->tenant set by the
// caller). Before the flip a failure or the timeout undoes the fence; after it nothing is undone.
void RunCutoverSequence(SwitchSides& sides, const SwitchOptions& o, SwitchReport* r);
void RunFallbackSequence(SwitchSides& sides, const SwitchOptions& o, SwitchReport* r);

}  // namespace sqlift::switching
