// `sqlift bench capture|copy|stream|snapshot|switch|all`: figures against baselines measured in the
// same run.
#include "tools/bench/bench_all.h"
#include "tools/bench/bench_capture.h"
#include "tools/bench/bench_copy.h"
#include "tools/bench/bench_snapshot.h"
#include "tools/bench/bench_stream.h"
#include "tools/cli/command.h"
#include "tools/demo/switch_bench.h"

namespace sqlift {
namespace {

struct BenchOptions {
  bool json = false;
  std::string size = "small";
  int64_t transactions = 0;  // 0: by --size
  int64_t rows = 0;          // bench copy, snapshot: bookings; 0: by --size
  int rounds = 0;            // bench copy, snapshot: 0: by --size
  int jobs = 1;              // bench copy, snapshot: sqlift copy --jobs
  std::string dir;           // bench copy, snapshot: keep the generated file (and logs) here
  double lag_seconds = 3;    // bench capture: the paced writer's duration
  double lag_rate = 5000;    // bench capture: and its transactions per second
};

void AddBenchCopy(CLI::App& bench, CommandTable& table, BenchOptions& o) {
  CLI::App* copy = bench.add_subcommand(
      "copy",
      "Load a generated booking database into PostgreSQL with `sqlift copy` and with the "
      "pipe sqlite3 -csv | psql COPY, same server, same run; print both rates, the ratio and "
      "sqlift's peak RSS");
  copy->add_flag("--json", o.json, "Print one JSON object");
  copy->add_option("--size", o.size,
                   "small (1,000 rooms, 200,000 bookings, 3 rounds) or full (2,000,000 "
                   "bookings, 1 round)")
      ->check(CLI::IsMember({"small", "full"}));
  copy->add_option("--rows", o.rows, "Bookings to generate (overrides --size)");
  copy->add_option("--rounds", o.rounds, "Loads of each kind; medians are printed");
  copy->add_option("--jobs", o.jobs, "sqlift copy --jobs")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  copy->add_option("--dir", o.dir,
                   "Generate the SQLite file in this directory and keep it (to profile a copy "
                   "of it by hand); default: a temporary directory, removed");
  table.Set(copy, [&o] {
    BenchCopyOptions b;
    b.json = o.json;
    const bool full = o.size == "full";
    b.bookings = o.rows > 0 ? o.rows : (full ? 2000000 : 200000);
    b.rounds = o.rounds > 0 ? o.rounds : (full ? 1 : 3);
    b.jobs = o.jobs;
    b.dir = o.dir;
    return RunBenchCopy(b);
  });
}

void AddBenchSnapshot(CLI::App& bench, CommandTable& table, BenchOptions& o) {
  CLI::App* snap = bench.add_subcommand(
      "snapshot",
      "Load a generated booking database into PostgreSQL twice, no writers: with `sqlift "
      "copy`, and as a migration's initial snapshot (sqlift init, then the apply and capture "
      "daemons in capture mode wal, until sqlift.positions holds the snapshot position); same "
      "server, same run; print both times and the ratio copy / snapshot (target >= 0.9)");
  snap->add_flag("--json", o.json, "Print one JSON object");
  snap->add_option("--size", o.size,
                   "small (1,000 rooms, 200,000 bookings, 1 round) or full (2,000,000 "
                   "bookings, 1 round)")
      ->check(CLI::IsMember({"small", "full"}));
  snap->add_option("--rows", o.rows, "Bookings to generate (overrides --size)");
  snap->add_option("--rounds", o.rounds, "Loads of each kind; medians are printed");
  snap->add_option("--jobs", o.jobs, "sqlift copy --jobs")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  snap->add_option("--dir", o.dir,
                   "Keep the SQLite file and the daemons' logs and state in this directory (to "
                   "see where the snapshot spends its time); default: a temporary directory, "
                   "removed");
  table.Set(snap, [&o] {
    BenchSnapshotOptions b;
    b.json = o.json;
    b.bookings = o.rows > 0 ? o.rows : (o.size == "full" ? 2000000 : 200000);
    b.rounds = o.rounds > 0 ? o.rounds : 1;
    b.jobs = o.jobs;
    b.dir = o.dir;
    return RunBenchSnapshot(b);
  });
}

void AddBenchSwitch(CLI::App& bench, CommandTable& table, BenchOptions& o) {
  static SwitchBenchOptions sw;
  CLI::App* cmd = bench.add_subcommand(
      "switch",
      "The write pauses of cutover, fallback and a second cutover with writers running, at two "
      "database sizes (the demo's live migration, capture mode wal), and their ratio large / "
      "small: a pause that does not grow with the data has a ratio near 1");
  cmd->add_option("--small", sw.small, "Bookings in the small run")->capture_default_str();
  cmd->add_option("--large", sw.large, "Bookings in the large run")->capture_default_str();
  cmd->add_flag("--json", o.json, "Print one JSON object");
  table.Set(cmd, [&o] {
    sw.json = o.json;
    return RunSwitchBench(sw);
  });
}

}  // namespace

void AddBenchCommands(CLI::App& root, CommandTable& table, const GlobalOptions&) {
  static BenchOptions o;
  CLI::App* bench = root.add_subcommand(
      "bench",
      "Measure capture, copy, stream and the initial snapshot against baselines run on the "
      "same machine, in the same run, and the switches' pauses at two sizes");
  bench->require_subcommand(1);
  CLI::App* capture = bench->add_subcommand(
      "capture",
      "Write transactions (1 insert + 1 update, WAL, synchronous=NORMAL) without sqlift, with "
      "the recorder (mode recorder) and with the wal capture agent on its own thread (mode "
      "wal); print each rate and its ratio to the baseline, and the wal agent's decode rate "
      "(row changes/s draining a backlog) and lag p99 (COMMIT to synced log write) at 5,000 "
      "txn/s");
  capture->add_flag("--json", o.json, "Print one JSON object");
  capture->add_option("--size", o.size, "small (5,000 transactions per run) or full (20,000)")
      ->check(CLI::IsMember({"small", "full"}));
  capture->add_option("--transactions", o.transactions,
                      "Transactions per run and in the decode backlog (overrides --size)");
  capture
      ->add_option("--lag-seconds", o.lag_seconds,
                   "How long the paced writer (--lag-rate) runs for the lag figure")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  capture
      ->add_option("--lag-rate", o.lag_rate,
                   "The paced writer's transactions per second for the lag figure")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  table.Set(capture, [] {
    BenchCaptureOptions b;
    b.json = o.json;
    b.transactions = o.transactions > 0 ? o.transactions : (o.size == "full" ? 20000 : 5000);
    b.lag_seconds = o.lag_seconds;
    b.lag_txn_per_s = o.lag_rate;
    return RunBenchCapture(b);
  });
  AddBenchCopy(*bench, table, o);
  AddBenchSnapshot(*bench, table, o);
  AddBenchSwitch(*bench, table, o);
  CLI::App* stream = bench->add_subcommand(
      "stream",
      "Row changes/s end to end through sqlift capture and apply, and lag p50/p99 at 5,000 "
      "changes/s; baselines: plain SQLite and direct PostgreSQL writes, same run");
  stream->add_flag("--json", o.json, "Print one JSON object");
  stream->add_option("--size", o.size, "small (60,000 changes, 4 s paced) or full (500,000, 15 s)")
      ->check(CLI::IsMember({"small", "full"}));
  table.Set(stream, [] {
    BenchStreamOptions b;
    b.json = o.json;
    b.size = o.size;
    return RunBenchStream(b);
  });
  CLI::App* all = bench->add_subcommand(
      "all",
      "capture, copy, stream and snapshot, each with its baselines in the same run; one table");
  all->add_flag("--json", o.json, "Print one JSON document");
  all->add_option("--size", o.size, "small or full")->check(CLI::IsMember({"small", "full"}));
  table.Set(all, [] {
    BenchAllOptions b;
    b.json = o.json;
    b.size = o.size;
    return RunBenchAll(b);
  });
}

}  // namespace sqlift
