// `sqlift init` (the SQLite side) and `sqlift capture`: prepare the application's database
// and run the capture agent.
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <set>

#include "apply/reverse/reverse_runner.h"
#include "capture/agent/capture_agent.h"
#include "capture/agent/wal_agent.h"
#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/outbox.h"
#include "capture/outbox/route_table.h"
#include "capture/shipper/shipper.h"
#include "capture/snapshot/sqlite_snapshot_source.h"
#include "capture/wal/wal_progress.h"
#include "common/sqlite/sqlite_schema.h"
#include "proto/transport/frame_stream.h"
#include "state/change_log.h"
#include "tools/cli/command.h"
#include "tools/daemon/daemon_shell.h"
#include "tools/daemon/daemon_status.h"
#include "tools/daemon/http_server.h"
#include "tools/repair/gap_repair.h"

namespace sqlift {
namespace {

struct CaptureOptions {
  bool once = false;
};

// Records how rows map to tenants (capture/route_table.h) for the recorder and the tools. A
// scheme cannot change once a route exists: the routes would then mean other rows.
Status StoreTenantScheme(SqliteDb& db, const Config& cfg) {
  SQLIFT_ASSIGN_OR_RETURN(TenantScheme old, ReadTenantScheme(db.handle()));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(db.handle()));
  const TenantScheme want{cfg.source_tenant.empty() ? cfg.source_tenant_column : "",
                          cfg.source_tenant};
  if ((old.column != want.column || old.constant != want.constant) && !routes.empty()) {
    return Status::FailedPrecondition(fmt::format(
        "[source] tenant_column/tenant changed (was \"{}\"/\"{}\") after routes were set; "
        "finish or undo the migration first",
        old.column, old.constant));
  }
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement put,
                          db.Prepare("INSERT INTO main._sqlift_state (key, value) VALUES (?1, ?2) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  for (auto [key, value] : {std::pair{outbox::kStateTenantColumn, want.column},
                            std::pair{outbox::kStateTenant, want.constant}}) {
    SQLIFT_RETURN_IF_ERROR(put.BindText(1, key));
    SQLIFT_RETURN_IF_ERROR(put.BindText(2, value));
    SQLIFT_RETURN_IF_ERROR(put.Run());
    SQLIFT_RETURN_IF_ERROR(put.Reset());
  }
  return Status::OK();
}

// The capture mode `init` stores: the one already stored (a migration keeps its mode), else
// [capture] mode, else "wal" (no change to the application).
Result<std::string> ChooseCaptureMode(SqliteDb& db, const Config& cfg) {
  SQLIFT_ASSIGN_OR_RETURN(
      int64_t stored,
      db.QueryInt64("SELECT count(*) FROM main.sqlite_schema WHERE name = '_sqlift_state'"));
  std::string mode =
      cfg.capture_mode.empty() ? std::string(outbox::kCaptureModeWal) : cfg.capture_mode;
  if (stored == 0) return mode;
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement q,
                          db.Prepare("SELECT value FROM main._sqlift_state WHERE key = ?1"));
  SQLIFT_RETURN_IF_ERROR(q.BindText(1, outbox::kStateCaptureMode));
  SQLIFT_ASSIGN_OR_RETURN(bool row, q.Step());
  // Prepared before capture modes existed: the recorder was the only one.
  const std::string old(row ? q.ColumnText(0) : outbox::kCaptureModeRecorder);
  if (!cfg.capture_mode.empty() && cfg.capture_mode != old) {
    return Status::FailedPrecondition(fmt::format(
        "{} was prepared for capture mode {}, and [capture] mode says {}: a migration keeps "
        "the mode it started with (finish it, or remove the setting)",
        cfg.source_sqlite, old, cfg.capture_mode));
  }
  return old;
}

