// The daemons' /status and /metrics (see daemon_status.h).
#include "tools/daemon/daemon_status.h"

#include <fmt/format.h>

#include <sstream>

#include "capture/agent/route_writer.h"
#include "capture/agent/wal_agent.h"
#include "capture/outbox/outbox.h"
#include "capture/outbox/route_table.h"
#include "capture/pg_logical/pg_change.h"
#include "common/base/clock.h"
#include "common/json/json.h"
#include "common/sqlite/sqlite_db.h"
#include "state/keys.h"

namespace sqlift {
namespace {

struct AgentPositions {
  CapturedPosition captured;
  uint64_t logged = 0, acked = 0;
  // Capture mode wal: gaps repaired by difference (capture/agent/wal_agent.h).
  uint64_t repairs = 0, repair_rows = 0;
  int64_t last_repair_us = 0;
  std::string error;
};

AgentPositions ReadAgent(const Config& cfg, state::ChangeLog& log) {
  AgentPositions p;
  Result<CapturedPosition> captured = ReadCapturedPosition(cfg);
  Result<uint64_t> logged = log.GetPosition(state::kMetaLoggedSeq);
  Result<uint64_t> acked = log.GetPosition(state::kMetaAckedSeq);
  if (captured.ok()) p.captured = std::move(captured).value();
  p.logged = logged.ok() ? *logged : 0;
  p.acked = acked.ok() ? *acked : 0;
  if (Result<std::string> r = log.GetMeta(kMetaWalRepairs); r.ok()) {
    std::istringstream in(*r);
    in >> p.repairs >> p.repair_rows >> p.last_repair_us;
  }
  if (!captured.ok()) p.error = captured.status().ToString();
  return p;
}

uint64_t Lag(const AgentPositions& p) {
  return p.captured.seq > p.acked ? p.captured.seq - p.acked : 0;
}

// How far the agent has decoded the WAL (wal capture mode), or null.
Json WalJson(const std::optional<wal::WalProgress>& w) {
  if (!w) return nullptr;
  return {{"generation", fmt::format("{}/{}", w->salt1, w->salt2)},
          {"salt1", w->salt1},
          {"salt2", w->salt2},
          {"frames", w->frames},
          {"logged_seq", w->logged_seq},
          {"written_at", FormatMicrosUtc(w->written_at_us)}};
}

}  // namespace

Result<uint64_t> CapturedSeq(const std::string& sqlite_path) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(sqlite_path, SqliteDb::Mode::kReadOnly));
  Result<int64_t> seq =
      db->QueryInt64("SELECT seq FROM sqlite_sequence WHERE name = '_sqlift_outbox'");
  if (seq.status().code() == Status::Code::kNotFound) return uint64_t{0};
  if (!seq.ok()) return seq.status();
  return static_cast<uint64_t>(*seq);
}

Result<CapturedPosition> ReadCapturedPosition(const Config& cfg) {
  CapturedPosition p;
  {
    SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(cfg.source_sqlite, SqliteDb::Mode::kReadOnly));
    SQLIFT_ASSIGN_OR_RETURN(p.mode, outbox::ReadCaptureMode(db->handle()));
  }
  if (p.mode != outbox::kCaptureModeWal) {
    SQLIFT_ASSIGN_OR_RETURN(p.seq, CapturedSeq(cfg.source_sqlite));
    return p;
  }
  if (cfg.state_dir.empty()) {
    return Status::FailedPrecondition(
        fmt::format("{} is captured in wal mode: its captured position is in the capture "
                    "agent's [state] dir, which is not set",
                    cfg.source_sqlite));
  }
  SQLIFT_ASSIGN_OR_RETURN(p.wal, wal::ReadWalProgress(wal::WalProgressPath(cfg.state_dir)));
  if (p.wal) p.seq = p.wal->logged_seq;
  return p;
}

Result<AppliedState> ReadAppliedState(PgConnection& conn, const std::string& source) {
  AppliedState s;
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r, conn.Query("SELECT applied_seq, snapshot_seq, snapshot_rows, updated_at::text "
                             "FROM sqlift.positions WHERE source = $1",
                             {source}));
  if (r.rows() > 0) {
    s.has_position = true;
    SQLIFT_ASSIGN_OR_RETURN(s.applied_seq, r.GetUint64(0, 0));
    if (!r.is_null(0, 1)) {
      SQLIFT_ASSIGN_OR_RETURN(s.snapshot_seq, r.GetUint64(0, 1));
    }
    if (!r.is_null(0, 2)) {
      SQLIFT_ASSIGN_OR_RETURN(s.snapshot_rows, r.GetUint64(0, 2));
    }
    s.updated_at = std::string(r.get(0, 3));
  }
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult d,
      conn.Query("SELECT count(*) FROM sqlift.dead_letter WHERE source = $1", {source}));
  SQLIFT_ASSIGN_OR_RETURN(s.dead_letters, d.GetInt64(0, 0));
  return s;
}

