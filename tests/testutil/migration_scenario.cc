// MigrationScenario: a migration driven through the real sqlift processes (see header).
#include "tests/testutil/migration_scenario.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "capture/snapshot/wal_barrier.h"
#include "capture/wal/wal_progress.h"
#include "common/pg/pg_connection.h"
#include "common/process/files.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_statement.h"
#include "tests/testutil/table_compare.h"
#include "tests/testutil/wait_for.h"
#include "tools/sandbox/pg_cluster.h"

namespace sqlift::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Seed rows, in the value forms both sides spell alike (see the header).
const char kCommerceSeed[] = R"(
CREATE TABLE writer_counters (writer TEXT PRIMARY KEY, tenant_id TEXT NOT NULL,
                              n INTEGER NOT NULL);
INSERT INTO tenants (tenant_id, name, api_key_hash, created_at)
  VALUES ('acme', 'Acme Corp', 'h1', '2024-01-01 10:00:00'),
         ('globex', 'Globex', 'h2', '2024-01-02 10:00:00'),
         ('initech', 'Initech', 'h3', '2024-01-03 10:00:00');
INSERT INTO customers (customer_id, tenant_id, name, email, metadata, created_at)
  WITH RECURSIVE i(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM i WHERE v < 5)
  SELECT 'c-' || t.tenant_id || '-' || v, t.tenant_id, 'Customer ' || v,
         'c' || v || '@' || t.tenant_id || '.example',
         '{"tier": "' || (CASE v % 2 WHEN 0 THEN 'gold' ELSE 'free' END) || '", "visits": ' || v || '}',
         datetime(1704067200 + v * 3600, 'unixepoch')
  FROM i, tenants t;
INSERT INTO products (product_id, tenant_id, sku, name, price, active, created_at)
  WITH RECURSIVE i(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM i WHERE v < 40)
  SELECT 'p-' || t.tenant_id || '-' || v, t.tenant_id, 'seed-' || v, 'Seed product ' || v,
         (100 + (v * 53) % 9900) / 100.0, v % 3 <> 0, datetime(1704067200 + v * 60, 'unixepoch')
  FROM i, tenants t;
INSERT INTO orders (order_id, tenant_id, external_order_id, customer_id, total_amount, currency,
                    order_status, order_date, raw_payload, created_at)
  WITH RECURSIVE i(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM i WHERE v < 20)
  SELECT 'o-' || t.tenant_id || '-' || v, t.tenant_id, 'seed-' || v,
         'c-' || t.tenant_id || '-' || (v % 5 + 1), (200 + (v * 53) % 9900) / 100.0,
         (CASE v % 4 WHEN 0 THEN 'USD' WHEN 1 THEN 'EUR' WHEN 2 THEN 'GBP' ELSE 'CAD' END),
         'paid', datetime(1706745600 + v * 86400, 'unixepoch'), '{"src": "seed"}',
         datetime(1706745600 + v * 86400, 'unixepoch')
  FROM i, tenants t;
INSERT INTO order_items (order_id, line_no, tenant_id, product_id, quantity, unit_price)
  SELECT o.order_id, l.n, o.tenant_id, 'p-' || o.tenant_id || '-' || l.n, l.n, 1.25 * l.n
  FROM orders o, (SELECT 1 AS n UNION ALL SELECT 2) l;
INSERT INTO writer_counters (writer, tenant_id, n)
  SELECT t.tenant_id || '-' || w.v, t.tenant_id, 0
  FROM tenants t, (SELECT 1 AS v UNION ALL SELECT 2 UNION ALL SELECT 3) w;
)";

