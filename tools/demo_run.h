// The stages of `sqlift demo` (tools/cmd_demo.cc prints their report): a sample booking
// application migrated live by the real `sqlift apply` and `sqlift capture` processes while
// writers keep writing through the recorder.
//
// Stages, each timed: pg (a throwaway PostgreSQL unless --pg), app (the booking database with
// generated data), plan, init, writers (started, and writing until `stream` ends), snapshot
// (until PostgreSQL holds the snapshot's position), stream (writers go on for
// `stream_seconds`, then stop, then the applier catches up), verify (`sqlift verify` on both
// sides at that one position), then the stages not built yet (cutover, fallback, finish:
// issue 5) listed as skipped, and stop (both daemons stop cleanly on SIGTERM).
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
  int64_t rows_copied = 0;          // rows in the snapshot
  uint64_t snapshot_seq = 0;        // S
  uint64_t changes_streamed = 0;    // source transactions applied after S
  int64_t writes_acknowledged = 0;  // writer transactions whose COMMIT returned
  int64_t writes_lost = -1;         // acknowledged bookings missing in PostgreSQL (-1: unknown)
  double catch_up_ms = 0;           // from the writers' stop until applied == committed
  uint64_t max_lag_seqs = 0;        // largest committed - applied seen while streaming
  std::optional<bool> verify_matched;
  std::string dir;  // kept with --keep
  std::string pg_uri;
  bool ok() const;
};

DemoReport RunDemoStages(const DemoOptions& options);

}  // namespace sqlift