namespace {

Json ReverseJson(const ReverseRunner* reverse) {
  if (!reverse) return nullptr;
  ReverseStats r = reverse->stats();
  return {{"streaming", r.streaming},
          {"failed", r.failed},
          {"applied_lsn", pgchange::FormatLsn(r.applied_lsn)},
          {"confirmed_lsn", pgchange::FormatLsn(r.confirmed_lsn)},
          {"transactions", r.transactions},
          {"rows", r.rows},
          {"skipped", r.skipped},
          {"last_error", r.last_error}};
}

Json RouteJson(const RouteRow& r) {
  return {{"tenant", r.tenant}, {"side", r.side}, {"epoch", r.epoch}, {"fenced", r.fenced}};
}

Result<std::vector<RouteRow>> LoggedRoutes(state::ChangeLog& log) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<state::RouteRecord> stored, log.Routes());
  std::vector<RouteRow> out;
  for (const state::RouteRecord& rec : stored) {
    wire::Route w;
    if (!w.ParseFromString(rec.value)) return Status::Corruption("route of " + rec.tenant);
    SQLIFT_ASSIGN_OR_RETURN(RouteRow row, FromWire(w));
    out.push_back(std::move(row));
  }
  return out;
}

// [{route}, ...], or null when the state cannot be read.
Json RoutesJson(state::ChangeLog& log) {
  Result<std::vector<RouteRow>> routes = LoggedRoutes(log);
  if (!routes.ok()) return nullptr;
  Json list = Json::array();
  for (const RouteRow& r : *routes)
    list.push_back(RouteJson(r));
  return list;
}

Json ShipperJson(const Shipper* shipper) {
  if (!shipper) return nullptr;
  ShipperStats s = shipper->stats();
  return {{"shipped_seq", s.shipped_seq},     {"acked_seq", s.acked_seq},
          {"unacked_bytes", s.unacked_bytes}, {"connects", s.connects},
          {"snapshotting", s.snapshotting},   {"snapshot_seq", s.snapshot_seq},
          {"snapshots", s.snapshots},         {"stopped", s.stopped},
          {"last_error", s.last_error}};
}

HttpResponse JsonResponse(const Json& body, int code = 200) {
  return {"application/json", DumpJson(body) + "\n", code};
}

}  // namespace

std::map<std::string, HttpServer::Handler> AgentHttpRoutes(const Config& cfg, state::ChangeLog* log,
                                                           const Shipper* shipper,
                                                           const ReverseRunner* reverse) {
  const Config* c = &cfg;
  return {{"/status", [=](const HttpQuery&) { return AgentStatus(*c, *log, shipper, reverse); }},
          {"/metrics", [=](const HttpQuery&) { return AgentMetrics(*c, *log, shipper, reverse); }},
          {"/route", [=](const HttpQuery& q) { return AgentRoutes(*log, q); }}};
}

std::map<std::string, HttpServer::Handler> ApplierHttpRoutes(ApplierProbe* probe) {
  return {{"/status", [probe](const HttpQuery&) { return probe->Status(); }},
          {"/metrics", [probe](const HttpQuery&) { return probe->Metrics(); }}};
}

HttpResponse AgentRoutes(state::ChangeLog& log, const HttpQuery& query) {
  Result<std::vector<RouteRow>> routes = LoggedRoutes(log);
  if (!routes.ok()) return JsonResponse({{"error", routes.status().ToString()}}, 500);
  auto tenant = query.find("tenant");
  if (tenant != query.end()) return JsonResponse(RouteJson(LookupRoute(*routes, tenant->second)));
  return JsonResponse({{"routes", RoutesJson(log)}});
}

HttpResponse AgentStatus(const Config& cfg, state::ChangeLog& log, const Shipper* shipper,
                         const ReverseRunner* reverse) {
  AgentPositions p = ReadAgent(cfg, log);
  return JsonResponse(
      {{"daemon", "capture"},
       {"source", cfg.source_id},
       {"capture_mode", p.captured.mode},
       {"captured_seq", p.captured.seq},
       {"logged_seq", p.logged},
       {"acked_seq", p.acked},
       {"lag_seqs", Lag(p)},
       {"wal", WalJson(p.captured.wal)},
       {"gap_repairs",
        {{"count", p.repairs}, {"rows", p.repair_rows}, {"last_at_us", p.last_repair_us}}},
       {"shipper", ShipperJson(shipper)},
       {"reverse", ReverseJson(reverse)},
       {"routes", RoutesJson(log)},
       {"error", p.error}});
}

