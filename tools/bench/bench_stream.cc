// `sqlift bench stream` (tools/bench_stream.h): the phases in order and the figures.
#include "tools/bench/bench_stream.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "common/json/json.h"
#include "common/pg/pg_connection.h"
#include "common/process/files.h"
#include "tools/sandbox/pg_sandbox.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;
using namespace bench_stream;  // NOLINT: this file is the benchmark's own driver
using Clock = std::chrono::steady_clock;

constexpr double kTargetChangesPerS = 20000;
constexpr double kTargetLagP99Ms = 1000;
constexpr auto kPacedInterval = std::chrono::microseconds(2000);  // 10 inserts: 5,000/s
constexpr int kChangesPerTxn = kInsertsPerTxn + kUpdatesPerTxn;

struct Figures {
  int64_t changes = 0;
  double seconds = 0;
  double sqlite = 0, direct_pg = 0, writer = 0, stream = 0;  // changes/s
  double offered = 0, p50 = 0, p99 = 0, max = 0;             // changes/s, ms
  int64_t lag_rows = 0;
};

// One run: everything it starts, stopped in reverse order by the destructor (daemons, then
// the connection, then PostgreSQL, then the directory when it made it).
class Run {
 public:
  explicit Run(const BenchStreamOptions& o, Figures f) : o_(o), f_(f) {}
  ~Run() {
    agent_.reset();
    applier_.reset();
    positions_.reset();
    pg_.reset();
    std::error_code ec;
    if (owned_dir_) fs::remove_all(dir_, ec);
  }

  Status Execute() {
    SQLIFT_RETURN_IF_ERROR(Prepare());
    SQLIFT_RETURN_IF_ERROR(Baselines());
    SQLIFT_RETURN_IF_ERROR(StartStream());
    SQLIFT_RETURN_IF_ERROR(Throughput());
    SQLIFT_RETURN_IF_ERROR(Lag());
    return StopDaemons();
  }
  const Figures& figures() const { return f_; }
  std::string Logs() const {
    return "--- apply.log\n" + process::FileTail(Path("apply.log"), 3000) + "--- capture.log\n" +
           process::FileTail(Path("capture.log"), 3000);
  }

 private:
  std::string Path(const char* name) const { return (dir_ / name).string(); }
  void Progress(const std::string& what) { fmt::print(*o_.err, "bench stream: {}\n", what); }

  Status Prepare();
  Status Baselines();
  Status WriteConfig();
  Status StartStream();
  Status Throughput();
  Status Lag();
  Status StopDaemons();
  Result<uint64_t> AppliedSeq();
  Status WaitApplied(uint64_t seq, std::chrono::seconds timeout);

  const BenchStreamOptions& o_;
  Figures f_;
  std::string binary_;
  fs::path dir_;
  bool owned_dir_ = false;
  std::unique_ptr<PgSandbox> pg_;
  std::string stream_uri_;
  std::unique_ptr<PgConnection> positions_;  // polls sqlift.positions
  std::optional<process::Child> applier_, agent_;
};