Status StoreCaptureMode(SqliteDb& db, const std::string& mode) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement put,
                          db.Prepare("INSERT INTO main._sqlift_state (key, value) VALUES (?1, ?2) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  SQLIFT_RETURN_IF_ERROR(put.BindText(1, outbox::kStateCaptureMode));
  SQLIFT_RETURN_IF_ERROR(put.BindText(2, mode));
  return put.Run();
}

// Switches to WAL, checks every captured table has a primary key, and creates the outbox and
// state tables, in one transaction; idempotent.
Status InitSqlite(const Config& cfg) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(cfg.source_sqlite, SqliteDb::Mode::kReadWrite));
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement wal, db->Prepare("PRAGMA journal_mode=WAL"));
  SQLIFT_ASSIGN_OR_RETURN(bool row, wal.Step());
  const bool is_wal = row && wal.ColumnText(0) == "wal";
  SQLIFT_RETURN_IF_ERROR(wal.Reset());  // a statement in progress would block the COMMIT
  if (!is_wal) {
    return Status::FailedPrecondition(
        fmt::format("{} could not be switched to WAL mode (is it on a network file system?)",
                    cfg.source_sqlite));
  }
  SQLIFT_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  auto fail = [&](Status st) {
    (void)db->Exec("ROLLBACK");
    return st;
  };
  Result<std::vector<TableSchema>> tables = ReadSchema(*db);
  if (!tables.ok()) return fail(tables.status());
  std::set<std::string> excluded(cfg.source_exclude_tables.begin(),
                                 cfg.source_exclude_tables.end());
  std::string blockers;
  std::vector<std::string> captured;
  for (const TableSchema& t : *tables) {
    if (excluded.count(t.name)) continue;
    if (!t.HasPrimaryKey()) {
      blockers +=
          fmt::format("\n  {}: add a PRIMARY KEY, or list it in [source] exclude_tables", t.name);
      continue;
    }
    captured.push_back(t.name);
  }
  if (!blockers.empty()) {
    return fail(Status::FailedPrecondition(fmt::format(
        "tables without a primary key cannot be captured (SQLite sessions skip them):{}",
        blockers)));
  }
  Result<std::string> mode = ChooseCaptureMode(*db, cfg);
  if (!mode.ok()) return fail(mode.status());
  Status st = outbox::CreateTables(db->handle());
  if (st.ok()) st = StoreTenantScheme(*db, cfg);
  if (st.ok()) st = StoreCaptureMode(*db, *mode);
  // Guard triggers: every SQLite client, not only recorders, is fenced by the routes.
  Result<TenantScheme> scheme = ReadTenantScheme(db->handle());
  if (st.ok()) st = scheme.ok() ? InstallGuards(*db, captured, *scheme) : scheme.status();
  if (!st.ok()) return fail(st);
  SQLIFT_RETURN_IF_ERROR(db->Exec("COMMIT"));
  spdlog::info("{}: WAL mode, outbox and guard triggers ready; {} tables captured, {} excluded",
               cfg.source_sqlite, captured.size(), excluded.size());
  if (*mode == outbox::kCaptureModeWal) {
    spdlog::info(
        "capture mode wal: `sqlift capture` reads every committed transaction from {}-wal; "
        "the application needs no change (any client, any SQLite library)",
        cfg.source_sqlite);
  } else {
    spdlog::info(
        "capture mode recorder: only connections that load the sqlift recorder and call "
        "sqlift_flush() before COMMIT are captured");
  }
  return Status::OK();
}

int RunInit(const GlobalOptions& global) {
  Result<Config> cfg = RequireConfig(global);
  Status st = cfg.ok() ? cfg->Require({"source.sqlite"}, "init") : cfg.status();
  if (st.ok()) st = InitSqlite(*cfg);
  if (!st.ok()) {
    spdlog::error("init: {}", st.ToString());
    return ExitCodeFor(st);
  }
  return kExitOk;
}

