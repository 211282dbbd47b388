// The daemons' /status and /metrics (see daemon_status.h).
#include "tools/daemon/daemon_status.h"

#include <fmt/format.h>

#include "capture/agent/route_writer.h"
#include "capture/outbox/route_table.h"
#include "capture/pg_logical/pg_change.h"
#include "common/base/text.h"
#include "common/sqlite/sqlite_db.h"
#include "state/keys.h"

namespace sqlift {
namespace {

std::string Quote(const std::string& s) {
  return JsonString(s);
}

struct AgentPositions {
  uint64_t captured = 0, logged = 0, acked = 0;
  std::string error;
};

AgentPositions ReadAgent(const std::string& sqlite_path, state::ChangeLog& log) {
  AgentPositions p;
  Result<uint64_t> captured = CapturedSeq(sqlite_path);
  Result<uint64_t> logged = log.GetPosition(state::kMetaLoggedSeq);
  Result<uint64_t> acked = log.GetPosition(state::kMetaAckedSeq);
  p.captured = captured.ok() ? *captured : 0;
  p.logged = logged.ok() ? *logged : 0;
  p.acked = acked.ok() ? *acked : 0;
  if (!captured.ok()) p.error = captured.status().ToString();
  return p;
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

std::string ReverseJson(const ReverseRunner* reverse) {
  if (!reverse) return "null";
  ReverseStats r = reverse->stats();
  return fmt::format(
      "{{\"streaming\":{},\"failed\":{},\"applied_lsn\":{},\"confirmed_lsn\":{},"
      "\"transactions\":{},\"rows\":{},\"skipped\":{},\"last_error\":{}}}",
      r.streaming, r.failed, Quote(pgchange::FormatLsn(r.applied_lsn)),
      Quote(pgchange::FormatLsn(r.confirmed_lsn)), r.transactions, r.rows, r.skipped,
      Quote(r.last_error));
}

std::string RouteJson(const RouteRow& r) {
  return fmt::format("{{\"tenant\":{},\"side\":{},\"epoch\":{},\"fenced\":{}}}", Quote(r.tenant),
                     Quote(r.side), r.epoch, r.fenced);
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

// "[{route}, ...]", or null when the state cannot be read.
std::string RoutesJson(state::ChangeLog& log) {
  Result<std::vector<RouteRow>> routes = LoggedRoutes(log);
  if (!routes.ok()) return "null";
  std::string list;
  for (const RouteRow& r : *routes)
    list += (list.empty() ? "" : ",") + RouteJson(r);
  return "[" + list + "]";
}

}  // namespace

Result<std::unique_ptr<HttpServer>> StartAgentHttp(const Config& cfg, state::ChangeLog* log,
                                                   const Shipper* shipper,
                                                   const ReverseRunner* reverse) {
  SQLIFT_ASSIGN_OR_RETURN(Endpoint ep, ParseEndpoint(cfg.http_listen));
  const Config* c = &cfg;
  return HttpServer::Start(
      ep.host, ep.port,
      {{"/status", [=](const HttpQuery&) { return AgentStatus(*c, *log, shipper, reverse); }},
       {"/metrics", [=](const HttpQuery&) { return AgentMetrics(*c, *log, shipper, reverse); }},
       {"/route", [=](const HttpQuery& q) { return AgentRoutes(*log, q); }}});
}

HttpResponse AgentRoutes(state::ChangeLog& log, const HttpQuery& query) {
  Result<std::vector<RouteRow>> routes = LoggedRoutes(log);
  if (!routes.ok()) {
    return {"application/json",
            fmt::format("{{\"error\":{}}}\n", Quote(routes.status().ToString())), 500};
  }
  auto tenant = query.find("tenant");
  if (tenant != query.end())
    return {"application/json", RouteJson(LookupRoute(*routes, tenant->second)) + "\n"};
  return {"application/json", fmt::format("{{\"routes\":{}}}\n", RoutesJson(log))};
}

HttpResponse AgentStatus(const Config& cfg, state::ChangeLog& log, const Shipper* shipper,
                         const ReverseRunner* reverse) {
  const std::string& source = cfg.source_id;
  AgentPositions p = ReadAgent(cfg.source_sqlite, log);
  std::string ship = "null";
  if (shipper) {
    ShipperStats s = shipper->stats();
    ship = fmt::format(
        "{{\"shipped_seq\":{},\"acked_seq\":{},\"unacked_bytes\":{},\"connects\":{},"
        "\"snapshotting\":{},\"snapshot_seq\":{},\"snapshots\":{},\"stopped\":{},"
        "\"last_error\":{}}}",
        s.shipped_seq, s.acked_seq, s.unacked_bytes, s.connects, s.snapshotting ? "true" : "false",
        s.snapshot_seq, s.snapshots, s.stopped ? "true" : "false", Quote(s.last_error));
  }
  return {"application/json",
          fmt::format("{{\"daemon\":\"capture\",\"source\":{},\"captured_seq\":{},"
                      "\"logged_seq\":{},\"acked_seq\":{},\"lag_seqs\":{},\"shipper\":{},"
                      "\"reverse\":{},\"routes\":{},\"error\":{}}}\n",
                      Quote(source), p.captured, p.logged, p.acked,
                      p.captured > p.acked ? p.captured - p.acked : 0, ship, ReverseJson(reverse),
                      RoutesJson(log), Quote(p.error))};
}

HttpResponse AgentMetrics(const Config& cfg, state::ChangeLog& log, const Shipper* shipper,
                          const ReverseRunner* reverse) {
  const std::string& source = cfg.source_id;
  AgentPositions p = ReadAgent(cfg.source_sqlite, log);
  const std::string l = fmt::format("source=\"{}\"", source);
  PrometheusText m;
  m.Gauge("sqlift_captured_seq", "Last seq committed in the outbox", p.captured, l);
  m.Gauge("sqlift_logged_seq", "Last seq synced to the durable log", p.logged, l);
  m.Gauge("sqlift_acked_seq", "Last seq the applier acknowledged", p.acked, l);
  m.Gauge("sqlift_lag_seqs", "Committed but not yet acknowledged seqs",
          p.captured > p.acked ? p.captured - p.acked : 0, l);
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
  std::string applied = "null";
  if (a.ok()) {
    applied = fmt::format(
        "{{\"has_position\":{},\"applied_seq\":{},\"snapshot_seq\":{},\"snapshot_rows\":{},"
        "\"updated_at\":{},\"dead_letters\":{}}}",
        a->has_position ? "true" : "false", a->applied_seq,
        a->snapshot_seq ? std::to_string(*a->snapshot_seq) : "null",
        a->snapshot_rows ? std::to_string(*a->snapshot_rows) : "null", Quote(a->updated_at),
        a->dead_letters);
  }
  return {"application/json",
          fmt::format("{{\"daemon\":\"apply\",\"source\":{},\"postgres\":{},\"error\":{},"
                      "\"sessions\":{},\"batches\":{},\"acks\":{},\"snapshots\":{},"
                      "\"connections\":{},\"closed\":{},\"last_close\":{}}}\n",
                      Quote(source_), applied, Quote(a.ok() ? "" : a.status().ToString()),
                      r.sessions, r.batches, r.acks, r.snapshots, r.connections, r.closed,
                      Quote(r.reasons.empty() ? "" : r.reasons.back()))};
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
