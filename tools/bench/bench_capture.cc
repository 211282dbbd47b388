#include "tools/bench/bench_capture.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "capture/recorder/recorder.h"
#include "common/json/json.h"
#include "tools/bench/bench_capture_internal.h"
#include "tools/bench/bench_util.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;
using bench_capture::BookingApp;
using bench_capture::Clock;

// kWalGrowing: the wal agent with [capture] wal_restart = "application" (the WAL grows).
enum Variant { kBaseline = 0, kRecorder = 1, kWal = 2, kWalGrowing = 3 };
constexpr int kVariants = 4;
constexpr const char* kVariantNames[] = {"baseline", "recorder", "wal", "wal_growing"};

// Transactions per second of one run on a fresh database, without sqlift or with a recorder.
Result<double> RunOnce(const std::string& path, int64_t transactions, bool with_recorder) {
  SQLIFT_ASSIGN_OR_RETURN(auto app, BookingApp::Create(path));
  std::unique_ptr<Recorder> recorder;
  if (with_recorder) {
    SQLIFT_ASSIGN_OR_RETURN(recorder, Recorder::Attach(app->handle()));
  }
  auto start = Clock::now();
  for (int64_t i = 0; i < transactions; ++i) {
    SQLIFT_RETURN_IF_ERROR(app->Transaction(i, recorder.get()).With(fmt::format("txn {}", i)));
  }
  std::chrono::duration<double> elapsed = Clock::now() - start;
  return transactions / elapsed.count();
}

struct Figures {
  std::vector<double> tps[kVariants];  // by Variant, one per round
  std::vector<double> wal_cpu;         // the wal agent's CPU ms per 1,000 transactions, per round
  std::vector<double> catch_up;        // ms the agent still needed after the writer's last COMMIT
  std::vector<double> restarts;        // WAL restarts the agent brought about, per round
  std::vector<double> held_max;        // the longest it held the writer off, ms, per round
  std::vector<double> decode;          // row changes/s, one per round
  int64_t decode_changes = 0;
  bench_capture::Lag lag;
  bench_capture::Lag lag_growing;  // the same with [capture] wal_restart = "application"
};

// Removes a run's database and state directory.
void Clean(const fs::path& db, const fs::path& state) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"})
    fs::remove(db.string() + suffix, ec);
  fs::remove_all(state, ec);
}

Status RunVariant(const BenchCaptureOptions& o, const fs::path& dir, int round, Variant v,
                  Figures* f) {
  const fs::path db = dir / fmt::format("r{}_{}.db", round, kVariantNames[v]);
  const fs::path state = dir / fmt::format("r{}_{}_state", round, kVariantNames[v]);
  Result<bench_capture::WalRun> run = bench_capture::WalRun{};
  if (v == kWal || v == kWalGrowing) {
    run = bench_capture::RunWithWalAgent(db.string(), state.string(), o.transactions,
                                         /*restart_wal=*/v == kWal);
  } else {
    Result<double> tps = RunOnce(db.string(), o.transactions, v == kRecorder);
    run = tps.ok() ? Result<bench_capture::WalRun>(bench_capture::WalRun{*tps, 0})
                   : Result<bench_capture::WalRun>(tps.status());
  }
  Clean(db, state);
  SQLIFT_RETURN_IF_ERROR(run.status().With(kVariantNames[v]));
  f->tps[v].push_back(run->txn_per_s);
  if (v == kWal) {
    f->wal_cpu.push_back(run->agent_cpu_ms_per_1000_txn);
    f->catch_up.push_back(run->catch_up_ms);
    f->restarts.push_back(static_cast<double>(run->wal_restarts));
    f->held_max.push_back(run->writers_held_max_ms);
  }
  return Status::OK();
}

