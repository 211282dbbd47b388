// `sqlift apply --config F`: the applier daemon. It listens for the capture
// agent ([transport] listen, token from token_file), loads the snapshot when PostgreSQL holds
// no position for the source, then applies every ChangeBatch in one PostgreSQL transaction
// with its position (apply/receiver.h + apply/pg_batch_sink.h). Runs in the daemon shell
// until SIGTERM or SIGINT, then finishes the batch in hand and stops.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>

#include "apply/pg_sink/pg_batch_sink.h"
#include "apply/pg_sink/pg_route.h"
#include "apply/pg_sink/pg_state_schema.h"
#include "apply/receiver/receiver.h"
#include "apply/reverse/source_layout.h"
#include "apply/translate/existing_compiler.h"
#include "capture/pg_logical/pg_replication_admin.h"
#include "proto/transport/frame_stream.h"
#include "tools/cli/command.h"
#include "tools/daemon/daemon_shell.h"
#include "tools/daemon/daemon_status.h"
#include "tools/plan/sqlite_schema_compiler.h"
#include "tools/verify/verify_report.h"

namespace sqlift {
namespace {

struct ApplyOptions {
  std::string on_error = "stop";
  std::string ready_file;
};

// sqlift's tables and functions in PostgreSQL, and fences that let this applier's login
// through (an older sqlift's are re-installed). Several appliers (database-per-tenant: one per
// source) may start at once: they take turns (WithSchemaLock).
Status EnsureSchemas(PgConnection& conn) {
  return WithSchemaLock(conn, [&] {
    SQLIFT_RETURN_IF_ERROR(EnsureStateSchema(conn));
    SQLIFT_RETURN_IF_ERROR(EnsureVerifyRuns(conn));
    SQLIFT_RETURN_IF_ERROR(EnsureRouteSchema(conn));
    return RefreshFences(conn);
  });
}

// After `sqlift finish` removed the source's position, the origin the applier committed under
// is of no more use: it goes with the applier (finish cannot drop it while it is in use).
void DropOriginOfFinishedSource(const Config& cfg) {
  auto conn = PgConnection::Connect(cfg.target_pg, std::chrono::seconds(5));
  if (!conn.ok()) return;
  Result<PgResult> pos =
      (*conn)->Query("SELECT 1 FROM sqlift.positions WHERE source = $1", {cfg.source_id});
  if (!pos.ok() || pos->rows() > 0) return;
  Status st = DropOrigin(**conn, ReplicationNameFor(cfg));
  if (!st.ok()) spdlog::warn("applier: {}", st.ToString());
}

Status WriteReadyFile(const std::string& path, const std::string& host, uint16_t port) {
  if (path.empty()) return Status::OK();
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << host << ":" << port << "\n";
    if (!out.flush()) return Status::IOError("write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError("rename " + tmp);
  return Status::OK();
}

// The applier as the daemon shell runs it (tools/daemon/daemon_shell.h). Start connects to
// PostgreSQL and sets up sqlift's schema (retried with back-off while the server is
// unreachable or restarting: a restart of the target must not need a restart of the applier),
// then starts the receiver, whose threads do the work; Run
// logs their progress every minute until the stop; Shutdown lets the batch in hand commit.
class ApplierDaemon : public DaemonWork {
 public:
  ApplierDaemon(const Config& cfg, const ApplyOptions& o) : cfg_(cfg), o_(o) {}

  Status Start() override {
    SQLIFT_RETURN_IF_ERROR(cfg_.Require({"source.id", "target.pg", "transport.listen"}, "apply"));
    // An existing schema names its tenant with [target.constants], not sqlift's own column.
    if (ExistingSchemaMode(&cfg_) && !cfg_.source_tenant.empty()) {
      return Status::FailedPrecondition(
          "[target] schema_mode = \"existing\" takes the source's tenant from "
          "[target.constants], not [source] tenant");
    }
    SQLIFT_ASSIGN_OR_RETURN(std::string token, ReadTokenFile(cfg_));
    SQLIFT_ASSIGN_OR_RETURN(Endpoint listen, ParseEndpoint(cfg_.transport_listen));
    // PostgreSQL unreachable, or lost while sqlift's schema is set up (a restart of the target
    // during the applier's start), is waited out like an unreachable server.
    connecting_ = true;
    SQLIFT_ASSIGN_OR_RETURN(auto conn,
                            PgConnection::Connect(cfg_.target_pg, std::chrono::seconds(10)));
    SQLIFT_RETURN_IF_ERROR(EnsureSchemas(*conn));
    connecting_ = false;
    sink_ = std::make_unique<apply::PgBatchSink>(std::move(conn), SinkOptions());
    SQLIFT_ASSIGN_OR_RETURN(apply::ReceiverOptions ro, ReceiverOptionsFor(listen, token));
    SQLIFT_ASSIGN_OR_RETURN(receiver_, apply::Receiver::Start(ro, sink_.get()));
    spdlog::info("applier for source {} listening on {}:{}{}", cfg_.source_id, listen.host,
                 receiver_->port(), ro.tls ? " (TLS)" : "");
    SQLIFT_RETURN_IF_ERROR(WriteReadyFile(o_.ready_file, listen.host, receiver_->port()));
    probe_ = std::make_unique<ApplierProbe>(cfg_.target_pg, cfg_.source_id, receiver_.get());
    return Status::OK();
  }
  // Only PostgreSQL being unreachable (or lost during the schema set-up) is waited out;
  // anything after that fails.
  bool RetryStart(const Status& st) const override { return connecting_ && st.Retryable(); }
  std::map<std::string, HttpServer::Handler> Routes() override {
    return ApplierHttpRoutes(probe_.get());
  }
  Status Run(const StopFlag& stop) override {
    while (!stop.WaitFor(std::chrono::seconds(60))) {
      apply::ReceiverStats s = receiver_->stats();
      spdlog::info("applier: {} sessions, {} batches, {} acks, {} snapshots", s.sessions, s.batches,
                   s.acks, s.snapshots);
    }
    return Status::OK();
  }
  void Shutdown() override {
    sink_->Interrupt();  // a verify's hold must not keep the stop waiting
    receiver_->Stop();   // an apply in progress commits; its Ack is not sent (the agent resends)
    spdlog::info("applier stopped");
  }

 private:
  apply::PgBatchSinkOptions SinkOptions();
  Result<apply::ReceiverOptions> ReceiverOptionsFor(const Endpoint& listen,
                                                    const std::string& token) const;

  const Config& cfg_;
  const ApplyOptions& o_;
  bool connecting_ = false;
  // Database-per-tenant ([source] tenant): every table gets the constant tenant column.
  std::unique_ptr<SqliteSchemaCompiler> compiler_;
  // [target] schema_mode = "existing": compiler_'s plans matched to the application's tables.
  std::unique_ptr<ExistingSchemaCompiler> existing_;
  std::unique_ptr<apply::PgBatchSink> sink_;
  std::unique_ptr<apply::Receiver> receiver_;
  std::unique_ptr<ApplierProbe> probe_;
};

apply::PgBatchSinkOptions ApplierDaemon::SinkOptions() {
  compiler_ = std::make_unique<SqliteSchemaCompiler>(
      cfg_.mapping, "public", cfg_.source_tenant.empty() ? "" : TenantColumnOf(cfg_));
  apply::PgBatchSinkOptions sink_options;
  sink_options.compiler = compiler_.get();
  if (ExistingSchemaMode(&cfg_)) {
    const std::string target = cfg_.target_pg;
    existing_ = std::make_unique<ExistingSchemaCompiler>(
        compiler_.get(),
        [target] { return PgConnection::Connect(target, std::chrono::seconds(10)); },
        sink_options.schema, TargetConstantsOf(cfg_));
    sink_options.compiler = existing_.get();
    sink_options.existing_schema = true;
  }
  sink_options.on_error = o_.on_error == "skip-row" ? apply::PgBatchSinkOptions::OnError::kSkip
                                                    : apply::PgBatchSinkOptions::OnError::kStop;
  const std::string uri = cfg_.target_pg;
  // Every applier connection may write past the fences: it takes its login's role, which the
  // fences name (apply/pg_sink/pg_route.h).
  sink_options.connect = [uri]() -> Result<std::unique_ptr<PgConnection>> {
    SQLIFT_ASSIGN_OR_RETURN(auto c, PgConnection::Connect(uri, std::chrono::seconds(10)));
    SQLIFT_RETURN_IF_ERROR(MarkApplierSession(*c));
    return c;
  };
  // The sink's own connection also commits under the source's replication origin, which the
  // reverse path skips, so the applier's writes are never sent back to SQLite.
  const std::string origin = ReplicationNameFor(cfg_);
  sink_options.prepare_session = [origin](PgConnection& c) {
    SQLIFT_RETURN_IF_ERROR(MarkApplierSession(c));
    return SetupOriginSession(c, origin);
  };
  sink_options.origin_session = true;
  sink_options.fences = true;
  sink_options.tenant_column = TenantColumnOf(cfg_);
  sink_options.constant_tenant = cfg_.source_tenant;
  return sink_options;
}

Result<apply::ReceiverOptions> ApplierDaemon::ReceiverOptionsFor(const Endpoint& listen,
                                                                 const std::string& token) const {
  apply::ReceiverOptions ro;
  ro.listen_host = listen.host;
  ro.listen_port = listen.port;
  ro.source_tokens[cfg_.source_id] = token;
  ro.max_frame_bytes = static_cast<size_t>(cfg_.transport_max_frame_bytes);
  if (!cfg_.transport_tls_cert.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(
        ro.tls, proto::MakeServerTls({cfg_.transport_tls_cert, cfg_.transport_tls_key, ""}));
  }
  return ro;
}

}  // namespace

void AddApplyCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  static ApplyOptions o;  // lives as long as the CLI tree, which main() owns
  CLI::App* apply = root.add_subcommand(
      "apply",
      "Run the applier: listen for the capture agent, load the snapshot when PostgreSQL has "
      "no position for the source, then apply every change exactly once, in commit order");
  apply
      ->add_option("--on-error", o.on_error,
                   "A value PostgreSQL refuses: stop the stream, or skip-row (dead-lettered "
                   "either way, in sqlift.dead_letter)")
      ->check(CLI::IsMember({"stop", "skip-row"}))
      ->capture_default_str();
  apply->footer(
      "Needs --config with [source] id, [target] pg, [transport] listen and token_file "
      "(and tls_cert + tls_key for TLS). With [http] apply_listen it serves GET /status (JSON) "
      "and /metrics (Prometheus). Positions, the source's schema and dead letters live "
      "in PostgreSQL schema `sqlift`. Stops cleanly on SIGTERM or SIGINT.");
  apply->add_option("--ready-file", o.ready_file,
                    "Write host:port here once listening (for scripts and tests)");
  table.Set(apply, [&global]() -> int {
    // The daemon takes SIGTERM and SIGINT before anything else: one that comes while it
    // starts (or waits for PostgreSQL) stops it cleanly.
    DaemonShell shell(DaemonShellOptions{"apply"});
    Result<Config> cfg = RequireConfig(global);
    if (!cfg.ok()) {
      spdlog::error("apply: {}", cfg.status().ToString());
      return ExitCodeFor(cfg.status());
    }
    int code = kExitOk;
    {
      ApplierDaemon daemon(*cfg, o);
      code = shell.Run(daemon, cfg->http_apply_listen);
    }
    if (code == kExitOk) DropOriginOfFinishedSource(*cfg);  // its connections are closed now
    return code;
  });
}

}  // namespace sqlift