const char kBookingSeed[] = R"(
CREATE TABLE writer_counters (writer TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT INTO users (email, password, name, role, created_at, updated_at)
  VALUES ('ann@example.com', 'x', 'Ann', 'admin', '2024-01-01 09:00:00', '2024-01-01 09:00:00'),
         ('bob@example.com', 'y', 'Bob', 'user', '2024-01-02 09:00:00', '2024-01-02 09:00:00');
INSERT INTO rooms (name, capacity, category, description, price_per_hour, is_active,
                   created_at, updated_at)
  WITH RECURSIVE i(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM i WHERE v < 5)
  SELECT 'Room ' || v, 2 + v, 'meeting', NULL, (1000 + v * 250) / 100.0, v <> 5,
         '2024-01-01 08:00:00', '2024-01-01 08:00:00' FROM i;
INSERT INTO bookings (room_id, customer_name, customer_email, start_time, end_time, status,
                      total_price, created_at, updated_at)
  WITH RECURSIVE i(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM i WHERE v < 200)
  SELECT v % 5 + 1, 'seed-' || v, 'seed' || v || '@example.com',
         datetime(1704096000 + v * 7200, 'unixepoch'), datetime(1704099600 + v * 7200, 'unixepoch'),
         'confirmed', (500 + (v * 53) % 9900) / 100.0,
         datetime(1704067200 + v, 'unixepoch'), datetime(1704067200 + v, 'unixepoch') FROM i;
INSERT INTO business_hours (day_of_week, open_time, close_time, is_closed, created_at, updated_at)
  WITH RECURSIVE i(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM i WHERE v < 6)
  SELECT v, '08:00', '18:00', v IN (0, 6), '2024-01-01 08:00:00', '2024-01-01 08:00:00' FROM i;
INSERT INTO settings (key, value, created_at, updated_at)
  VALUES ('currency', 'EUR', '2024-01-01 08:00:00', '2024-01-01 08:00:00'),
         ('slot_minutes', '30', '2024-01-01 08:00:00', '2024-01-01 08:00:00');
INSERT INTO writer_counters VALUES ('booker-1', 0), ('booker-2', 0), ('booker-3', 0);
)";

Result<uint64_t> PgUint(PgConnection& conn, const std::string& sql,
                        const std::vector<std::optional<std::string>>& params = {}) {
  SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn.Query(sql, params));
  if (r.rows() == 0 || r.is_null(0, 0)) return Status::NotFound("no row: " + sql);
  return std::stoull(std::string(r.get(0, 0)));
}

}  // namespace

std::string JsonField(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  size_t i = at + needle.size(), end = i;
  if (i < json.size() && json[i] == '"') {
    for (end = i + 1; end < json.size() && json[end] != '"'; ++end) {
      if (json[end] == '\\') ++end;
    }
    return json.substr(i, end + 1 - i);
  }
  while (end < json.size() && json[end] != ',' && json[end] != '}')
    ++end;
  return json.substr(i, end - i);
}

Result<std::unique_ptr<MigrationScenario>> MigrationScenario::Create(
    PgSandbox& pg, const std::string& name, MigrationLayout layout, bool write_before_snapshot,
    const std::string& capture_mode) {
  std::unique_ptr<MigrationScenario> s(new MigrationScenario(pg, layout));
  s->source_ = name;
  s->capture_mode_ = capture_mode;
  s->dir_ = fs::temp_directory_path() / fmt::format("sqlift_{}_{}", name, ::getpid());
  fs::remove_all(s->dir_);
  fs::create_directories(s->dir_);
  SQLIFT_ASSIGN_OR_RETURN(s->uri_, pg.CreateDatabase(name));
  for (uint16_t* port : {&s->port_, &s->http_port_, &s->apply_http_port_}) {
    SQLIFT_ASSIGN_OR_RETURN(int p, pgcluster::PickFreePort());
    *port = static_cast<uint16_t>(p);
  }
  SQLIFT_RETURN_IF_ERROR(s->Layout());
  SQLIFT_ASSIGN_OR_RETURN(process::Output init, s->Sqlift({"init"}));
  if (init.exit_code != 0) return Status::Internal("sqlift init failed: " + init.err);
  if (write_before_snapshot) {
    const std::string sql = layout == MigrationLayout::kCommerce
                                ? "INSERT INTO writer_counters VALUES ('acme-0', 'acme', 0)"
                                : "INSERT INTO writer_counters VALUES ('booker-0', 0)";
    SQLIFT_RETURN_IF_ERROR(capture_mode == "wal" ? s->PlainWrite(sql) : s->RecordedWrite(sql));
  }
  return s;
}

std::unique_ptr<MigrationScenario> MigrationScenario::Adopt(PgSandbox& pg, MigrationLayout layout,
                                                            fs::path dir, std::string source,
                                                            std::string uri) {
  std::unique_ptr<MigrationScenario> s(new MigrationScenario(pg, layout));
  s->dir_ = std::move(dir), s->source_ = std::move(source), s->uri_ = std::move(uri);
  return s;
}