// The rounds (the variants in a rotating order), a decode per round, then the paced lag run.
Status Measure(const BenchCaptureOptions& o, const fs::path& dir, Figures* f) {
  for (int round = 0; round < o.rounds; ++round) {
    for (int k = 0; k < kVariants; ++k)
      SQLIFT_RETURN_IF_ERROR(RunVariant(o, dir, round, Variant((round + k) % kVariants), f));
    const fs::path db = dir / fmt::format("r{}_decode.db", round);
    const fs::path state = dir / fmt::format("r{}_decode_state", round);
    Result<bench_capture::Decode> d =
        bench_capture::MeasureDecode(db.string(), state.string(), o.transactions);
    Clean(db, state);
    SQLIFT_RETURN_IF_ERROR(d.status().With("decode"));
    f->decode.push_back(d->changes_per_s);
    f->decode_changes = d->changes;
  }
  for (bool restart : {true, false}) {
    const fs::path db = dir / "lag.db", state = dir / "lag_state";
    Result<bench_capture::Lag> lag = bench_capture::MeasureLag(
        db.string(), state.string(), o.lag_txn_per_s, o.lag_seconds, restart);
    Clean(db, state);
    SQLIFT_RETURN_IF_ERROR(lag.status().With("lag"));
    (restart ? f->lag : f->lag_growing) = *lag;
  }
  return Status::OK();
}

double OverheadMs(double with, double without) {
  return 1000.0 / with - 1000.0 / without;
}

void PrintJson(const BenchCaptureOptions& o, double base, double rec, double wal,
               const Figures& f) {
  const double lag_cpu = f.lag.agent_cpu_ms_per_1000_txn;
  Json doc = {{"baseline_txn_per_s", JsonRounded(base, 1)},
              {"recorder_txn_per_s", JsonRounded(rec, 1)},
              {"ratio", JsonRounded(rec / base, 3)},
              {"overhead_ms_per_txn", JsonRounded(OverheadMs(rec, base), 4)},
              {"transactions", o.transactions},
              {"rounds", o.rounds},
              {"wal_txn_per_s", JsonRounded(wal, 1)},
              {"wal_ratio", JsonRounded(wal / base, 3)},
              {"wal_overhead_ms_per_txn", JsonRounded(OverheadMs(wal, base), 4)},
              {"wal_agent_cpu_ms_per_1000_txn", JsonRounded(Median(f.wal_cpu), 1)},
              {"wal_catch_up_ms", JsonRounded(Median(f.catch_up), 1)},
              {"wal_restarts", JsonRounded(Median(f.restarts), 1)},
              {"wal_writers_held_max_ms", JsonRounded(Median(f.held_max), 2)},
              {"wal_growing_txn_per_s", JsonRounded(Median(f.tps[kWalGrowing]), 1)},
              {"wal_growing_ratio", JsonRounded(Median(f.tps[kWalGrowing]) / base, 3)},
              {"wal_decode_changes_per_s", JsonRounded(Median(f.decode), 0)},
              {"wal_decode_changes", f.decode_changes},
              {"wal_lag_p50_ms", JsonRounded(f.lag.p50_ms, 2)},
              {"wal_lag_p99_ms", JsonRounded(f.lag.p99_ms, 2)},
              {"wal_lag_max_ms", JsonRounded(f.lag.max_ms, 2)},
              {"wal_lag_txn_per_s", JsonRounded(f.lag.achieved_txn_per_s, 1)},
              {"wal_lag_transactions", f.lag.transactions},
              {"wal_lag_offered_txn_per_s", JsonRounded(o.lag_txn_per_s, 1)},
              {"wal_lag_agent_cpu_ms_per_1000_txn", JsonRounded(lag_cpu, 1)},
              {"wal_lag_wal_max_mb", JsonRounded(f.lag.wal_max_mb, 1)},
              {"wal_lag_restarts", f.lag.wal_restarts},
              {"wal_lag_writers_held_max_ms", JsonRounded(f.lag.writers_held_max_ms, 2)},
              {"wal_growing_lag_wal_max_mb", JsonRounded(f.lag_growing.wal_max_mb, 1)},
              {"wal_growing_lag_p99_ms", JsonRounded(f.lag_growing.p99_ms, 2)}};
  *o.out << DumpJsonSpaced(doc) << "\n";
}