// Capture mode wal: a gap is repaired by difference with PostgreSQL (tools/repair), when the
// configuration names it.
GapRepairFn GapRepairFor(const Config& cfg) {
  if (cfg.target_pg.empty() || cfg.source_id.empty()) return nullptr;
  return [&cfg](SqliteDb& snapshot, uint64_t logged_seq) -> Result<GapRepair> {
    GapRepairSpec spec;
    spec.cfg = &cfg;
    spec.pg = cfg.target_pg;
    spec.source = cfg.source_id;
    SQLIFT_ASSIGN_OR_RETURN(GapRepairResult r, BuildGapRepair(spec, snapshot, logged_seq));
    GapRepair out;
    out.batch = std::move(r.batch);
    out.rows = r.inserted + r.updated + r.deleted;
    out.summary =
        fmt::format("{} inserted, {} updated, {} deleted", r.inserted, r.updated, r.deleted);
    return out;
  };
}

Result<CaptureAgentOptions> AgentOptions(const Config& cfg) {
  CaptureAgentOptions o;
  o.repair_gap = GapRepairFor(cfg);
  o.wal_progress_path = wal::WalProgressPath(cfg.state_dir);
  o.sqlite_path = cfg.source_sqlite;
  o.exclude_tables.insert(cfg.source_exclude_tables.begin(), cfg.source_exclude_tables.end());
  o.batch_rows = static_cast<size_t>(cfg.capture_batch_rows);
  o.poll_interval = std::chrono::milliseconds(cfg.capture_poll_ms);
  o.restart_wal = cfg.capture_wal_restart == "agent";
  o.retain_time = std::chrono::seconds(cfg.state_retain_seconds);
  o.retain_bytes = static_cast<uint64_t>(cfg.state_retain_bytes);
  return o;
}

// The database's capture mode, as `init` stored it.
Result<std::string> StoredCaptureMode(const Config& cfg) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(cfg.source_sqlite, SqliteDb::Mode::kReadOnly));
  SQLIFT_ASSIGN_OR_RETURN(std::string mode, outbox::ReadCaptureMode(db->handle()));
  if (!cfg.capture_mode.empty() && cfg.capture_mode != mode) {
    return Status::FailedPrecondition(fmt::format(
        "{} was prepared (`sqlift init`) for capture mode {}, but [capture] mode says {}",
        cfg.source_sqlite, mode, cfg.capture_mode));
  }
  return mode;
}

// The agent of the database's capture mode.
Result<std::unique_ptr<Agent>> OpenAgent(const Config& cfg, const CaptureAgentOptions& options,
                                         state::ChangeLog* log) {
  SQLIFT_ASSIGN_OR_RETURN(std::string mode, StoredCaptureMode(cfg));
  if (mode == outbox::kCaptureModeWal) {
    SQLIFT_ASSIGN_OR_RETURN(auto agent, WalCaptureAgent::Open(options, log));
    return std::unique_ptr<Agent>(std::move(agent));
  }
  SQLIFT_ASSIGN_OR_RETURN(auto agent, CaptureAgent::Open(options, log));
  return std::unique_ptr<Agent>(std::move(agent));
}

// What ships the log to the applier when [transport] connect is set: the shipper and the
// snapshot it sends when the applier has no position. Owned by Capture(); the shipper's
// thread runs beside the agent's loop on the main thread.
struct Shipping {
  std::unique_ptr<SqliteSnapshotSource> snapshot;
  std::unique_ptr<Shipper> shipper;
};

