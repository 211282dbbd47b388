// `sqlift demo`: the README's main job. Runs the stages of tools/demo_run.h
// on a sample booking application and prints each stage with its timing and a summary, or
// one JSON document with --json. Exit 0 when every stage that exists succeeded, no
// acknowledged write was lost and every verify matched.
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "common/json/json.h"
#include "tools/cli/change_format.h"
#include "tools/cli/command.h"
#include "tools/demo/demo_run.h"

namespace sqlift {
namespace {

std::string Ms(const std::optional<double>& v) {
  return v ? fmt::format("{:.1f}", *v) : "null";
}

Json MsJson(const std::optional<double>& v) {
  return v ? JsonRounded(*v, 1) : Json(nullptr);
}

void PrintJson(const DemoReport& r) {
  Json stages = Json::array();
  for (const DemoStage& s : r.stages) {
    stages.push_back({{"name", s.name},
                      {"seconds", JsonRounded(s.seconds, 3)},
                      {"ok", s.ok},
                      {"skipped", s.skipped},
                      {"note", s.note}});
  }
  Json doc = {{"ok", r.ok()},
              {"rows_copied", r.rows_copied},
              {"snapshot_seq", r.snapshot_seq},
              {"changes_streamed", r.changes_streamed},
              {"writes_acknowledged", r.writes_acknowledged},
              {"writes_on_postgres", r.writes_on_postgres},
              {"writes_refused", r.writes_refused},
              {"writes_lost", r.writes_lost},
              {"lost_after_fallback", r.lost_after_fallback},
              {"catch_up_ms", JsonRounded(r.catch_up_ms, 1)},
              {"max_lag_seqs", r.max_lag_seqs},
              {"verify_matched", JsonOrNull(r.verify_matched)},
              {"cutover_pause_ms", MsJson(r.cutover_pause_ms)},
              {"fallback_pause_ms", MsJson(r.fallback_pause_ms)},
              {"cutover_again_pause_ms", MsJson(r.cutover_again_pause_ms)},
              {"stages", std::move(stages)}};
  fmt::print("{}\n", DumpJson(doc));
}

void PrintText(const DemoReport& r) {
  fmt::print("\nsqlift demo: a booking application migrated live to PostgreSQL\n\n");
  fmt::print("  {:<14} {:>8}  {:<7} {}\n", "stage", "seconds", "result", "");
  for (const DemoStage& s : r.stages) {
    fmt::print("  {:<14} {:>8.2f}  {:<7} {}\n", s.name, s.seconds,
               s.skipped ? "skipped"
               : s.ok    ? "ok"
                         : "FAILED",
               s.note);
  }
  fmt::print("\n  rows copied (snapshot)        {}\n", r.rows_copied);
  fmt::print("  changes streamed after S      {} transactions\n", r.changes_streamed);
  fmt::print(
      "  lag                           at most {} transactions behind; caught up "
      "{:.0f} ms after the writers stopped\n",
      r.max_lag_seqs, r.catch_up_ms);
  fmt::print(
      "  writes acknowledged           {} ({} on PostgreSQL; {} refused by a fence and "
      "retried)\n",
      r.writes_acknowledged, r.writes_on_postgres, r.writes_refused);
  auto count = [](int64_t n) { return n < 0 ? std::string("unknown") : std::to_string(n); };
  fmt::print("  writes lost                   {} (and {} missing in SQLite after the fallback)\n",
             count(r.writes_lost), count(r.lost_after_fallback));
  fmt::print(
      "  verify                        {}\n",
      r.verify_matched ? (*r.verify_matched ? "every run matched" : "DIFFERENT") : "not run");
  fmt::print("  write pauses                  cutover {} ms, fallback {} ms, cutover again {} ms\n",
             Ms(r.cutover_pause_ms), Ms(r.fallback_pause_ms), Ms(r.cutover_again_pause_ms));
  if (!r.dir.empty()) fmt::print("  files                         {}\n", r.dir);
  fmt::print("\n{}\n", r.ok() ? "demo: ok" : "demo: FAILED");
}

}  // namespace

void AddDemoCommand(CLI::App& root, CommandTable& table, const GlobalOptions&) {
  static DemoOptions o;
  CLI::App* demo = root.add_subcommand(
      "demo",
      "Run a live migration of a sample booking application while its writers keep writing and "
      "follow the route: plan, init, snapshot, stream, verify, cutover, writes on PostgreSQL, "
      "fallback, verify, cutover, finish; prints every stage and a summary");
  demo->add_option("--pg", o.pg,
                   "Use this PostgreSQL database instead of starting a throwaway server");
  demo->add_flag("--json", o.json, "Print the summary as one JSON document");
  demo->add_flag("--keep", o.keep, "Leave the files (and the throwaway server) behind");
  demo->add_option("--seconds", o.stream_seconds,
                   "How long the writers write after the snapshot, and on PostgreSQL")
      ->capture_default_str();
  demo->add_option("--bookings", o.bookings, "Bookings in the generated database")
      ->capture_default_str();
  table.Set(demo, [] {
    DemoReport r = RunDemoStages(o);
    if (o.json) {
      PrintJson(r);
    } else {
      PrintText(r);
    }
    return r.ok() ? kExitOk : kExitFailure;
  });
}

}  // namespace sqlift