void Print(const BenchCaptureOptions& o, const Figures& f) {
  const double base = Median(f.tps[kBaseline]), rec = Median(f.tps[kRecorder]),
               wal = Median(f.tps[kWal]);
  if (o.json) {
    PrintJson(o, base, rec, wal, f);
    return;
  }
  fmt::print(*o.out,
             "capture benchmark: {} rounds x {} transactions (booking INSERT + UPDATE), WAL, "
             "synchronous=NORMAL; medians\n"
             "  without sqlift    {:10.0f} txn/s\n"
             "recorder mode (in the application's write path):\n"
             "  with recorder     {:10.0f} txn/s\n"
             "  ratio             {:10.3f}   (target >= 0.85)\n"
             "  overhead          {:10.4f} ms per transaction\n",
             o.rounds, o.transactions, base, rec, rec / base, OverheadMs(rec, base));
  fmt::print(
      *o.out,
      "wal mode (the agent reads the -wal file on its own thread; RocksDB log, synced; "
      "wal_restart = \"agent\", the default, unless said):\n"
      "  with wal agent    {:10.0f} txn/s\n"
      "  ratio             {:10.3f}   (target >= 0.95)\n"
      "  overhead          {:10.4f} ms per transaction\n"
      "  agent CPU         {:10.1f} ms per 1,000 transactions (its thread and RocksDB's)\n"
      "  catch-up          {:10.1f} ms after the last COMMIT until it was logged\n"
      "  WAL restarts      {:10.0f} per run (new WAL generations decoded), writers held at most "
      "{:.2f} ms for one\n"
      "  WAL growing       {:10.3f} ratio with wal_restart = \"application\" ({:.0f} txn/s)\n"
      "  decode rate       {:10.0f} row changes/s, draining a backlog of {} row changes\n"
      "  lag p99           {:10.2f} ms, COMMIT to synced log write, at {:.0f} txn/s for "
      "{:.1f} s ({:.0f} achieved; p50 {:.2f} ms, max {:.2f} ms; agent CPU {:.1f} ms per "
      "1,000 transactions)\n"
      "  WAL size          {:10.1f} MB at most in that run, {} restarts "
      "(writers held at most {:.2f} ms); {:.1f} MB with wal_restart = \"application\" "
      "(lag p99 {:.2f} ms)\n",
      wal, wal / base, OverheadMs(wal, base), Median(f.wal_cpu), Median(f.catch_up),
      Median(f.restarts), Median(f.held_max), Median(f.tps[kWalGrowing]) / base,
      Median(f.tps[kWalGrowing]), Median(f.decode), f.decode_changes, f.lag.p99_ms, o.lag_txn_per_s,
      o.lag_seconds, f.lag.achieved_txn_per_s, f.lag.p50_ms, f.lag.max_ms,
      f.lag.agent_cpu_ms_per_1000_txn, f.lag.wal_max_mb, f.lag.wal_restarts,
      f.lag.writers_held_max_ms, f.lag_growing.wal_max_mb, f.lag_growing.p99_ms);
}

}  // namespace

int RunBenchCapture(const BenchCaptureOptions& o) {
  if (o.transactions < 1 || o.rounds < 1 || !(o.lag_seconds > 0) || !(o.lag_txn_per_s >= 1)) {
    fmt::print(*o.err,
               "bench capture: transactions, rounds and the lag rate must be at least 1, the "
               "lag seconds more than 0\n");
    return 2;
  }
  ScratchDir scratch;
  Status st = MakeScratchDir(o.dir, &scratch);
  Figures f;
  if (st.ok()) st = Measure(o, scratch.dir, &f);
  if (!st.ok()) {
    fmt::print(*o.err, "bench capture: {}\n", st.ToString());
    return 1;
  }
  Print(o, f);
  return 0;
}

}  // namespace sqlift