HttpResponse AgentMetrics(const Config& cfg, state::ChangeLog& log, const Shipper* shipper,
                          const ReverseRunner* reverse) {
  const std::string& source = cfg.source_id;
  AgentPositions p = ReadAgent(cfg, log);
  const std::string l = fmt::format("source=\"{}\"", source);
  PrometheusText m;
  m.Gauge("sqlift_captured_seq",
          "Last seq committed in the outbox (wal capture mode: logged up to the decoded WAL frame)",
          p.captured.seq, l);
  m.Gauge("sqlift_logged_seq", "Last seq synced to the durable log", p.logged, l);
  m.Gauge("sqlift_acked_seq", "Last seq the applier acknowledged", p.acked, l);
  m.Gauge("sqlift_lag_seqs", "Committed but not yet acknowledged seqs", Lag(p), l);
  if (const std::optional<wal::WalProgress>& w = p.captured.wal) {
    m.Gauge("sqlift_wal_frames_decoded", "WAL frames the capture agent has decoded and logged",
            w->frames, l);
    m.Counter("sqlift_wal_gap_repairs_total",
              "Gaps in the WAL (transactions gone while the agent was stopped) repaired by "
              "difference",
              p.repairs, l);
    m.Counter("sqlift_wal_gap_repair_rows_total", "Row changes those repairs carried",
              p.repair_rows, l);
  }
  if (shipper) {
    ShipperStats s = shipper->stats();
    m.Gauge("sqlift_shipped_seq", "Last seq written to the applier connection", s.shipped_seq, l);
    m.Gauge("sqlift_unacked_bytes", "Bytes shipped and not yet acknowledged", s.unacked_bytes, l);
    m.Counter("sqlift_shipper_connects_total", "Handshakes the applier accepted", s.connects, l);
    m.Counter("sqlift_shipper_batches_total", "Change batches shipped", s.batches, l);
    m.Counter("sqlift_snapshot_chunks_total", "Snapshot chunks shipped", s.snapshot_chunks, l);
  }
  if (reverse) {
    ReverseStats r = reverse->stats();
    m.Gauge("sqlift_reverse_streaming", "Whether reverse replication streams", r.streaming, l);
    m.Gauge("sqlift_reverse_failed", "Whether reverse replication stopped on a refusal", r.failed,
            l);
    m.Counter("sqlift_reverse_transactions_total", "PostgreSQL transactions applied to SQLite",
              r.transactions, l);
    m.Counter("sqlift_reverse_rows_total", "Rows applied to SQLite", r.rows, l);
  }
  return {"text/plain; version=0.0.4", m.text()};
}

Result<AppliedState> ApplierProbe::Read() {
  std::lock_guard lock(mu_);
  if (!conn_ || PQstatus(conn_->raw()) != CONNECTION_OK) {
    SQLIFT_ASSIGN_OR_RETURN(conn_, PgConnection::Connect(uri_, std::chrono::seconds(2)));
  }
  return ReadAppliedState(*conn_, source_);
}

HttpResponse ApplierProbe::Status() {
  Result<AppliedState> a = Read();
  apply::ReceiverStats r = receiver_->stats();
  Json applied = nullptr;
  if (a.ok()) {
    applied = {{"has_position", a->has_position},
               {"applied_seq", a->applied_seq},
               {"snapshot_seq", JsonOrNull(a->snapshot_seq)},
               {"snapshot_rows", JsonOrNull(a->snapshot_rows)},
               {"updated_at", a->updated_at},
               {"dead_letters", a->dead_letters}};
  }
  return JsonResponse({{"daemon", "apply"},
                       {"source", source_},
                       {"postgres", std::move(applied)},
                       {"error", a.ok() ? "" : a.status().ToString()},
                       {"sessions", r.sessions},
                       {"batches", r.batches},
                       {"acks", r.acks},
                       {"snapshots", r.snapshots},
                       {"connections", r.connections},
                       {"closed", r.closed},
                       {"last_close", r.reasons.empty() ? "" : r.reasons.back()}});
}

HttpResponse ApplierProbe::Metrics() {
  Result<AppliedState> a = Read();
  apply::ReceiverStats r = receiver_->stats();
  const std::string l = fmt::format("source=\"{}\"", source_);
  PrometheusText m;
  m.Gauge("sqlift_postgres_up", "Whether the applier's status connection reaches PostgreSQL",
          a.ok() ? 1 : 0, l);
  if (a.ok()) {
    m.Gauge("sqlift_applied_seq", "Last seq committed in PostgreSQL", a->applied_seq, l);
    m.Gauge("sqlift_dead_letters", "Rows in sqlift.dead_letter", a->dead_letters, l);
  }
  m.Counter("sqlift_applier_batches_total", "Change batches received", r.batches, l);
  m.Counter("sqlift_applier_acks_total", "Acks sent (after COMMIT)", r.acks, l);
  m.Counter("sqlift_applier_sessions_total", "Agent sessions accepted", r.sessions, l);
  m.Counter("sqlift_applier_refused_total", "Handshakes refused", r.refused, l);
  m.Counter("sqlift_snapshots_total", "Snapshots committed", r.snapshots, l);
  return {"text/plain; version=0.0.4", m.text()};
}

}  // namespace sqlift
