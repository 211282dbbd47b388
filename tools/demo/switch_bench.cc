// RunSwitchBench (see switch_bench.h).
#include "tools/demo/switch_bench.h"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "common/json/json.h"
#include "tools/demo/demo_run.h"

namespace sqlift {
namespace {

struct Pauses {
  int64_t bookings = 0;
  bool ok = false;
  std::optional<double> cutover, fallback, cutover_again;
  int64_t lost = -1;
};

Pauses RunAt(int64_t bookings) {
  DemoOptions o;
  o.bookings = bookings;
  DemoReport r = RunDemoStages(o);
  return Pauses{
      bookings,     r.ok(), r.cutover_pause_ms, r.fallback_pause_ms, r.cutover_again_pause_ms,
      r.writes_lost};
}

Json Ms(const std::optional<double>& v) {
  return v ? JsonRounded(*v, 1) : Json(nullptr);
}

Json Ratio(const std::optional<double>& small, const std::optional<double>& large) {
  if (!small || !large || *small <= 0) return Json(nullptr);
  return JsonRounded(*large / *small, 2);
}

std::string Text(const Json& v) {
  return v.is_null() ? "-" : v.dump();
}

}  // namespace

int RunSwitchBench(const SwitchBenchOptions& options) {
  const Pauses small = RunAt(options.small);
  const Pauses large = RunAt(options.large);
  Json rows = Json::array();
  for (const Pauses& p : {small, large}) {
    rows.push_back({{"bookings", p.bookings},
                    {"ok", p.ok},
                    {"writes_lost", p.lost},
                    {"cutover_pause_ms", Ms(p.cutover)},
                    {"fallback_pause_ms", Ms(p.fallback)},
                    {"cutover_again_pause_ms", Ms(p.cutover_again)}});
  }
  Json ratio = {{"cutover", Ratio(small.cutover, large.cutover)},
                {"fallback", Ratio(small.fallback, large.fallback)},
                {"cutover_again", Ratio(small.cutover_again, large.cutover_again)}};
  if (options.json) {
    fmt::print("{}\n", DumpJsonSpaced({{"bench", "switch"}, {"runs", rows}, {"ratio", ratio}}));
  } else {
    fmt::print("sqlift bench switch: write pauses with writers running (capture mode wal)\n\n");
    fmt::print("  {:>10}  {:>12}  {:>12}  {:>14}  {}\n", "bookings", "cutover ms", "fallback ms",
               "cutover 2 ms", "lost");
    for (const Json& r : rows) {
      fmt::print("  {:>10}  {:>12}  {:>12}  {:>14}  {}\n", r["bookings"].dump(),
                 Text(r["cutover_pause_ms"]), Text(r["fallback_pause_ms"]),
                 Text(r["cutover_again_pause_ms"]), r["writes_lost"].dump());
    }
    fmt::print("  {:>10}  {:>12}  {:>12}  {:>14}\n", "large/small", Text(ratio["cutover"]),
               Text(ratio["fallback"]), Text(ratio["cutover_again"]));
  }
  return small.ok && large.ok ? 0 : 1;
}

}  // namespace sqlift
