// `sqlift bench snapshot` (tools/bench/bench_snapshot.h): the rounds, the two loads and the
// figures.
#include "tools/bench/bench_snapshot.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "common/json/json.h"
#include "common/pg/pg_connection.h"
#include "common/pg/pg_identifier.h"
#include "common/process/files.h"
#include "tools/bench/bench_copy_internal.h"
#include "tools/bench/bench_stream.h"
#include "tools/bench/bench_util.h"
#include "tools/sandbox/pg_sandbox.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using bench_copy::GeneratedDb;

constexpr double kTargetRatio = 0.9;
constexpr const char* kSource = "app";
constexpr auto kPoll = std::chrono::milliseconds(5);

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// One snapshot load's figures.
struct SnapshotLoad {
  double seconds = 0;       // init spawned -> snapshot position in PostgreSQL
  double init_seconds = 0;  // of which `sqlift init`
};

// Everything a run shares: the options, the generated file, its plan, the server.
class Bench {
 public:
  Bench(const BenchSnapshotOptions& o, fs::path dir) : o_(o), dir_(std::move(dir)) {}

  Status Prepare();
  Status Round(int round);
  const GeneratedDb& gen() const { return gen_; }
  double generate_s() const { return generate_s_; }
  const std::vector<double>& copy_s() const { return copy_s_; }
  const std::vector<SnapshotLoad>& snapshots() const { return snapshots_; }

 private:
  void Progress(const std::string& what) { fmt::print(*o_.err, "bench snapshot: {}\n", what); }
  Result<double> LoadWithCopy(const std::string& uri, const fs::path& log);
  Result<SnapshotLoad> LoadWithDaemons(const std::string& uri, const fs::path& rd);
  Status PrepareRunDir(const std::string& uri, const fs::path& rd);
  std::vector<std::string> Argv(const fs::path& rd, const char* command) const;
  Status WriteConfig(const std::string& uri, const fs::path& rd);
  Status WaitSnapshot(const std::string& uri, process::Child& apply, process::Child& capture,
                      const fs::path& rd);

  const BenchSnapshotOptions& o_;
  fs::path dir_;
  std::string binary_, db_path_;
  GeneratedDb gen_;
  SchemaPlan plan_;
  double generate_s_ = 0;
  std::unique_ptr<PgSandbox> pg_;
  std::unique_ptr<PgConnection> admin_;  // on `postgres`: CHECKPOINT, DROP DATABASE
  std::vector<double> copy_s_;
  std::vector<SnapshotLoad> snapshots_;
};

Status Bench::Prepare() {
  std::error_code ec;
  binary_ = fs::canonical(o_.binary, ec).string();  // /proc/self/exe means this process
  if (ec) return Status::InvalidArgument(fmt::format("binary {}: {}", o_.binary, ec.message()));
  db_path_ = (dir_ / "booking.db").string();
  Progress(
      fmt::format("generating {} rooms and {} bookings in {}", o_.rooms, o_.bookings, db_path_));
  const Clock::time_point start = Clock::now();
  SQLIFT_ASSIGN_OR_RETURN(gen_, bench_copy::GenerateBookingDb(db_path_, o_.rooms, o_.bookings));
  generate_s_ = Seconds(start);
  SQLIFT_ASSIGN_OR_RETURN(plan_, bench_copy::PlanOf(db_path_));
  Progress("starting PostgreSQL");
  SQLIFT_ASSIGN_OR_RETURN(pg_, PgSandbox::Start({}));
  SQLIFT_ASSIGN_OR_RETURN(admin_, PgConnection::Connect(pg_->uri(), std::chrono::seconds(10)));
  return Status::OK();
}

Result<double> Bench::LoadWithCopy(const std::string& uri, const fs::path& log) {
  bench_copy::Spawn copy{{binary_, "copy", "--sqlite", db_path_, "--pg", uri, "--jobs",
                          std::to_string(o_.jobs), "--log-level", "warn"},
                         {}};
  SQLIFT_ASSIGN_OR_RETURN(bench_copy::ChildRun r,
                          bench_copy::RunChild(copy, log.string(), o_.timeout));
  return r.seconds;
}

Status Bench::WriteConfig(const std::string& uri, const fs::path& rd) {
  const std::string token = (rd / "token").string();
  {
    std::ofstream out(token);
    out << "0123456789abcdef0123456789abcdef\n";  // a throwaway secret for loopback
    if (!out.flush()) return Status::IOError("write " + token);
  }
  std::error_code ec;
  fs::permissions(token, fs::perms::owner_read | fs::perms::owner_write, ec);
  if (ec) return Status::IOError(fmt::format("chmod {}: {}", token, ec.message()));
  const uint16_t port = bench_stream::FreePort();
  if (port == 0) return Status::Unavailable("no free loopback port");
  std::ofstream cfg(rd / "sqlift.toml");
  cfg << fmt::format(
      "[source]\nid = \"{3}\"\nsqlite = \"{0}/app.db\"\n"
      "[state]\ndir = \"{0}/state\"\n"
      "[target]\npg = \"{1}\"\n"
      "[transport]\nlisten = \"127.0.0.1:{2}\"\nconnect = \"127.0.0.1:{2}\"\n"
      "token_file = \"{0}/token\"\n"
      "[capture]\nmode = \"wal\"\n",
      rd.string(), uri, port, kSource);
  return cfg.flush() ? Status::OK() : Status::IOError("write sqlift.toml");
}