Result<Shipping> StartShipping(const Config& cfg, state::ChangeLog* log) {
  Shipping out;
  if (cfg.transport_connect.empty()) {
    spdlog::warn("[transport] connect is not set: capturing into the log without shipping");
    return out;
  }
  SQLIFT_RETURN_IF_ERROR(cfg.Require({"source.id"}, "capture"));
  SQLIFT_ASSIGN_OR_RETURN(Endpoint to, ParseEndpoint(cfg.transport_connect));
  SQLIFT_ASSIGN_OR_RETURN(std::string token, ReadTokenFile(cfg));
  SqliteSnapshotOptions so;
  so.sqlite_path = cfg.source_sqlite;
  so.exclude_tables.insert(cfg.source_exclude_tables.begin(), cfg.source_exclude_tables.end());
  SQLIFT_ASSIGN_OR_RETURN(std::string mode, StoredCaptureMode(cfg));
  // Mode wal: the snapshot's seq is named by the barrier (capture/snapshot/wal_barrier.h).
  if (mode == outbox::kCaptureModeWal) so.progress_path = wal::WalProgressPath(cfg.state_dir);
  out.snapshot = std::make_unique<SqliteSnapshotSource>(so);
  ShipperOptions o;
  o.host = to.host;
  o.port = to.port;
  o.source_id = cfg.source_id;
  o.token = token;
  o.max_frame_bytes = static_cast<size_t>(cfg.transport_max_frame_bytes);
  o.batch_bytes = std::min<size_t>(o.batch_bytes, o.max_frame_bytes / 4);
  o.snapshot = out.snapshot.get();
  if (!cfg.transport_tls_ca.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(o.tls, proto::MakeClientTls({"", "", cfg.transport_tls_ca}));
    o.tls_server_name = cfg.transport_tls_server_name;
  }
  out.shipper = std::make_unique<Shipper>(o, log);
  out.shipper->Start();
  spdlog::info("shipping to the applier at {}:{} as source {}{}", to.host, to.port, cfg.source_id,
               o.tls ? " (TLS)" : "");
  return out;
}

// `--once`: drains what the outbox holds now, without shipping (and without the daemon shell:
// a signal ends it as it would any short command).
Status CaptureOnce(const Config& cfg) {
  SQLIFT_RETURN_IF_ERROR(cfg.Require({"source.sqlite", "state.dir"}, "capture"));
  SQLIFT_ASSIGN_OR_RETURN(auto log, state::OpenRocksChangeLog(cfg.state_dir));
  SQLIFT_ASSIGN_OR_RETURN(CaptureAgentOptions options, AgentOptions(cfg));
  SQLIFT_ASSIGN_OR_RETURN(auto agent, OpenAgent(cfg, options, log.get()));
  SQLIFT_ASSIGN_OR_RETURN(DrainStats stats, agent->DrainAvailable());
  std::printf("captured %llu transactions (%llu row changes, %llu DDL events); logged seq %llu\n",
              static_cast<unsigned long long>(stats.transactions),
              static_cast<unsigned long long>(stats.changes),
              static_cast<unsigned long long>(stats.ddl_events),
              static_cast<unsigned long long>(stats.logged_seq));
  return Status::OK();
}

// The capture daemon as the shell runs it (tools/daemon/daemon_shell.h): Start opens the log,
// starts shipping and reverse replication and opens the agent; Run is the agent's loop on the
// main thread; Stop wakes it (CaptureAgent::Stop), and the log write in hand completes.
class CaptureDaemon : public DaemonWork {
 public:
  explicit CaptureDaemon(const Config& cfg) : cfg_(cfg) {}