Status Run::Prepare() {
  std::error_code ec;
  binary_ = fs::canonical(o_.binary, ec).string();  // /proc/self/exe means this process
  if (ec) return Status::InvalidArgument(fmt::format("binary {}: {}", o_.binary, ec.message()));
  if (!o_.dir.empty()) {
    dir_ = o_.dir;
    fs::create_directories(dir_, ec);
    if (ec) return Status::IOError(fmt::format("create {}: {}", o_.dir, ec.message()));
  } else {
    std::string pattern = (fs::temp_directory_path() / "sqlift_bench_stream_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return Status::IOError("mkdtemp " + pattern);
    dir_ = pattern;
    owned_dir_ = true;
  }
  Progress("starting PostgreSQL");
  // Commit timestamps give each row the moment it became visible in PostgreSQL.
  PgSandboxOptions pgo;
  pgo.settings = {{"track_commit_timestamp", "on"}};
  SQLIFT_ASSIGN_OR_RETURN(pg_, PgSandbox::Start(pgo));
  SQLIFT_ASSIGN_OR_RETURN(stream_uri_, pg_->CreateDatabase("bench_stream"));
  return Status::OK();
}

// Phases 1 and 2: the same transactions, on SQLite alone and straight to PostgreSQL.
Status Run::Baselines() {
  const int64_t txns = f_.changes / kChangesPerTxn;
  Progress(fmt::format("baseline: {} changes on plain SQLite", f_.changes));
  SQLIFT_RETURN_IF_ERROR(CreateSqliteItems(Path("plain.db")));
  {
    SQLIFT_ASSIGN_OR_RETURN(auto plain, OpenSqliteTarget(Path("plain.db"), false));
    SQLIFT_ASSIGN_OR_RETURN(f_.sqlite, RunMixed(*plain, txns));
  }
  Progress(fmt::format("baseline: {} changes straight to PostgreSQL", f_.changes));
  SQLIFT_ASSIGN_OR_RETURN(std::string direct_uri, pg_->CreateDatabase("bench_direct"));
  SQLIFT_RETURN_IF_ERROR(CreatePgItems(direct_uri));
  SQLIFT_ASSIGN_OR_RETURN(auto direct, OpenPgTarget(direct_uri));
  SQLIFT_ASSIGN_OR_RETURN(f_.direct_pg, RunMixed(*direct, txns));
  return Status::OK();
}

Status Run::WriteConfig() {
  {
    std::ofstream token(Path("token"));
    token << "0123456789abcdef0123456789abcdef\n";  // a throwaway secret for loopback
    if (!token.flush()) return Status::IOError("write token");
  }
  fs::permissions(Path("token"), fs::perms::owner_read | fs::perms::owner_write);
  const uint16_t port = FreePort();
  if (port == 0) return Status::Unavailable("no free loopback port");
  std::ofstream cfg(Path("sqlift.toml"));
  cfg << fmt::format(
      "[source]\nid = \"app\"\nsqlite = \"{0}/app.db\"\n"
      "[state]\ndir = \"{0}/state\"\n"
      "[target]\npg = \"{1}\"\n"
      "[transport]\nlisten = \"127.0.0.1:{2}\"\nconnect = \"127.0.0.1:{2}\"\n"
      "token_file = \"{0}/token\"\n"
      "[capture]\nmode = \"recorder\"\n",
      dir_.string(), stream_uri_, port);
  return cfg.flush() ? Status::OK() : Status::IOError("write sqlift.toml");
}

// Phase 3's set-up: init, both daemons, and the agent's snapshot of the seed rows applied.
Status Run::StartStream() {
  Progress("sqlift init, apply and capture; waiting for the snapshot");
  SQLIFT_RETURN_IF_ERROR(CreateSqliteItems(Path("app.db")));
  SQLIFT_RETURN_IF_ERROR(WriteConfig());
  const std::vector<std::string> base = {binary_, "--config", Path("sqlift.toml")};
  auto with = [&](const char* sub) {
    std::vector<std::string> argv = base;
    argv.push_back(sub);
    return argv;
  };
  SQLIFT_RETURN_IF_ERROR(RunToEnd(with("init"), Path("init.log"), std::chrono::seconds(60)));
  SQLIFT_ASSIGN_OR_RETURN(applier_, SpawnDaemon(with("apply"), Path("apply.log")));
  SQLIFT_ASSIGN_OR_RETURN(agent_, SpawnDaemon(with("capture"), Path("capture.log")));
  // The snapshot writes the first position; nothing was committed through the outbox yet.
  return WaitApplied(0, std::chrono::seconds(120)).With("snapshot");
}

// Phase 3: the throughput transactions through a recorder, as fast as the writer goes.
Status Run::Throughput() {
  Progress(fmt::format("stream: {} changes through the recorder", f_.changes));
  SQLIFT_ASSIGN_OR_RETURN(auto app, OpenSqliteTarget(Path("app.db"), true));
  auto start = Clock::now();
  SQLIFT_ASSIGN_OR_RETURN(f_.writer, RunMixed(*app, f_.changes / kChangesPerTxn));
  SQLIFT_ASSIGN_OR_RETURN(uint64_t committed, CommittedSeq(Path("app.db")));
  SQLIFT_RETURN_IF_ERROR(WaitApplied(committed, std::chrono::seconds(60 + f_.changes / 1000)));
  std::chrono::duration<double> elapsed = Clock::now() - start;
  f_.stream = f_.changes / elapsed.count();
  return Status::OK();
}

// Phase 4: the paced load, then each row's lag from its commit timestamp in PostgreSQL.
Status Run::Lag() {
  Progress(fmt::format("stream: {:.1f} s paced at 5,000 changes/s", f_.seconds));
  const int64_t first_id = kSeedRows + f_.changes / kChangesPerTxn * kInsertsPerTxn + 1;
  SQLIFT_ASSIGN_OR_RETURN(auto app, OpenSqliteTarget(Path("app.db"), true));
  SQLIFT_ASSIGN_OR_RETURN(Paced paced, RunPaced(*app, first_id, kPacedInterval,
                                                std::chrono::duration<double>(f_.seconds)));
  f_.offered = paced.offered_changes_per_s;
  SQLIFT_ASSIGN_OR_RETURN(uint64_t committed, CommittedSeq(Path("app.db")));
  SQLIFT_RETURN_IF_ERROR(WaitApplied(committed, std::chrono::seconds(120)));
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r, positions_->Query(
                      "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), "
                      "percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag), count(*) FROM ("
                      "SELECT (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 - "
                      "written_us / 1000.0)::float8 AS lag FROM items WHERE id >= $1::bigint) s",
                      {std::to_string(first_id)}));
  SQLIFT_ASSIGN_OR_RETURN(f_.lag_rows, r.GetInt64(0, 3));
  if (f_.lag_rows != paced.rows) {
    return Status::Internal(
        fmt::format("PostgreSQL holds {} of the {} paced rows", f_.lag_rows, paced.rows));
  }
  SQLIFT_ASSIGN_OR_RETURN(f_.p50, r.GetDouble(0, 0));
  SQLIFT_ASSIGN_OR_RETURN(f_.p99, r.GetDouble(0, 1));
  SQLIFT_ASSIGN_OR_RETURN(f_.max, r.GetDouble(0, 2));
  return Status::OK();
}

