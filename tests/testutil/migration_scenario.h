// MigrationScenario: a whole migration driven end to end for the cutover, fallback, verify and
// finish tests: a directory with app.db, token, sqlift.toml, state/ and logs; a
// database of its own on the suite's throwaway PostgreSQL; the real `sqlift apply` and `sqlift
// capture` processes; `sqlift cutover|fallback|verify|finish` run as child processes whose
// exit codes and --json reports are parsed; writers that follow the route (route_writer.h).
//
// Layouts:
//   kCommerce       testdata/commerce_schema.sql with [source] tenant_column =
//                   "tenant_id"; tenants acme, globex and initech, each with customers (JSON
//                   metadata), products (DECIMAL prices exact to the cent), orders and items;
//                   plus writer_counters(writer, tenant_id, n) for the writers.
//   kWholeDatabase  testdata/booking_schema.sql (INTEGER PRIMARY KEY AUTOINCREMENT ids),
//                   no tenants (route "*"), seed rooms, bookings and settings; plus
//                   writer_counters(writer, n).
//   kTenantFile     one database-per-tenant file of several sharing a PostgreSQL database
//                   (laid out by tests/testutil/tenant_files_scenario.h, then Adopt): the
//                   booking schema, [source] tenant; PostgreSQL's tables carry the constant
//                   column tenant_id. Writers' names must be unique across the files (the
//                   checks find a writer's rows by its name).
// Values are written in the forms both sides and tests/testutil/table_compare.h spell alike
// (whole-second UTC times, JSON in jsonb's own text form), so every table compares exactly.
//
// Thread safety: one test thread; the writers it makes run on their own threads.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/process/process.h"
#include "tools/demo/route_writer.h"
#include "tools/sandbox/pg_sandbox.h"

namespace sqlift::testing {

enum class MigrationLayout { kCommerce, kWholeDatabase, kTenantFile };

inline const std::vector<std::string> kCommerceTenants = {"acme", "globex", "initech"};

// What `sqlift cutover|fallback --json` reported (and how it exited).
struct SwitchOutcome {
  int exit_code = -1;
  bool ok = false, undone = false;
  double pause_ms = -1;
  int64_t epoch_before = -1, epoch_after = -1;
  uint64_t fence_seq = 0, flip_seq = 0;
  uint64_t undo_seq = 0;  // when undone: the seq of the route event that lifted the fence
  std::string reason;
  std::string out, err;  // everything it printed, for failure messages
};

// A route as _sqlift_route holds it, read with plain SQL (absent: sqlite, epoch 0, not fenced).
struct SqliteRouteRow {
  std::string side = "sqlite";
  int64_t epoch = 0;
  bool fenced = false;
};

class MigrationScenario {
 public:
  // A new PostgreSQL database `name`, the SQLite file laid out and seeded, `sqlift init` run.
  // `name` is also the source id, so each scenario has a replication slot, publication and
  // origin of its own (slot names are global to the cluster). write_before_snapshot: one
  // transaction through a recorder right after init, so the snapshot's position S is 1 and
  // the DDL events the agent logs with the first seq are inside the snapshot.
  // capture_mode: [capture] mode, "recorder" or "wal" (in wal mode the write before the
  // snapshot is a plain one, through no recorder).
  [[nodiscard]] static Result<std::unique_ptr<MigrationScenario>> Create(
      PgSandbox& pg, const std::string& name, MigrationLayout layout, bool write_before_snapshot,
      const std::string& capture_mode = "recorder");
  // A source someone else laid out and initialized: `dir` holds app.db, token and sqlift.toml
  // naming source id `source` and target `uri` (whose database exists).
  static std::unique_ptr<MigrationScenario> Adopt(PgSandbox& pg, MigrationLayout layout,
                                                  std::filesystem::path dir, std::string source,
                                                  std::string uri);
  // Kills what still runs and drops the slot; keeps the directory when a test failed.
  ~MigrationScenario();

  // Starts both daemons and waits until the snapshot is in and the applier has caught up.
  [[nodiscard]] Status StartReplication(std::chrono::seconds timeout);
  [[nodiscard]] Status StartApplier();
  [[nodiscard]] Status StartAgent();
  void KillApplier();  // SIGKILL, reaped
  void KillAgent();
  // SIGTERM; fails unless it exits 0.
  [[nodiscard]] Status StopAgent();
  [[nodiscard]] Status StopApplier();
  PgSandbox& pg() { return pg_; }

  // The log seq that covers every transaction committed now (recorder mode: the outbox
  // high-water mark; wal mode: the barrier's, which waits for the agent), and
  // sqlift.positions.applied_seq.
  [[nodiscard]] Result<uint64_t> CommittedSeq();
  [[nodiscard]] Result<uint64_t> AppliedSeq();
  // Until applied_seq >= the outbox high-water mark read now.
  [[nodiscard]] Status WaitForwardDrained(std::chrono::seconds timeout);
  // Until the reverse path has applied to SQLite every PostgreSQL transaction committed before
  // now: a logical message is written into the WAL and the slot's confirmed position must pass
  // it (the reverse path confirms only what SQLite holds).
  [[nodiscard]] Status WaitReverseDrained(std::chrono::seconds timeout);