  Status Start() override {
    SQLIFT_RETURN_IF_ERROR(cfg_.Require({"source.sqlite", "state.dir"}, "capture"));
    SQLIFT_ASSIGN_OR_RETURN(log_, state::OpenRocksChangeLog(cfg_.state_dir));
    SQLIFT_ASSIGN_OR_RETURN(CaptureAgentOptions options, AgentOptions(cfg_));
    // The agent opens first: in wal mode the snapshot's barrier waits for it.
    options.on_logged = [this](uint64_t) {
      if (Shipper* shipper = shipper_.load()) shipper->Notify();
    };
    SQLIFT_ASSIGN_OR_RETURN(agent_, OpenAgent(cfg_, options, log_.get()));
    SQLIFT_ASSIGN_OR_RETURN(shipping_, StartShipping(cfg_, log_.get()));
    shipper_.store(shipping_.shipper.get());
    // Reverse replication for tenants cut over to PostgreSQL (needs [target] pg).
    if (!cfg_.target_pg.empty() && !cfg_.source_id.empty()) reverse_ = ReverseRunner::Start(cfg_);
    return Status::OK();
  }
  // A log, database or shipper that cannot be opened ends the agent, whatever the reason.
  bool RetryStart(const Status&) const override { return false; }
  std::map<std::string, HttpServer::Handler> Routes() override {
    return AgentHttpRoutes(cfg_, log_.get(), shipping_.shipper.get(), reverse_.get());
  }
  Status Run(const StopFlag&) override {
    spdlog::info("capture agent for {} (source {}) started at logged seq {}", cfg_.source_sqlite,
                 cfg_.source_id, agent_->logged_seq());
    return agent_->Run();
  }
  void Stop() override { agent_->Stop(); }
  void Shutdown() override {
    if (reverse_) reverse_->Stop();
    if (shipping_.shipper) {
      shipping_.shipper->Stop();
      ShipperStats s = shipping_.shipper->stats();
      spdlog::info("shipper stopped: shipped seq {}, acked seq {}", s.shipped_seq, s.acked_seq);
    }
    spdlog::info("capture agent stopped at logged seq {}", agent_->logged_seq());
  }

 private:
  const Config& cfg_;
  std::unique_ptr<state::ChangeLog> log_;  // declared first: the others use it
  Shipping shipping_;
  std::unique_ptr<Agent> agent_;
  std::atomic<Shipper*> shipper_{nullptr};  // for the agent's on_logged, once shipping runs
  std::unique_ptr<ReverseRunner> reverse_;
};

}  // namespace

void AddCaptureCommands(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  CLI::App* init = root.add_subcommand(
      "init",
      "Prepare the SQLite database: switch it to WAL, check every captured table has a "
      "primary key, create sqlift's state tables and guard triggers, and record the capture "
      "mode ([capture] mode: wal, the default, needs no change to the application; recorder "
      "captures only connections that load the recorder). Idempotent");
  table.Set(init, [&global] { return RunInit(global); });

  static CaptureOptions o;
  CLI::App* capture = root.add_subcommand(
      "capture",
      "Run the capture agent: move every committed transaction into the durable log in the "
      "state directory (capture mode wal: read from the -wal file, every writer; recorder: "
      "the outbox rows recorders wrote), and ship the log to the applier at [transport] "
      "connect (a snapshot first when the applier has no position)");
  capture->add_flag("--once", o.once, "Capture what is committed now, then exit (no shipping)");
  capture->footer(
      "Needs --config with [source] sqlite and [state] dir; to ship, also [source] id, "
      "[transport] connect and token_file (and tls_ca for TLS). Without [transport] connect it "
      "captures into the log only. With [http] listen it serves GET /status (JSON) and /metrics "
      "(Prometheus). Stops cleanly on SIGTERM or SIGINT.");
  table.Set(capture, [&global]() -> int {
    // The daemon takes SIGTERM and SIGINT before anything else: one that comes while it
    // starts stops it cleanly.
    std::optional<DaemonShell> shell;
    if (!o.once) shell.emplace(DaemonShellOptions{"capture"});
    Result<Config> cfg = RequireConfig(global);
    if (cfg.ok() && shell) {
      CaptureDaemon daemon(*cfg);
      return shell->Run(daemon, cfg->http_listen);
    }
    Status st = cfg.ok() ? CaptureOnce(*cfg) : cfg.status();
    if (!st.ok()) {
      spdlog::error("capture: {}", st.ToString());
      return ExitCodeFor(st);
    }
    return kExitOk;
  });
}

}  // namespace sqlift