Status Run::StopDaemons() {
  const int agent = Stop(*agent_, std::chrono::seconds(30));
  const int applier = Stop(*applier_, std::chrono::seconds(30));
  if (agent == 0 && applier == 0) return Status::OK();
  return Status::Internal(
      fmt::format("on SIGTERM capture exited with {}, apply with {}", agent, applier));
}

// NotFound until the snapshot has written the position.
Result<uint64_t> Run::AppliedSeq() {
  if (positions_ == nullptr) {
    SQLIFT_ASSIGN_OR_RETURN(positions_,
                            PgConnection::Connect(stream_uri_, std::chrono::seconds(5)));
  }
  Result<PgResult> r =
      positions_->Query("SELECT applied_seq FROM sqlift.positions WHERE source = 'app'");
  if (!r.ok()) {
    if (r.status().code() != Status::Code::kNotFound) positions_.reset();  // reconnect
    return r.status();
  }
  if (r->rows() == 0 || r->is_null(0, 0)) return Status::NotFound("no position yet");
  return r->GetUint64(0, 0);
}

// Polls every 5 ms (the resolution of the end-to-end time; more often would take CPU from the
// daemons on a small machine); fails early when a daemon exits.
Status Run::WaitApplied(uint64_t seq, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  uint64_t last = 0;
  while (Clock::now() < deadline) {
    if (applier_->Poll() || agent_->Poll()) return Status::Internal("a daemon exited");
    Result<uint64_t> applied = AppliedSeq();
    if (applied.ok() && *applied >= seq) return Status::OK();
    if (applied.ok()) last = *applied;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::Aborted(
      fmt::format("applied seq {} of {} after {} s", last, seq, timeout.count()));
}

std::string Met(bool met) {
  return met ? "yes" : "NO";
}

void Print(const BenchStreamOptions& o, const Figures& f) {
  if (o.json) {
    Json doc = {{"stream_changes_per_s", JsonRounded(f.stream, 1)},
                {"stream_writer_changes_per_s", JsonRounded(f.writer, 1)},
                {"sqlite_changes_per_s", JsonRounded(f.sqlite, 1)},
                {"direct_pg_changes_per_s", JsonRounded(f.direct_pg, 1)},
                {"stream_vs_direct_pg", JsonRounded(f.stream / f.direct_pg, 3)},
                {"stream_vs_sqlite", JsonRounded(f.stream / f.sqlite, 3)},
                {"offered_changes_per_s", JsonRounded(f.offered, 1)},
                {"lag_p50_ms", JsonRounded(f.p50, 2)},
                {"lag_p99_ms", JsonRounded(f.p99, 2)},
                {"lag_max_ms", JsonRounded(f.max, 2)},
                {"lag_rows", f.lag_rows},
                {"changes", f.changes},
                {"paced_seconds", JsonRounded(f.seconds, 1)},
                {"target_changes_per_s", JsonRounded(kTargetChangesPerS, 0)},
                {"target_lag_p99_ms", JsonRounded(kTargetLagP99Ms, 0)}};
    *o.out << DumpJsonSpaced(doc) << "\n";
    return;
  }
  fmt::print(*o.out,
             "stream benchmark: {} row changes (transactions of 5 inserts + 5 updates), then "
             "{:.0f} s paced (10 inserts every 2 ms)\n"
             "  {:<34} {:>12}  {:>12}  {}\n"
             "  {:<34} {:>12.0f}  {:>12}  {}\n"
             "  {:<34} {:>9.1f} ms  {:>12}  {}\n"
             "  {:<34} {:>9.1f} ms\n"
             "  {:<34} {:>9.1f} ms\n"
             "  {:<34} {:>12.0f}  {:>12}\n",
             f.changes, f.seconds, "figure", "value", "target", "met?", "end-to-end changes/s",
             f.stream, ">= 20000", Met(f.stream >= kTargetChangesPerS),
             "lag p99 at the offered rate", f.p99, "< 1000 ms", Met(f.p99 < kTargetLagP99Ms),
             "lag p50", f.p50, "lag max", f.max, "offered changes/s", f.offered, "5000");
  fmt::print(*o.out,
             "baselines, same run (changes/s):\n"
             "  {:<34} {:>12.0f}\n  {:<34} {:>12.0f}\n  {:<34} {:>12.0f}\n"
             "ratios:\n  {:<34} {:>12.3f}\n  {:<34} {:>12.3f}\n",
             "plain SQLite writes", f.sqlite, "direct PostgreSQL", f.direct_pg,
             "writer through the recorder", f.writer, "stream / direct PostgreSQL",
             f.stream / f.direct_pg, "stream / plain SQLite", f.stream / f.sqlite);
}

}  // namespace

int RunBenchStream(const BenchStreamOptions& o) {
  Figures f;
  const bool full = o.size == "full";
  if (o.size != "small" && !full) {
    fmt::print(*o.err, "bench stream: --size must be small or full\n");
    return 2;
  }
  f.changes = (o.changes > 0 ? o.changes : (full ? 500000 : 60000)) / kChangesPerTxn *
              kChangesPerTxn;  // whole transactions
  f.seconds = o.seconds > 0 ? o.seconds : (full ? 15 : 4);
  if (f.changes < kChangesPerTxn || o.changes < 0 || o.seconds < 0) {
    fmt::print(*o.err, "bench stream: changes must be at least {}\n", kChangesPerTxn);
    return 2;
  }
  Run run(o, f);
  Status st = run.Execute();
  if (!st.ok()) {
    fmt::print(*o.err, "bench stream: {}\n{}", st.ToString(), run.Logs());
    return 1;
  }
  Print(o, run.figures());
  return 0;
}

}  // namespace sqlift
