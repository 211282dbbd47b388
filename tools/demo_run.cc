// The stages of `sqlift demo` (see demo_run.h).
#include "tools/demo_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "apply/pg_connection.h"
#include "apply/schema_translator.h"
#include "capture/sqlite_db.h"
#include "deploy/pg_cluster.h"
#include "deploy/pg_sandbox.h"
#include "tools/bench_copy_internal.h"
#include "tools/bench_stream.h"
#include "tools/bench_util.h"
#include "tools/demo_writer.h"
#include "tools/plan_input.h"

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;
using bench_stream::Child;
constexpr char kSelf[] = "/proc/self/exe";

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// One demo run: owns the scratch directory, the throwaway server, the daemons and the writers.
class Demo {
 public:
  explicit Demo(const DemoOptions& o) : o_(o) {}
  DemoReport Run();

 private:
  // Runs one stage, timing it; false when it failed (the later stages are then skipped).
  bool Stage(const std::string& name, const std::function<Status(std::string*)>& body);
  void Skip(const std::string& name, const std::string& why);
  Status StartPg(std::string* note);
  Status MakeApp(std::string* note);
  Status Plan(std::string* note);
  Status Init(std::string* note);
  Status WaitSnapshot(std::string* note);
  Status Stream(std::string* note);
  Status Verify(std::string* note);
  Status StopDaemons(std::string* note);
  Result<uint64_t> Position(const char* column);
  std::string Path(const std::string& name) const { return (dir_.dir / name).string(); }

  const DemoOptions& o_;
  DemoReport r_;
  ScratchDir dir_;
  std::unique_ptr<PgSandbox> sandbox_;
  std::unique_ptr<PgConnection> conn_;
  std::unique_ptr<DemoWriters> writers_;
  std::unique_ptr<Child> applier_, agent_;
};

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
      "connect = \"127.0.0.1:{2}\"\ntoken_file = \"{0}/token\"\n",
      dir_.dir.string(), r_.pg_uri, port);
  if (!cfg.flush()) return Status::IOError("write " + Path("sqlift.toml"));
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
  writers_ = std::make_unique<DemoWriters>(Path("app.db"), 10'000'000, o_.bookings);
  writers_->Start(o_.writers);
  const std::vector<std::string> base = {kSelf, "--config", Path("sqlift.toml")};
  auto with = [&](const char* sub) {
    std::vector<std::string> argv = base;
    argv.push_back(sub);
    return argv;
  };
  SQLIFT_ASSIGN_OR_RETURN(applier_, Child::Spawn(with("apply"), Path("apply.log")));
  SQLIFT_ASSIGN_OR_RETURN(agent_, Child::Spawn(with("capture"), Path("capture.log")));
  *note = fmt::format("WAL, outbox; {} writers started; apply and capture running", o_.writers);
  return Status::OK();
}

Result<uint64_t> Demo::Position(const char* column) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      conn_->Query(fmt::format("SELECT {} FROM sqlift.positions WHERE source = $1", column),
                   {"booking"}));
  if (r.rows() == 0 || r.is_null(0, 0)) return Status::NotFound("no position yet");
  return std::stoull(std::string(r.get(0, 0)));
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
    if (applier_->Exited() || agent_->Exited()) {
      return Status::Internal("a daemon exited:\n" + bench_stream::Tail(Path("apply.log"), 2000) +
                              bench_stream::Tail(Path("capture.log"), 2000));
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

Status Demo::Stream(std::string* note) {
  auto until =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o_.stream_seconds * 1000));
  while (Clock::now() < until) {  // sample the lag while the writers write
    Result<uint64_t> committed = bench_stream::CommittedSeq(Path("app.db"));
    Result<uint64_t> applied = Position("applied_seq");
    if (committed.ok() && applied.ok() && *committed > *applied) {
      r_.max_lag_seqs = std::max(r_.max_lag_seqs, *committed - *applied);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  SQLIFT_RETURN_IF_ERROR(writers_->Stop());
  r_.writes_acknowledged = writers_->committed();
  Clock::time_point stopped = Clock::now();
  SQLIFT_ASSIGN_OR_RETURN(uint64_t last, bench_stream::CommittedSeq(Path("app.db")));
  while (true) {
    Result<uint64_t> applied = Position("applied_seq");
    if (applied.ok() && *applied >= last) break;
    if (Since(stopped) > 120) return Status::Aborted("the applier did not catch up in 120 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r_.catch_up_ms = Since(stopped) * 1000;
  r_.changes_streamed = last - r_.snapshot_seq;
  // Every acknowledged booking must be in PostgreSQL.
  std::vector<int64_t> acked = writers_->acknowledged();
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult found,
      conn_->Query("SELECT count(*) FROM public.bookings WHERE id = ANY($1::bigint[])",
                   {fmt::format("{{{}}}", fmt::join(acked, ","))}));
  r_.writes_lost = static_cast<int64_t>(acked.size()) - std::stoll(std::string(found.get(0, 0)));
  *note = fmt::format(
      "{} transactions after S; caught up {:.0f} ms after the writers stopped; "
      "{} acknowledged writes, {} lost",
      r_.changes_streamed, r_.catch_up_ms, acked.size(), r_.writes_lost);
  return r_.writes_lost == 0 ? Status::OK() : Status::FailedPrecondition(*note);
}

Status Demo::Verify(std::string* note) {
  SQLIFT_ASSIGN_OR_RETURN(
      auto child, Child::Spawn({kSelf, "verify", "--sqlite", Path("app.db"), "--pg", r_.pg_uri},
                               Path("verify.log")));
  while (!child->Exited())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  int code = child->Stop(std::chrono::seconds(1));
  if (code == 2) return Status::NotImplemented("sqlift verify is not built yet");
  r_.verify_matched = code == 0;
  *note = code == 0 ? "every table matched (sqlift verify, both sides at the same position)"
                    : "differences: see " + Path("verify.log");
  return code == 0 ? Status::OK() : Status::FailedPrecondition(*note);
}

Status Demo::StopDaemons(std::string* note) {
  int agent = agent_->Stop(std::chrono::seconds(30));
  int applier = applier_->Stop(std::chrono::seconds(30));
  *note = fmt::format("capture exited {}, apply exited {}", agent, applier);
  return agent == 0 && applier == 0 ? Status::OK() : Status::Internal(*note);
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
            Stage("stream", [&](std::string* n) { return Stream(n); });
  if (ok) {
    Stage("verify", [&](std::string* n) { return Verify(n); });
    if (r_.stages.back().note.find("not built") != std::string::npos) {
      r_.stages.back().skipped = true;
      r_.stages.back().ok = false;
    }
  }
  for (const char* name :
       {"cutover", "pg-writes", "fallback", "verify-again", "cutover-again", "finish"}) {
    Skip(name, "not built yet (issue 5)");
  }
  if (applier_ && agent_) Stage("stop", [&](std::string* n) { return StopDaemons(n); });
  if (writers_) (void)writers_->Stop();
  return r_;
}

}  // namespace

bool DemoReport::ok() const {
  for (const DemoStage& s : stages) {
    if (!s.ok && !s.skipped) return false;
  }
  return writes_lost == 0 && verify_matched.value_or(true);
}

DemoReport RunDemoStages(const DemoOptions& options) {
  Demo demo(options);
  return demo.Run();
}

}  // namespace sqlift
