// The stages of `sqlift demo` (tools/cmd_demo.cc prints their report): a sample booking
// application migrated live by the real `sqlift apply` and `sqlift capture` processes while
// writers keep writing through the recorder and follow the route (tools/demo_writer.h).
//
// Stages, each timed: pg (a throwaway PostgreSQL unless --pg), app (the booking database with
// generated data), plan, init (writers started, then the daemons), snapshot (until PostgreSQL
// holds the snapshot's position), stream (the writers go on for `stream_seconds`), verify (the
// held form: the applier held at the SQLite snapshot's position, writers still writing),
// cutover (the writers follow the route to PostgreSQL), pg-writes (`stream_seconds` of writes
// on PostgreSQL), fallback (every PostgreSQL write back in SQLite; writers back on SQLite),
// verify-again, cutover-again, finish (writers stopped, forward replication caught up, the agent
// stopped, `finish`; then every acknowledged write must be in PostgreSQL), stop (the applier).
// Cutover, fallback, verify and finish run in this process through the same code as the
// sub-commands (tools/switch_run.h, tools/verify_run.h).
//
// Thread safety: one call at a time; runs on the calling thread (writers on their own).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sqlift {

struct DemoOptions {
  std::string pg;  // use this PostgreSQL (its database must not hold the demo's tables)
  bool json = false;
  bool keep = false;
  double stream_seconds = 3;
  int64_t bookings = 20000;
  int writers = 2;
};

struct DemoStage {
  std::string name;
  double seconds = 0;
  bool ok = false;
  std::string note;  // what it did, or why it failed / was skipped
  bool skipped = false;
};

struct DemoReport {
  std::vector<DemoStage> stages;
  int64_t rows_copied = 0;             // rows in the snapshot
  uint64_t snapshot_seq = 0;           // S
  uint64_t changes_streamed = 0;       // source transactions applied after S
  int64_t writes_acknowledged = 0;     // writer transactions whose COMMIT returned
  int64_t writes_on_postgres = 0;      // of those, the ones written on PostgreSQL
  int64_t writes_refused = 0;          // refused by a fence (retried): the pauses' cost
  int64_t writes_lost = -1;            // acknowledged bookings missing at the end (-1: unknown)
  int64_t lost_after_fallback = -1;    // PostgreSQL's acknowledged bookings missing in SQLite
  double catch_up_ms = 0;              // from the writers' stop until applied == committed
  uint64_t max_lag_seqs = 0;           // largest committed - applied seen while streaming
  std::optional<bool> verify_matched;  // every verify matched
  std::optional<double> cutover_pause_ms, fallback_pause_ms, cutover_again_pause_ms;
  std::string dir;  // kept with --keep
  std::string pg_uri;
  bool ok() const;
};

DemoReport RunDemoStages(const DemoOptions& options);

}  // namespace sqlift
