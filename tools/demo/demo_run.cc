// The stages of `sqlift demo` (see demo_run.h).
#include "tools/demo/demo_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "apply/translate/mapping_overrides.h"
#include "apply/translate/schema_translator.h"
#include "capture/snapshot/wal_barrier.h"
#include "capture/wal/wal_progress.h"
#include "common/pg/pg_connection.h"
#include "common/process/files.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_schema.h"
#include "tools/bench/bench_copy_internal.h"
#include "tools/demo/demo_stages.h"
#include "tools/sandbox/pg_cluster.h"
#include "tools/verify/verify_run.h"

namespace sqlift::demo {

constexpr char kSelf[] = "/proc/self/exe";

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

bool Demo::Stage(const std::string& name, const std::function<Status(std::string*)>& body) {
  DemoStage s{name, 0, false, "", false};
  if (!o_.json) fmt::print(stderr, "demo: {} ...\n", name);
  Clock::time_point start = Clock::now();
  Status st = body(&s.note);
  s.seconds = Since(start);
  s.ok = st.ok();
  if (!st.ok()) s.note = st.ToString();
  r_.stages.push_back(s);
  return s.ok;
}

void Demo::Skip(const std::string& name, const std::string& why) {
  r_.stages.push_back({name, 0, false, why, true});
}

Status Demo::StartPg(std::string* note) {
  if (!o_.pg.empty()) {
    r_.pg_uri = o_.pg;
    *note = "using --pg";
  } else {
    PgSandboxOptions so;
    so.keep = o_.keep;
    SQLIFT_ASSIGN_OR_RETURN(sandbox_, PgSandbox::Start(so));
    r_.pg_uri = sandbox_->uri();
    *note = "throwaway PostgreSQL at " + r_.pg_uri;
    if (o_.keep) *note += " (stop it with: sqlift pg-sandbox stop --dir " + sandbox_->dir() + ")";
  }
  SQLIFT_ASSIGN_OR_RETURN(conn_, PgConnection::Connect(r_.pg_uri, std::chrono::seconds(10)));
  return Status::OK();
}

Status Demo::MakeApp(std::string* note) {
  SQLIFT_ASSIGN_OR_RETURN(bench_copy::GeneratedDb gen,
                          bench_copy::GenerateBookingDb(Path("app.db"), 1000, o_.bookings));
  if (o_.keep) r_.dir = dir_.dir.string();
  SQLIFT_ASSIGN_OR_RETURN(int port, pgcluster::PickFreePort());
  std::ofstream(Path("token")) << fmt::format("demo-token-{}-{}\n", ::getpid(), port);
  std::filesystem::permissions(
      Path("token"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream cfg(Path("sqlift.toml"));
  cfg << fmt::format(
      "[source]\nid = \"booking\"\nsqlite = \"{0}/app.db\"\n[state]\ndir = \"{0}/state\"\n"
      "[target]\npg = \"{1}\"\n[transport]\nlisten = \"127.0.0.1:{2}\"\n"
      "connect = \"127.0.0.1:{2}\"\ntoken_file = \"{0}/token\"\n[capture]\nmode = "
      "\"wal\"\npoll_ms = 100\n",
      dir_.dir.string(), r_.pg_uri, port);
  if (!cfg.flush()) return Status::IOError("write " + Path("sqlift.toml"));
  cfg.close();
  SQLIFT_ASSIGN_OR_RETURN(cfg_, LoadConfigFile(Path("sqlift.toml")));
  *note = fmt::format("{} tables, {} rows ({} bookings) in {}", gen.tables.size(), gen.rows(),
                      gen.bookings, Path("app.db"));
  return Status::OK();
}

Status Demo::Plan(std::string* note) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(Path("app.db"), SqliteDb::Mode::kReadOnly));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> tables, ReadTables(*db, {}));
  SQLIFT_ASSIGN_OR_RETURN(SchemaPlan plan, TranslateSchema(tables, {}));
  int blockers = 0, warnings = 0;
  for (const Problem& p : plan.problems)
    (p.severity == Problem::Severity::kBlocker ? blockers : warnings)++;
  *note =
      fmt::format("{} tables, {} blockers, {} warnings", plan.tables.size(), blockers, warnings);
  return blockers ? Status::FailedPrecondition(*note) : Status::OK();
}

