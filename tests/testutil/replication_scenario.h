// ReplicationScenario: one source database replicated into a throwaway PostgreSQL by the real
// `sqlift capture` and `sqlift apply` processes, for the end-to-end and crash tests of replication.
//
// It lays out a directory (app.db, token, sqlift.toml, state/, logs), creates the application
// tables (accounts and events as tests/tools/workload_writer.cc writes them, a `user` table
// with a hostile column name, and a `bulk` table of generated rows for a snapshot that takes
// a while), runs writers, kills and restarts the daemons, waits for positions and compares.
//
// Double-apply detection: before the snapshot, InstallAudit() creates public.accounts on
// PostgreSQL with a trigger counting, per row, the UPDATEs the applier makes. Each committed
// SQLite transaction adds exactly 1 to a row's balance, so for every row
// updates == balance - balance_at_insert holds iff no change was applied twice (a replayed
// INSERT becomes an upsert, which counts as an UPDATE too).
//
// Thread safety: one test thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/process/process.h"
#include "tools/sandbox/pg_sandbox.h"

namespace sqlift::testing {

class ReplicationScenario {
 public:
  // A new PostgreSQL database `name` on `pg`, the SQLite tables with `bulk_rows` generated
  // rows, and `sqlift init` run with [capture] mode `capture_mode` ("recorder" or "wal"; the
  // writers use the recorder either way, which wal mode ignores).
  [[nodiscard]] static Result<std::unique_ptr<ReplicationScenario>> Create(
      PgSandbox& pg, const std::string& name, int bulk_rows,
      const std::string& capture_mode = "recorder");
  ~ReplicationScenario();

  [[nodiscard]] Status InstallAudit();
  // `env`: extra environment, e.g. SQLIFT_CRASH_POINT=after_apply_commit:3.
  [[nodiscard]] Status StartApplier(const std::vector<std::string>& env = {});
  // Waits for the applier to exit on its own (a crash point); its exit code.
  [[nodiscard]] Result<int> WaitApplierExit();
  [[nodiscard]] Status StartAgent();
  void KillApplier();  // SIGKILL, reaped
  void KillAgent();
  // SIGTERM to both daemons; fails unless each exits 0.
  [[nodiscard]] Status StopDaemons();

  // workload_writer WRITER txns seed, through the recorder.
  [[nodiscard]] Result<process::Child> StartWriter(int writer, int txns, int seed);
  // `sqlift status --json` for this source.
  [[nodiscard]] Result<process::Output> RunStatus();
  uint16_t agent_http_port() const { return http_port_; }
  uint16_t applier_http_port() const { return apply_http_port_; }
  // Runs `sql` in the sqlite3 shell with the capture extension loaded.
  [[nodiscard]] Result<process::Output> Shell(const std::string& sql);

  // The log seq that covers every transaction committed now: the outbox high-water mark in
  // recorder mode; in wal mode the barrier's (which needs the agent running).
  [[nodiscard]] Result<uint64_t> CommittedSeq();
  // How many transactions the writers have committed (the outbox high-water mark: they write
  // through the recorder in both modes). Cheap; no agent needed.
  [[nodiscard]] Result<uint64_t> CommittedTransactions();
  // sqlift.positions.applied_seq (and snapshot_seq) for the source; NotFound before the
  // snapshot, Unavailable while PostgreSQL is down.
  [[nodiscard]] Result<uint64_t> AppliedSeq();
  [[nodiscard]] Result<uint64_t> SnapshotSeq();
  // Waits until applied_seq >= seq (polling the position); false on timeout.
  bool WaitApplied(uint64_t seq, std::chrono::seconds timeout);

  // "" when every table is equal on both sides, else the first difference per table.
  std::string CompareAll(const std::vector<std::string>& tables);
  // "" when the audit shows every change applied exactly once (see the class comment).
  std::string AuditProblems();
  // The daemons' logs, for failure messages (the last `bytes` of each).
  std::string Logs(size_t bytes = 4000) const;
  std::string ApplierLog() const;

  const std::filesystem::path& dir() const { return dir_; }
  const std::string& uri() const { return uri_; }

 private:
  ReplicationScenario() = default;
  Status Layout(int bulk_rows);

  std::filesystem::path dir_;
  std::string uri_;
  std::string capture_mode_ = "recorder";
  uint16_t port_ = 0;
  uint16_t http_port_ = 0, apply_http_port_ = 0;
  std::optional<process::Child> applier_, agent_;
};

}  // namespace sqlift::testing