Status MigrationScenario::Layout() {
  const bool commerce = layout_ == MigrationLayout::kCommerce;
  const std::string schema = ReadFile(fs::path(SQLIFT_TESTDATA) /
                                      (commerce ? "commerce_schema.sql" : "booking_schema.sql"));
  if (schema.empty()) return Status::NotFound("no schema file in " SQLIFT_TESTDATA);
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(sqlite_path(), SqliteDb::Mode::kReadWriteCreate));
  SQLIFT_RETURN_IF_ERROR(db->Exec(schema));
  SQLIFT_RETURN_IF_ERROR(db->Exec(commerce ? kCommerceSeed : kBookingSeed));
  std::ofstream(dir_ / "token") << "0123456789abcdef0123456789abcdef\n";
  fs::permissions(dir_ / "token", fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream cfg(config_path());
  cfg << fmt::format(
      "[source]\nid = \"{6}\"\nsqlite = \"{0}/app.db\"\n{5}"
      "[state]\ndir = \"{0}/state\"\n"
      "[capture]\nmode = \"{7}\"\npoll_ms = 50\n"
      "[target]\npg = \"{1}\"\n"
      "[transport]\nlisten = \"127.0.0.1:{2}\"\nconnect = \"127.0.0.1:{2}\"\n"
      "token_file = \"{0}/token\"\n"
      "[http]\nlisten = \"127.0.0.1:{3}\"\napply_listen = \"127.0.0.1:{4}\"\n",
      dir_.string(), uri_, port_, http_port_, apply_http_port_,
      commerce ? "tenant_column = \"tenant_id\"\n" : "", source_, capture_mode_);
  return cfg.flush() ? Status::OK() : Status::IOError("write sqlift.toml");
}

MigrationScenario::~MigrationScenario() {
  KillAgent();
  KillApplier();
  // A slot left behind would hold WAL for the rest of the suite.
  if (pg_.running()) {
    auto conn = PgConnection::Connect(uri_, std::chrono::seconds(5));
    if (conn.ok()) {
      (void)(*conn)->Query(
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
          "WHERE slot_name = $1 AND NOT active",
          {slot()});
    }
  }
  if (!::testing::Test::HasFailure()) fs::remove_all(dir_);
}

std::vector<std::string> MigrationScenario::tables() const {
  if (layout_ == MigrationLayout::kCommerce) {
    return {"tenants", "customers", "products", "orders", "order_items", "writer_counters"};
  }
  return {"users", "rooms", "bookings", "business_hours", "settings", "writer_counters"};
}

Status MigrationScenario::StartApplier() {
  SQLIFT_ASSIGN_OR_RETURN(
      process::Child p,
      process::Child::Spawn(
          {.argv = {SQLIFT_BINARY, "--config", config_path(), "apply"},
           .out = process::Stream::File((dir_ / "apply.log").string(), /*append=*/true),
           .err = process::Stream::SameAsStdout()}));
  applier_.emplace(std::move(p));
  return Status::OK();
}

Status MigrationScenario::StartAgent() {
  SQLIFT_ASSIGN_OR_RETURN(
      process::Child p,
      process::Child::Spawn(
          {.argv = {SQLIFT_BINARY, "--config", config_path(), "capture"},
           .out = process::Stream::File((dir_ / "capture.log").string(), /*append=*/true),
           .err = process::Stream::SameAsStdout()}));
  agent_.emplace(std::move(p));
  return Status::OK();
}

void MigrationScenario::KillApplier() {
  if (applier_) applier_->Kill(SIGKILL), (void)applier_->Wait();
  applier_.reset();
}

void MigrationScenario::KillAgent() {
  if (agent_) agent_->Kill(SIGKILL), (void)agent_->Wait();
  agent_.reset();
}

namespace {
Status Terminate(std::optional<process::Child>& p, const char* what) {
  if (!p) return Status::OK();
  p->Kill(SIGTERM);
  Result<process::Exit> code = p->Wait();
  p.reset();
  if (code.ok() && code->exit_code == 0) return Status::OK();
  return Status::Internal(fmt::format("{} exited with {}", what, code.ok() ? code->exit_code : -1));
}
}  // namespace

Status MigrationScenario::StopAgent() {
  return Terminate(agent_, "sqlift capture");
}
Status MigrationScenario::StopApplier() {
  return Terminate(applier_, "sqlift apply");
}