  // `sqlift cutover|fallback [--tenant T] --json [extra...]`, to its end.
  [[nodiscard]] Result<SwitchOutcome> Cutover(const std::string& tenant,
                                              const std::vector<std::string>& extra = {});
  [[nodiscard]] Result<SwitchOutcome> Fallback(const std::string& tenant,
                                               const std::vector<std::string>& extra = {});
  // The same, started in the background; WaitSwitch reads its report when it ends.
  struct RunningSwitch {
    ::sqlift::process::Child process;
    std::filesystem::path out, err;  // where it prints
  };
  [[nodiscard]] Result<RunningSwitch> StartSwitch(const std::string& command,
                                                  const std::string& tenant,
                                                  const std::vector<std::string>& extra);
  [[nodiscard]] Result<SwitchOutcome> WaitSwitch(RunningSwitch& running);
  // `sqlift --config F ARGS...` to its end.
  [[nodiscard]] Result<process::Output> Sqlift(const std::vector<std::string>& args);

  [[nodiscard]] Result<SqliteRouteRow> SqliteRoute(const std::string& tenant);
  // Runs `sql` in one SQLite transaction through a recorder; the Commit's status.
  [[nodiscard]] Status RecordedWrite(const std::string& sql);
  // Runs `sql` on a plain connection (no recorder: what wal mode captures from every client).
  [[nodiscard]] Status PlainWrite(const std::string& sql);
  // Runs `sql` in an ordinary PostgreSQL session (not the applier's: the fences apply).
  [[nodiscard]] Status PgWrite(const std::string& sql);
  // The first value `sql` returns on each side, as text ("no row", or the error).
  std::string PgValue(const std::string& sql);
  std::string SqliteValue(const std::string& sql);
  // Polls `done` every few milliseconds until it holds or `timeout` passes.
  static bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

  // A writer for `tenant` ("*" in the whole-database layout) named `writer`. Its
  // writer_counters row is seeded: commerce "<tenant>-1" to "-3", whole database "booker-1"
  // to "-3".
  [[nodiscard]] Result<std::unique_ptr<RouteWriter>> StartWriter(
      const std::string& tenant, const std::string& writer,
      std::chrono::milliseconds pg_hold = std::chrono::milliseconds(0));

  // "" when every table is equal on both sides (table_compare.h), else the differences.
  std::string CompareAll();
  // "" when each acknowledged write of `w` is on `side` with its values; else what is wrong.
  // `exact` (the writer has stopped): also no row besides them (but writes whose COMMIT's
  // outcome was unknown) and writer_counters.n equal to the rows: every write exactly once.
  std::string CheckWrites(const RouteWriter& w, WriteSide side, bool exact);
  // A seeded product of `tenant` (commerce), for rogue writes.
  std::string SeedProduct(const std::string& tenant) const { return "p-" + tenant + "-1"; }

  std::vector<std::string> tables() const;
  std::string Logs(size_t bytes = 3000) const;
  const std::filesystem::path& dir() const { return dir_; }
  std::string sqlite_path() const { return (dir_ / "app.db").string(); }
  std::string config_path() const { return (dir_ / "sqlift.toml").string(); }
  const std::string& uri() const { return uri_; }
  const std::string& source() const { return source_; }
  std::string slot() const { return "sqlift_" + source_; }
  MigrationLayout layout() const { return layout_; }

 private:
  MigrationScenario(PgSandbox& pg, MigrationLayout layout) : pg_(pg), layout_(layout) {}
  [[nodiscard]] Status Layout();
  [[nodiscard]] Status Seed();

  PgSandbox& pg_;
  const MigrationLayout layout_;
  std::string capture_mode_ = "recorder";
  std::filesystem::path dir_;
  std::string source_;
  std::string uri_;
  uint16_t port_ = 0, http_port_ = 0, apply_http_port_ = 0;
  int switches_ = 0;  // names the background switches' output files
  std::optional<process::Child> applier_, agent_;
};

// "" unless some write of `writers` was acknowledged on SQLite with an outbox seq in
// [from, to] (SQLite refuses a tenant's writes from a switch's fence on); else which.
std::string SqliteWritesBetween(const std::vector<RouteWriter*>& writers, uint64_t from,
                                uint64_t to);

// The raw JSON token after "key": in `json` (a number, true/false/null, or a quoted string with
// its quotes); "" when absent. Enough for sqlift's flat reports.
std::string JsonField(const std::string& json, const std::string& key);

}  // namespace sqlift::testing