Status Demo::Init(std::string* note) {
  SQLIFT_RETURN_IF_ERROR(bench_stream::RunToEnd({kSelf, "--config", Path("sqlift.toml"), "init"},
                                                Path("init.log"), std::chrono::seconds(60)));
  // Writers first, then the daemons: the snapshot is read while the application writes.
  writers_ = std::make_unique<DemoWriters>(Path("app.db"), r_.pg_uri, 10'000'000, o_.bookings);
  writers_->Start(o_.writers);
  const std::vector<std::string> base = {kSelf, "--config", Path("sqlift.toml")};
  auto with = [&](const char* sub) {
    std::vector<std::string> argv = base;
    argv.push_back(sub);
    return argv;
  };
  SQLIFT_ASSIGN_OR_RETURN(applier_, bench_stream::SpawnDaemon(with("apply"), Path("apply.log")));
  SQLIFT_ASSIGN_OR_RETURN(agent_, bench_stream::SpawnDaemon(with("capture"), Path("capture.log")));
  *note = fmt::format("WAL, outbox; {} writers started; apply and capture running", o_.writers);
  return Status::OK();
}

Result<uint64_t> Demo::Position(const char* column) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      conn_->Query(fmt::format("SELECT {} FROM sqlift.positions WHERE source = $1", column),
                   {"booking"}));
  if (r.rows() == 0 || r.is_null(0, 0)) return Status::NotFound("no position yet");
  return r.GetUint64(0, 0);
}