// Polls sqlift.positions until the applier has committed the snapshot; fails early when a
// daemon exits. Missing tables (the applier has not created its schema yet) mean not yet.
Status Bench::WaitSnapshot(const std::string& uri, process::Child& apply, process::Child& capture,
                           const fs::path& rd) {
  const auto deadline = Clock::now() + o_.timeout;
  std::unique_ptr<PgConnection> conn;
  while (Clock::now() < deadline) {
    if (apply.Poll() || capture.Poll()) return Status::Internal("a daemon exited");
    if (conn == nullptr) {
      SQLIFT_ASSIGN_OR_RETURN(conn, PgConnection::Connect(uri, std::chrono::seconds(10)));
    }
    Result<PgResult> r =
        conn->Query("SELECT snapshot_seq FROM sqlift.positions WHERE source = $1", {kSource});
    if (r.ok() && r->rows() > 0 && !r->is_null(0, 0)) return Status::OK();
    if (!r.ok() && r.status().code() != Status::Code::kNotFound) conn.reset();  // reconnect
    std::this_thread::sleep_for(kPoll);
  }
  return Status::Aborted(
      fmt::format("no snapshot position after {} s (logs in {})", o_.timeout.count(), rd.string()));
}

// The snapshot's own directory: a copy of the generated file, the config and the token.
Status Bench::PrepareRunDir(const std::string& uri, const fs::path& rd) {
  std::error_code ec;
  fs::create_directories(rd, ec);
  if (!ec) fs::copy_file(db_path_, rd / "app.db", fs::copy_options::overwrite_existing, ec);
  if (ec) {
    return Status::IOError(fmt::format("copy {} into {}: {}", db_path_, rd.string(), ec.message()));
  }
  // On disk before the clock starts, as copy's file is: otherwise the first sync of the
  // database file (init's) writes back the whole copy, and the snapshot is charged for it.
  const int fd = ::open((rd / "app.db").c_str(), O_RDONLY | O_CLOEXEC);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!synced) return Status::IOError("sync the copy of " + db_path_);
  return WriteConfig(uri, rd);
}

std::vector<std::string> Bench::Argv(const fs::path& rd, const char* command) const {
  return {binary_, "--config", (rd / "sqlift.toml").string(), command};
}

// SIGTERM to both daemons; a daemon that does not exit 0 fails the load. A failure carries the
// tail of both logs.
Status StopDaemons(process::Child& capture, process::Child& apply, Status waited,
                   const fs::path& rd) {
  const int capture_exit = bench_stream::Stop(capture, std::chrono::seconds(30));
  const int apply_exit = bench_stream::Stop(apply, std::chrono::seconds(30));
  if (waited.ok() && (capture_exit != 0 || apply_exit != 0)) {
    waited = Status::Internal(
        fmt::format("on SIGTERM capture exited with {}, apply with {}", capture_exit, apply_exit));
  }
  if (waited.ok()) return waited;
  return Status::FromCode(waited.code(),
                          waited.ToString() + "\n--- apply.log\n" +
                              process::FileTail((rd / "apply.log").string(), 3000) +
                              "--- capture.log\n" +
                              process::FileTail((rd / "capture.log").string(), 3000));
}

Result<SnapshotLoad> Bench::LoadWithDaemons(const std::string& uri, const fs::path& rd) {
  SQLIFT_RETURN_IF_ERROR(PrepareRunDir(uri, rd));
  auto log = [&](const char* name) { return (rd / name).string(); };
  SnapshotLoad load;
  const Clock::time_point start = Clock::now();
  SQLIFT_RETURN_IF_ERROR(
      bench_stream::RunToEnd(Argv(rd, "init"), log("init.log"), std::chrono::seconds(600)));
  load.init_seconds = Seconds(start);
  SQLIFT_ASSIGN_OR_RETURN(process::Child apply,
                          bench_stream::SpawnDaemon(Argv(rd, "apply"), log("apply.log")));
  SQLIFT_ASSIGN_OR_RETURN(process::Child capture,
                          bench_stream::SpawnDaemon(Argv(rd, "capture"), log("capture.log")));
  Status waited = WaitSnapshot(uri, apply, capture, rd);
  load.seconds = Seconds(start);
  SQLIFT_RETURN_IF_ERROR(StopDaemons(capture, apply, std::move(waited), rd));
  return load;
}