Status MigrationScenario::StartReplication(std::chrono::seconds timeout) {
  SQLIFT_RETURN_IF_ERROR(StartApplier());
  SQLIFT_RETURN_IF_ERROR(StartAgent());
  return WaitForwardDrained(timeout);
}

Result<uint64_t> MigrationScenario::CommittedSeq() {
  if (capture_mode_ == "wal") {
    return RunWalBarrier({sqlite_path(), wal::WalProgressPath((dir_ / "state").string())},
                         [] { return Status::OK(); });
  }
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(sqlite_path(), SqliteDb::Mode::kReadOnly));
  Result<int64_t> seq =
      db->QueryInt64("SELECT seq FROM sqlite_sequence WHERE name = '_sqlift_outbox'");
  if (seq.status().code() == Status::Code::kNotFound) return uint64_t{0};
  if (!seq.ok()) return seq.status();
  return static_cast<uint64_t>(*seq);
}

Result<uint64_t> MigrationScenario::AppliedSeq() {
  SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(uri_, std::chrono::seconds(2)));
  return PgUint(*conn, "SELECT applied_seq FROM sqlift.positions WHERE source = $1", {source_});
}

bool MigrationScenario::WaitFor(const std::function<bool()>& done,
                                std::chrono::milliseconds timeout) {
  return testutil::WaitFor(done, timeout);
}

Status MigrationScenario::WaitForwardDrained(std::chrono::seconds timeout) {
  SQLIFT_ASSIGN_OR_RETURN(uint64_t committed, CommittedSeq());
  uint64_t applied = 0;
  bool ok = WaitFor(
      [&] {
        Result<uint64_t> a = AppliedSeq();
        if (a.ok()) applied = *a;
        return a.ok() && *a >= committed;
      },
      timeout);
  if (ok) return Status::OK();
  return Status::Aborted(fmt::format("applied seq {} of {} after {} s\n{}", applied, committed,
                                     timeout.count(), Logs()));
}

Status MigrationScenario::WaitReverseDrained(std::chrono::seconds timeout) {
  SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(uri_, std::chrono::seconds(5)));
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult m,
      conn->Query("SELECT pg_logical_emit_message(false, 'sqlift-test', 'drain')::text"));
  const std::string marker(m.get(0, 0));
  std::string confirmed;
  bool ok = WaitFor(
      [&] {
        Result<PgResult> r = conn->Query(
            "SELECT confirmed_flush_lsn::text, confirmed_flush_lsn >= $2::pg_lsn "
            "FROM pg_replication_slots WHERE slot_name = $1",
            {slot(), marker});
        if (!r.ok() || r->rows() == 0) return false;
        confirmed = std::string(r->get(0, 0));
        return r->get(0, 1) == "t";
      },
      timeout);
  if (ok) return Status::OK();
  return Status::Aborted(
      fmt::format("slot {} confirmed {}, marker {}\n{}", slot(), confirmed, marker, Logs()));
}