Status Demo::WaitSnapshot(std::string* note) {
  auto deadline = Clock::now() + std::chrono::seconds(180);
  while (true) {
    // The table exists once the applier has started; polling the position is the wait.
    Result<uint64_t> s = Position("snapshot_seq");
    if (s.ok()) {
      r_.snapshot_seq = *s;
      break;
    }
    if (applier_->Poll() || agent_->Poll()) {
      return Status::Internal("a daemon exited:\n" + process::FileTail(Path("apply.log"), 2000) +
                              process::FileTail(Path("capture.log"), 2000));
    }
    if (Clock::now() > deadline) return Status::Aborted("no snapshot after 180 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Result<uint64_t> rows = Position("snapshot_rows");
  r_.rows_copied = rows.ok() ? static_cast<int64_t>(*rows) : 0;
  *note = fmt::format("{} rows at seq S = {}, with the writers writing", r_.rows_copied,
                      r_.snapshot_seq);
  return Status::OK();
}

Status Demo::CatchUp(std::chrono::seconds timeout) {
  // Capture mode wal: the log seq of everything committed is the barrier's.
  SQLIFT_ASSIGN_OR_RETURN(uint64_t last,
                          RunWalBarrier({Path("app.db"), wal::WalProgressPath(Path("state"))},
                                        [] { return Status::OK(); }));
  Clock::time_point start = Clock::now();
  for (;;) {
    Result<uint64_t> applied = Position("applied_seq");
    if (applied.ok() && *applied >= last) return Status::OK();
    if (applier_->Poll() || agent_->Poll()) {
      return Status::Internal("a daemon exited:\n" + process::FileTail(Path("apply.log"), 2000) +
                              process::FileTail(Path("capture.log"), 2000));
    }
    if (Since(start) > static_cast<double>(timeout.count())) {
      return Status::Aborted(
          fmt::format("the applier did not reach seq {} in {} s", last, timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// The writers write; the lag (committed - applied) is sampled the while.
Status Demo::Stream(std::string* note) {
  auto until =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o_.stream_seconds * 1000));
  const int64_t before = writers_->committed();
  while (Clock::now() < until) {
    Result<uint64_t> committed = bench_stream::CommittedSeq(Path("app.db"));
    Result<uint64_t> applied = Position("applied_seq");
    if (committed.ok() && applied.ok() && *committed > *applied) {
      r_.max_lag_seqs = std::max(r_.max_lag_seqs, *committed - *applied);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *note = fmt::format(
      "{} transactions written through the recorder while streaming; lag at "
      "most {} seqs",
      writers_->committed() - before, r_.max_lag_seqs);
  return Status::OK();
}

// The held form, with the writers writing: both sides compared at one log position.
Status Demo::Verify(std::string* note) {
  VerifySpec spec;
  spec.sqlite = cfg_.source_sqlite;
  spec.pg = cfg_.target_pg;
  spec.cfg = &cfg_;
  spec.hold_source = cfg_.source_id;
  spec.skip_moved_tenants = true;
  int exit = 0;
  SQLIFT_ASSIGN_OR_RETURN(VerifyReport report, RunVerification(spec, &exit));
  const bool matched = report.matched();
  r_.verify_matched = r_.verify_matched.value_or(true) && matched;
  int64_t rows = 0;
  for (const TableVerdict& t : report.tables)
    rows += t.comparison.sqlite_rows;
  *note = fmt::format(
      "{} of {} tables matched ({} rows) at log position {}, the applier held "
      "there while the writers wrote; verify_runs id {}",
      std::count_if(report.tables.begin(), report.tables.end(),
                    [](const TableVerdict& t) { return t.status == TableStatus::kMatched; }),
      report.tables.size(), rows, report.position, report.run_id.value_or(0));
  return matched ? Status::OK() : Status::FailedPrecondition(*note + "\n" + ReportText(report));
}

DemoReport Demo::Run() {
  Status made = MakeScratchDir("", &dir_);
  dir_.owned = dir_.owned && !o_.keep;
  if (!made.ok()) {
    r_.stages.push_back({"scratch", 0, false, made.ToString(), false});
    return r_;
  }
  bool ok = Stage("pg", [&](std::string* n) { return StartPg(n); }) &&
            Stage("app", [&](std::string* n) { return MakeApp(n); }) &&
            Stage("plan", [&](std::string* n) { return Plan(n); }) &&
            Stage("init", [&](std::string* n) { return Init(n); }) &&
            Stage("snapshot", [&](std::string* n) { return WaitSnapshot(n); }) &&
            Stage("stream", [&](std::string* n) { return Stream(n); }) &&
            Stage("verify", [&](std::string* n) { return Verify(n); }) &&
            Stage("cutover", [&](std::string* n) { return Cutover(n, &r_.cutover_pause_ms); }) &&
            Stage("pg-writes", [&](std::string* n) { return WritesOnPostgres(n); }) &&
            Stage("fallback", [&](std::string* n) { return Fallback(n); }) &&
            Stage("verify-again", [&](std::string* n) { return Verify(n); }) &&
            Stage("cutover-again",
                  [&](std::string* n) { return Cutover(n, &r_.cutover_again_pause_ms); }) &&
            Stage("finish", [&](std::string* n) { return Finish(n); });
  (void)ok;
  if (applier_) Stage("stop", [&](std::string* n) { return StopApplier(n); });
  if (agent_) (void)bench_stream::Stop(*agent_, std::chrono::seconds(30));
  if (writers_) (void)writers_->Stop();
  return r_;
}

}  // namespace sqlift::demo

namespace sqlift {

bool DemoReport::ok() const {
  for (const DemoStage& s : stages) {
    if (!s.ok && !s.skipped) return false;
  }
  return writes_lost == 0 && lost_after_fallback <= 0 && verify_matched.value_or(true);
}

DemoReport RunDemoStages(const DemoOptions& options) {
  demo::Demo d(options);
  return d.Run();
}

}  // namespace sqlift