// One round: fresh databases, both loads (alternating which goes first), the comparison.
Status Bench::Round(int round) {
  const std::string copy_db = fmt::format("copy_{}", round);
  const std::string snap_db = fmt::format("snapshot_{}", round);
  SQLIFT_ASSIGN_OR_RETURN(std::string copy_uri, pg_->CreateDatabase(copy_db));
  SQLIFT_ASSIGN_OR_RETURN(std::string snap_uri, pg_->CreateDatabase(snap_db));
  for (int k = 0; k < 2; ++k) {
    const bool copy_turn = (round + k) % 2 == 0;
    SQLIFT_RETURN_IF_ERROR(admin_->Exec("CHECKPOINT"));
    if (copy_turn) {
      SQLIFT_ASSIGN_OR_RETURN(double s, LoadWithCopy(copy_uri, dir_ / "copy.log"));
      copy_s_.push_back(s);
      Progress(fmt::format("round {}: sqlift copy {:.2f} s", round + 1, s));
    } else {
      SQLIFT_ASSIGN_OR_RETURN(SnapshotLoad s,
                              LoadWithDaemons(snap_uri, dir_ / fmt::format("snapshot_{}", round)));
      snapshots_.push_back(s);
      Progress(fmt::format("round {}: snapshot {:.2f} s (init {:.2f} s)", round + 1, s.seconds,
                           s.init_seconds));
    }
  }
  SQLIFT_RETURN_IF_ERROR(
      bench_copy::CompareLoads(plan_, gen_.rows(), {"copy", copy_uri}, {"snapshot", snap_uri}));
  for (const std::string& db : {copy_db, snap_db})
    SQLIFT_RETURN_IF_ERROR(admin_->Exec("DROP DATABASE " + QuoteIdentifier(db)));
  return Status::OK();
}

void Print(const BenchSnapshotOptions& o, const Bench& b) {
  std::vector<double> total, init;
  for (const SnapshotLoad& s : b.snapshots())
    total.push_back(s.seconds), init.push_back(s.init_seconds);
  const double copy_s = Median(b.copy_s()), snap_s = Median(total), init_s = Median(init);
  const double rows = static_cast<double>(b.gen().rows()), ratio = copy_s / snap_s;
  if (o.json) {
    Json doc = {{"rows", b.gen().rows()},
                {"bookings", b.gen().bookings},
                {"rooms", b.gen().rooms},
                {"copy_seconds", JsonRounded(copy_s, 3)},
                {"copy_rows_per_s", JsonRounded(rows / copy_s, 0)},
                {"snapshot_seconds", JsonRounded(snap_s, 3)},
                {"snapshot_rows_per_s", JsonRounded(rows / snap_s, 0)},
                {"snapshot_init_seconds", JsonRounded(init_s, 3)},
                {"ratio", JsonRounded(ratio, 3)},
                {"ratio_target", kTargetRatio},
                {"jobs", o.jobs},
                {"rounds", o.rounds},
                {"identical", true}};
    *o.out << DumpJsonSpaced(doc) << "\n";
    return;
  }
  fmt::print(*o.out,
             "snapshot benchmark: {} rooms, {} bookings, {} other rows (booking schema), "
             "generated in {:.1f} s; no writers; one PostgreSQL, {} round(s), medians\n"
             "  {:<52} {:>9} {:>10}\n"
             "  {:<52} {:>9.2f} {:>10.0f}\n"
             "  {:<52} {:>9.2f} {:>10.0f}\n"
             "  {:<52} {:>9.2f}\n"
             "  ratio copy time / snapshot time {:>29.3f}   (target >= {})\n"
             "  both loads hold the same rows (count and hash per table)\n",
             b.gen().rooms, b.gen().bookings, b.gen().others, b.generate_s(), o.rounds, "",
             "seconds", "rows/s", fmt::format("sqlift copy --jobs {}", o.jobs), copy_s,
             rows / copy_s, "snapshot: init + apply + capture (wal), to position", snap_s,
             rows / snap_s, "  of which sqlift init", init_s, ratio, kTargetRatio);
}

}  // namespace

int RunBenchSnapshot(const BenchSnapshotOptions& o) {
  if (o.rooms < 1 || o.bookings < 0 || o.rounds < 1 || o.jobs < 1) {
    fmt::print(*o.err,
               "bench snapshot: rooms, rounds and jobs must be at least 1, bookings >= 0\n");
    return 2;
  }
  ScratchDir scratch;
  Status st = MakeScratchDir(o.dir, &scratch);
  std::optional<Bench> bench;
  if (st.ok()) {
    bench.emplace(o, scratch.dir);
    st = bench->Prepare();
  }
  for (int round = 0; st.ok() && round < o.rounds; ++round)
    st = bench->Round(round).With(fmt::format("round {}", round + 1));
  if (!st.ok()) {
    fmt::print(*o.err, "bench snapshot: {}\n", st.ToString());
    return 1;
  }
  Print(o, *bench);
  return 0;
}

}  // namespace sqlift