Result<process::Output> MigrationScenario::Sqlift(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {SQLIFT_BINARY, "--config", config_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return process::RunCaptured(argv);
}

namespace {
std::vector<std::string> SwitchArgs(const std::string& command, const std::string& tenant,
                                    const std::vector<std::string>& extra) {
  std::vector<std::string> args = {command, "--json"};
  if (!tenant.empty()) args.insert(args.end(), {"--tenant", tenant});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

SwitchOutcome ParseSwitch(int exit_code, std::string out, std::string err) {
  SwitchOutcome s;
  s.exit_code = exit_code;
  s.ok = JsonField(out, "ok") == "true";
  s.undone = JsonField(out, "undone") == "true";
  std::string pause = JsonField(out, "pause_ms"), before = JsonField(out, "epoch_before"),
              after = JsonField(out, "epoch_after");
  if (!pause.empty()) s.pause_ms = std::stod(pause);
  if (!before.empty()) s.epoch_before = std::stoll(before);
  if (!after.empty()) s.epoch_after = std::stoll(after);
  std::string fence = JsonField(out, "fence_seq"), flip = JsonField(out, "flip_seq");
  if (!fence.empty()) s.fence_seq = std::stoull(fence);
  if (!flip.empty()) s.flip_seq = std::stoull(flip);
  const std::string lifted = "fence lifted at seq ";  // the note of the undo step
  if (size_t at = out.find(lifted); at != std::string::npos) {
    s.undo_seq = std::stoull(out.substr(at + lifted.size()));
  }
  s.reason = JsonField(out, "reason");
  s.out = std::move(out);
  s.err = std::move(err);
  return s;
}
}  // namespace

Result<SwitchOutcome> MigrationScenario::Cutover(const std::string& tenant,
                                                 const std::vector<std::string>& extra) {
  SQLIFT_ASSIGN_OR_RETURN(process::Output p, Sqlift(SwitchArgs("cutover", tenant, extra)));
  return ParseSwitch(p.exit_code, std::move(p.out), std::move(p.err));
}

Result<SwitchOutcome> MigrationScenario::Fallback(const std::string& tenant,
                                                  const std::vector<std::string>& extra) {
  SQLIFT_ASSIGN_OR_RETURN(process::Output p, Sqlift(SwitchArgs("fallback", tenant, extra)));
  return ParseSwitch(p.exit_code, std::move(p.out), std::move(p.err));
}

Result<MigrationScenario::RunningSwitch> MigrationScenario::StartSwitch(
    const std::string& command, const std::string& tenant, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {SQLIFT_BINARY, "--config", config_path()};
  for (std::string& a : SwitchArgs(command, tenant, extra))
    argv.push_back(std::move(a));
  ++switches_;
  const fs::path out = dir_ / fmt::format("switch{}.out", switches_);
  const fs::path err = dir_ / fmt::format("switch{}.err", switches_);
  fs::remove(err);
  SQLIFT_ASSIGN_OR_RETURN(
      process::Child p,
      process::Child::Spawn({.argv = argv,
                             .out = process::Stream::File(out.string()),
                             .err = process::Stream::File(err.string(), /*append=*/true)}));
  return RunningSwitch{std::move(p), out, err};
}

Result<SwitchOutcome> MigrationScenario::WaitSwitch(RunningSwitch& running) {
  SQLIFT_ASSIGN_OR_RETURN(process::Exit exit, running.process.Wait());
  return ParseSwitch(exit.exit_code, ReadFile(running.out), ReadFile(running.err));
}

Result<SqliteRouteRow> MigrationScenario::SqliteRoute(const std::string& tenant) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(sqlite_path(), SqliteDb::Mode::kReadOnly));
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement q,
      db->Prepare("SELECT side, epoch, fenced FROM _sqlift_route WHERE tenant = ?1"));
  SQLIFT_RETURN_IF_ERROR(q.BindText(1, tenant));
  SqliteRouteRow row;
  SQLIFT_ASSIGN_OR_RETURN(bool found, q.Step());
  if (found) row = {std::string(q.ColumnText(0)), q.ColumnInt64(1), q.ColumnInt64(2) != 0};
  return row;
}

Result<std::unique_ptr<RouteWriter>> MigrationScenario::StartWriter(
    const std::string& tenant, const std::string& writer, std::chrono::milliseconds pg_hold) {
  RouteWriterOptions o;
  o.sqlite_path = sqlite_path();
  o.pg_uri = uri_;
  o.tenant = tenant;
  o.writer = writer;
  o.layout =
      layout_ == MigrationLayout::kCommerce ? WriterLayout::kCommerce : WriterLayout::kBooking;
  o.customer_id = "c-" + tenant + "-1";
  o.room_id = 1 + static_cast<int64_t>(std::hash<std::string>{}(writer) % 5);
  o.pg_hold = pg_hold;
  if (layout_ == MigrationLayout::kTenantFile) o.pg_tenant_column = "tenant_id";
  return RouteWriter::Start(std::move(o));
}

std::string MigrationScenario::CompareAll() {
  auto db = SqliteDb::Open(sqlite_path(), SqliteDb::Mode::kReadOnly);
  auto conn = PgConnection::Connect(uri_, std::chrono::seconds(10));
  if (!db.ok() || !conn.ok()) return "cannot open both sides";
  std::string out;
  for (const std::string& t : tables()) {
    std::string diff = FirstDifference(SqliteRows(**db, t), PgRows(**conn, t));
    if (!diff.empty()) out += t + ": " + diff + "\n";
  }
  return out;
}

std::string MigrationScenario::Logs(size_t bytes) const {
  return "--- apply.log\n" + process::FileTail((dir_ / "apply.log").string(), bytes) +
         "--- capture.log\n" + process::FileTail((dir_ / "capture.log").string(), bytes);
}

}  // namespace sqlift::testing
