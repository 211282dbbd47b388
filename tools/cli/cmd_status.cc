// `sqlift status --config F [--json]`: every position, read where it lives —
// captured from the application's outbox, logged and acked from the agent's RocksDB state
// (read-only, beside a running agent), applied, snapshot and dead letters from PostgreSQL —
// the lag in seqs and in seconds, and whether each daemon answers on its [http] port.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "common/base/clock.h"
#include "proto/wire/sqlift.pb.h"
#include "state/keys.h"
#include "tools/cli/change_format.h"
#include "tools/cli/command.h"
#include "tools/daemon/daemon_status.h"
#include "tools/daemon/status_routes.h"

namespace sqlift {
namespace {

struct StatusOptions {
  bool json = false;
};

struct Report {
  std::optional<uint64_t> captured, logged, acked, applied, snapshot_seq, snapshot_rows;
  std::optional<int64_t> dead_letters;
  std::optional<double> lag_seconds;
  std::string agent_http = "not configured", applier_http = "not configured";
  std::vector<TenantRouteStatus> routes;
  ReverseStatus reverse;
  std::vector<std::string> errors;
};

// GET path on host:port with a 2 s limit; "up" or why not.
std::string Probe(const std::string& endpoint, const std::string& path) {
  if (endpoint.empty()) return "not configured";
  Result<Endpoint> ep = ParseEndpoint(endpoint);
  if (!ep.ok()) return ep.status().ToString();
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    timeval tv{2, 0};
    boost::asio::ip::tcp::resolver resolver(io);
    boost::asio::connect(socket, resolver.resolve(ep->host, std::to_string(ep->port)));
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + ep->host + "\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(req));
    char buf[64];
    size_t n = socket.read_some(boost::asio::buffer(buf));
    std::string head(buf, n);
    return head.find(" 200 ") != std::string::npos ? "up" : "answered: " + head.substr(0, 20);
  } catch (const std::exception& e) {
    return std::string("down (") + e.what() + ")";
  }
}

void ReadLog(const Config& cfg, Report* r) {
  auto log = state::OpenRocksChangeLog(
      cfg.state_dir, {.create_if_missing = false, .read_only = true, .secondary_dir = ""});
  if (!log.ok()) return r->errors.push_back("state: " + log.status().ToString());
  Result<uint64_t> logged = (*log)->GetPosition(state::kMetaLoggedSeq);
  Result<uint64_t> acked = (*log)->GetPosition(state::kMetaAckedSeq);
  if (logged.ok()) r->logged = *logged;
  if (acked.ok()) r->acked = *acked;
  // Lag in seconds: how long ago the oldest transaction not yet applied committed.
  uint64_t next = (r->applied ? *r->applied : acked.ok() ? *acked : 0) + 1;
  Status st = (*log)->Scan(next, next, [&](uint64_t, std::string_view v) {
    wire::ChangeBatch b;
    if (b.ParseFromArray(v.data(), static_cast<int>(v.size())) && b.transactions_size() > 0) {
      int64_t now = NowMicros();
      r->lag_seconds = (now - b.transactions(b.transactions_size() - 1).committed_at_us()) / 1e6;
    }
    return Status::OK();
  });
  if (!r->lag_seconds && st.ok()) r->lag_seconds = 0;
}

Report Gather(const Config& cfg) {
  Report r;
  if (!cfg.source_sqlite.empty()) {
    Result<CapturedPosition> c = ReadCapturedPosition(cfg);
    if (c.ok())
      r.captured = c->seq;
    else
      r.errors.push_back("sqlite: " + c.status().ToString());
  }
  if (!cfg.target_pg.empty()) {
    auto conn = PgConnection::Connect(cfg.target_pg, std::chrono::seconds(3));
    Result<AppliedState> a =
        conn.ok() ? ReadAppliedState(**conn, cfg.source_id) : Result<AppliedState>(conn.status());
    if (a.ok()) {
      if (a->has_position) r.applied = a->applied_seq;
      r.snapshot_seq = a->snapshot_seq, r.snapshot_rows = a->snapshot_rows;
      r.dead_letters = a->dead_letters;
    } else {
      r.errors.push_back("postgres: " + a.status().ToString());
    }
  }
  if (!cfg.state_dir.empty()) ReadLog(cfg, &r);
  GatherRoutes(cfg, &r.routes, &r.reverse, &r.errors);
  r.agent_http = Probe(cfg.http_listen, "/status");
  r.applier_http = Probe(cfg.http_apply_listen, "/status");
  return r;
}

void PrintJson(const Config& cfg, const Report& r, const std::optional<uint64_t>& lag) {
  Json doc = {{"source", cfg.source_id},
              {"captured_seq", JsonOrNull(r.captured)},
              {"logged_seq", JsonOrNull(r.logged)},
              {"acked_seq", JsonOrNull(r.acked)},
              {"applied_seq", JsonOrNull(r.applied)},
              {"lag_seqs", JsonOrNull(lag)},
              {"lag_seconds", r.lag_seconds ? JsonRounded(*r.lag_seconds, 3) : Json(nullptr)},
              {"snapshot_seq", JsonOrNull(r.snapshot_seq)},
              {"snapshot_rows", JsonOrNull(r.snapshot_rows)},
              {"dead_letters", JsonOrNull(r.dead_letters)},
              {"agent", r.agent_http},
              {"applier", r.applier_http}};
  AddRoutesStatusJson(r.routes, r.reverse, &doc);
  doc["errors"] = r.errors;
  fmt::print("{}\n", DumpJson(doc));
}

void Print(const Config& cfg, const Report& r, bool json) {
  std::optional<uint64_t> lag;
  if (r.captured && r.applied) lag = *r.captured > *r.applied ? *r.captured - *r.applied : 0;
  if (json) return PrintJson(cfg, r, lag);
  auto show = [](const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : "-"; };
  fmt::print("source {}\n", cfg.source_id);
  fmt::print("  captured seq   {:>12}   (outbox high-water mark in SQLite)\n", show(r.captured));
  fmt::print("  logged seq     {:>12}   (synced to the agent's durable log)\n", show(r.logged));
  fmt::print("  acked seq      {:>12}   (acknowledged by the applier)\n", show(r.acked));
  fmt::print("  applied seq    {:>12}   (committed in PostgreSQL)\n", show(r.applied));
  fmt::print("  lag            {:>12} seqs, {} s\n", show(lag),
             r.lag_seconds ? fmt::format("{:.3f}", *r.lag_seconds) : "-");
  fmt::print("  snapshot       {:>12}   (S; {} rows)\n", show(r.snapshot_seq),
             show(r.snapshot_rows));
  fmt::print("  dead letters   {:>12}\n", r.dead_letters ? std::to_string(*r.dead_letters) : "-");
  fmt::print("  capture agent  {}\n  applier        {}\n", r.agent_http, r.applier_http);
  fmt::print("{}", RoutesStatusText(r.routes, r.reverse));
  for (const std::string& e : r.errors)
    fmt::print("  error: {}\n", e);
}

}  // namespace

void AddStatusCommand(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  static StatusOptions o;
  CLI::App* status = root.add_subcommand(
      "status",
      "Print every position (captured, logged, acked, applied), lag in seqs and seconds, the "
      "snapshot, dead letters, and whether each daemon answers on its [http] port");
  status->add_flag("--json", o.json, "Print one JSON document");
  table.Set(status, [&global] {
    Result<Config> cfg = RequireConfig(global);
    if (!cfg.ok()) {
      spdlog::error("status: {}", cfg.status().ToString());
      return kExitUsage;
    }
    Report r = Gather(*cfg);
    Print(*cfg, r, o.json);
    return r.errors.empty() ? kExitOk : kExitFailure;
  });
}

}  // namespace sqlift
