// `sqlift apply --config F`: the applier daemon. It listens for the capture
// agent ([transport] listen, token from token_file), loads the snapshot when PostgreSQL holds
// no position for the source, then applies every ChangeBatch in one PostgreSQL transaction
// with its position (apply/receiver.h + apply/pg_batch_sink.h). Runs until SIGTERM or SIGINT,
// then finishes the batch in hand and stops.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <fstream>

#include "apply/pg_sink/pg_batch_sink.h"
#include "capture/pg_logical/pg_replication_admin.h"
#include "apply/pg_sink/pg_route.h"
#include "apply/pg_sink/pg_state_schema.h"
#include "apply/receiver/receiver.h"
#include "tools/verify/verify_report.h"
#include "proto/transport/frame_stream.h"
#include "tools/cli/command.h"
#include "tools/daemon/daemon_status.h"
#include "tools/daemon/http_server.h"
#include "apply/reverse/source_layout.h"
#include "common/base/backoff.h"
#include "tools/plan/sqlite_schema_compiler.h"

namespace sqlift {
namespace {

struct ApplyOptions {
  std::string on_error = "stop";
  std::string ready_file;
};

// SIGTERM and SIGINT, blocked in every thread so that only sigtimedwait sees them.
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

bool StopRequested(const sigset_t& set, std::chrono::milliseconds wait) {
  timespec ts{static_cast<time_t>(wait.count() / 1000),
              static_cast<long>((wait.count() % 1000) * 1000000)};
  int sig = sigtimedwait(&set, nullptr, &ts);
  if (sig > 0) spdlog::info("applier: signal {} received, stopping", sig);
  return sig > 0;
}

// Connects, retrying with back-off while PostgreSQL is unreachable (a restart of the target
// must not need a restart of the applier); nullptr when a stop signal came first.
Result<std::unique_ptr<PgConnection>> ConnectWithRetry(const std::string& uri,
                                                       const sigset_t& signals) {
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::milliseconds(5000));
  while (true) {
    auto conn = PgConnection::Connect(uri, std::chrono::seconds(10));
    if (conn.ok() || !conn.status().Retryable()) return conn;
    const std::chrono::milliseconds delay = backoff.Next();
    spdlog::warn("applier: {} (retrying in {} ms)", conn.status().ToString(), delay.count());
    if (StopRequested(signals, delay)) return std::unique_ptr<PgConnection>();
  }
}

// sqlift's tables and functions in PostgreSQL. Several appliers (database-per-tenant: one per
// source) may start at once: they take turns (WithSchemaLock).
Status EnsureSchemas(PgConnection& conn) {
  return WithSchemaLock(conn, [&] {
    SQLIFT_RETURN_IF_ERROR(EnsureStateSchema(conn));
    SQLIFT_RETURN_IF_ERROR(EnsureVerifyRuns(conn));
    return EnsureRouteSchema(conn);
  });
}

// After `sqlift finish` removed the source's position, the origin the applier committed under
// is of no more use: it goes with the applier (finish cannot drop it while it is in use).
void DropOriginOfFinishedSource(const Config& cfg) {
  auto conn = PgConnection::Connect(cfg.target_pg, std::chrono::seconds(5));
  if (!conn.ok()) return;
  Result<PgResult> pos = (*conn)->Query(
      "SELECT 1 FROM sqlift.positions WHERE source = $1", {cfg.source_id});
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

Status Apply(const Config& cfg, const ApplyOptions& o, const sigset_t& signals) {
  SQLIFT_RETURN_IF_ERROR(cfg.Require({"source.id", "target.pg", "transport.listen"}, "apply"));
  SQLIFT_ASSIGN_OR_RETURN(std::string token, ReadTokenFile(cfg));
  SQLIFT_ASSIGN_OR_RETURN(Endpoint listen, ParseEndpoint(cfg.transport_listen));
  SQLIFT_ASSIGN_OR_RETURN(auto conn, ConnectWithRetry(cfg.target_pg, signals));
  if (!conn) return Status::OK();
  SQLIFT_RETURN_IF_ERROR(EnsureSchemas(*conn));

  // Database-per-tenant ([source] tenant): every table gets the constant tenant column.
  SqliteSchemaCompiler compiler(cfg.mapping, "public",
                                cfg.source_tenant.empty() ? "" : TenantColumnOf(cfg));
  apply::PgBatchSinkOptions sink_options;
  sink_options.compiler = &compiler;
  sink_options.on_error = o.on_error == "skip-row" ? apply::PgBatchSinkOptions::OnError::kSkip
                                                   : apply::PgBatchSinkOptions::OnError::kStop;
  const std::string uri = cfg.target_pg;
  // Every applier connection may write past the fences (apply/pg_route.h).
  sink_options.connect = [uri]() -> Result<std::unique_ptr<PgConnection>> {
    SQLIFT_ASSIGN_OR_RETURN(auto c, PgConnection::Connect(uri, std::chrono::seconds(10)));
    SQLIFT_RETURN_IF_ERROR(MarkApplierSession(*c));
    return c;
  };
  // The sink's own connection also commits under the source's replication origin, which the
  // reverse path skips, so the applier's writes are never sent back to SQLite.
  const std::string origin = ReplicationNameFor(cfg);
  sink_options.prepare_session = [origin](PgConnection& c) {
    SQLIFT_RETURN_IF_ERROR(MarkApplierSession(c));
    return SetupOriginSession(c, origin);
  };
  sink_options.origin_session = true;
  sink_options.fences = true;
  sink_options.tenant_column = TenantColumnOf(cfg);
  sink_options.constant_tenant = cfg.source_tenant;
  apply::PgBatchSink sink(std::move(conn), std::move(sink_options));

  apply::ReceiverOptions ro;
  ro.listen_host = listen.host;
  ro.listen_port = listen.port;
  ro.source_tokens[cfg.source_id] = token;
  ro.max_frame_bytes = static_cast<size_t>(cfg.transport_max_frame_bytes);
  if (!cfg.transport_tls_cert.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(
        ro.tls, proto::MakeServerTls({cfg.transport_tls_cert, cfg.transport_tls_key, ""}));
  }
  SQLIFT_ASSIGN_OR_RETURN(auto receiver, apply::Receiver::Start(ro, &sink));
  spdlog::info("applier for source {} listening on {}:{}{}", cfg.source_id, listen.host,
               receiver->port(), ro.tls ? " (TLS)" : "");
  SQLIFT_RETURN_IF_ERROR(WriteReadyFile(o.ready_file, listen.host, receiver->port()));
  ApplierProbe probe(uri, cfg.source_id, receiver.get());
  std::unique_ptr<HttpServer> http;
  // The HTTP endpoint is for watching: a port that cannot be bound is logged (and retried
  // every minute below), never a reason to stop replicating.
  auto start_http = [&] {
    if (cfg.http_apply_listen.empty() || http) return;
    Result<Endpoint> ep = ParseEndpoint(cfg.http_apply_listen);
    auto started = ep.ok() ? HttpServer::Start(
                                 ep->host, ep->port,
                                 {{"/status", [&](const HttpQuery&) { return probe.Status(); }},
                                  {"/metrics", [&](const HttpQuery&) { return probe.Metrics(); }}})
                           : Result<std::unique_ptr<HttpServer>>(ep.status());
    if (started.ok())
      http = std::move(started).value();
    else
      spdlog::error("applier: no /status and /metrics: {}", started.status().ToString());
  };
  start_http();
  while (!StopRequested(signals, std::chrono::seconds(60))) {
    start_http();
    apply::ReceiverStats s = receiver->stats();
    spdlog::info("applier: {} sessions, {} batches, {} acks, {} snapshots", s.sessions, s.batches,
                 s.acks, s.snapshots);
  }
  if (http) http->Stop();
  sink.Interrupt();  // a verify's hold must not keep the stop waiting
  receiver->Stop();  // an apply in progress commits; its Ack is not sent (the agent resends)
  spdlog::info("applier stopped");
  return Status::OK();
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
  table.Set(apply, [&global] {
    const sigset_t signals = StopSignals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts
    Result<Config> cfg = RequireConfig(global);
    Status st = cfg.ok() ? Apply(*cfg, o, signals) : cfg.status();
    if (!st.ok()) {
      spdlog::error("apply: {}", st.ToString());
      return ExitCodeFor(st);
    }
    DropOriginOfFinishedSource(*cfg);  // its connections are closed now
    return kExitOk;
  });
}

}  // namespace sqlift
