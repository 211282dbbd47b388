// TenantFilesScenario: several database-per-tenant sources into one PostgreSQL database (see
// header).
#include "tests/testutil/tenant_files_scenario.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_statement.h"
#include "tests/testutil/table_compare.h"
#include "tools/sandbox/pg_cluster.h"

namespace sqlift::testing {
namespace {

namespace fs = std::filesystem;

// The seed of one file; temp.seed holds its tenant and its position k (0, 1, 2, ...), so the
// files differ in counts, names and prices while their ids all start at 1.
const char kSeed[] = R"(
CREATE TABLE writer_counters (writer TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT INTO users (email, password, name, role, created_at, updated_at)
  SELECT 'ann@example.com', 'x', 'Ann of ' || tenant, 'admin', '2024-01-01 09:00:00',
         '2024-01-01 09:00:00' FROM temp.seed
  UNION ALL
  SELECT 'bob@example.com', 'y', 'Bob of ' || tenant, 'user', '2024-01-02 09:00:00',
         '2024-01-02 09:00:00' FROM temp.seed;
INSERT INTO rooms (name, capacity, category, description, price_per_hour, is_active,
                   created_at, updated_at)
  WITH RECURSIVE i(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM i WHERE v < 5)
  SELECT tenant || ' room ' || v, 2 + v + k, 'meeting', NULL, (1000 + v * 250 + k * 75) / 100.0,
         v <> 5, '2024-01-01 08:00:00', '2024-01-01 08:00:00' FROM i, temp.seed;
INSERT INTO bookings (room_id, customer_name, customer_email, start_time, end_time, status,
                      total_price, created_at, updated_at)
  WITH RECURSIVE i(v) AS (
    SELECT 1 UNION ALL SELECT v + 1 FROM i WHERE v < 200 - 40 * (SELECT k FROM temp.seed))
  SELECT v % 5 + 1, tenant || '-seed-' || v, tenant || '.seed' || v || '@example.com',
         datetime(1704096000 + v * 7200 + k * 600, 'unixepoch'),
         datetime(1704099600 + v * 7200 + k * 600, 'unixepoch'), 'confirmed',
         (500 + (v * 53 + k * 7) % 9900) / 100.0,
         datetime(1704067200 + v, 'unixepoch'), datetime(1704067200 + v, 'unixepoch')
  FROM i, temp.seed;
INSERT INTO business_hours (day_of_week, open_time, close_time, is_closed, created_at, updated_at)
  WITH RECURSIVE i(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM i WHERE v < 6)
  SELECT v, printf('%02d:00', 7 + k), '18:00', v IN (0, 6), '2024-01-01 08:00:00',
         '2024-01-01 08:00:00' FROM i, temp.seed;
INSERT INTO settings (key, value, created_at, updated_at)
  SELECT 'currency', CASE k WHEN 0 THEN 'EUR' WHEN 1 THEN 'USD' ELSE 'GBP' END,
         '2024-01-01 08:00:00', '2024-01-01 08:00:00' FROM temp.seed
  UNION ALL
  SELECT 'slot_minutes', 15 * (k + 1), '2024-01-01 08:00:00', '2024-01-01 08:00:00'
  FROM temp.seed;
INSERT INTO writer_counters (writer, n)
  SELECT tenant || '-' || w.v, 0
  FROM temp.seed, (SELECT 1 AS v UNION ALL SELECT 2 UNION ALL SELECT 3) w;
DROP TABLE temp.seed;
)";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// `text` as a non-negative integer; `otherwise` when it is not one (an error message).
int64_t NumberOr(const std::string& text, int64_t otherwise) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return otherwise;
  return std::strtoll(text.c_str(), nullptr, 10);
}

Status SeedFile(const std::string& path, const std::string& tenant, int index) {
  const std::string schema = ReadFile(fs::path(SQLIFT_TESTDATA) / "booking_schema.sql");
  if (schema.empty()) return Status::NotFound("no booking_schema.sql in " SQLIFT_TESTDATA);
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWriteCreate));
  SQLIFT_RETURN_IF_ERROR(db->Exec(schema));
  SQLIFT_RETURN_IF_ERROR(db->Exec("CREATE TEMP TABLE seed (tenant TEXT NOT NULL, k INTEGER)"));
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement q, db->Prepare("INSERT INTO temp.seed VALUES (?1, ?2)"));
  SQLIFT_RETURN_IF_ERROR(q.BindText(1, tenant));
  SQLIFT_RETURN_IF_ERROR(q.BindInt64(2, index));
  SQLIFT_RETURN_IF_ERROR(q.Run());
  return db->Exec(kSeed);
}

}  // namespace

Result<std::unique_ptr<TenantFilesScenario>> TenantFilesScenario::Create(
    PgSandbox& pg, const std::string& name, const std::vector<std::string>& tenants) {
  std::unique_ptr<TenantFilesScenario> s(new TenantFilesScenario());
  SQLIFT_ASSIGN_OR_RETURN(s->uri_, pg.CreateDatabase(name));
  for (size_t i = 0; i < tenants.size(); ++i) {
    SQLIFT_RETURN_IF_ERROR(s->AddSource(pg, name, tenants[i], static_cast<int>(i)));
  }
  return s;
}

Status TenantFilesScenario::AddSource(PgSandbox& pg, const std::string& name,
                                      const std::string& tenant, int index) {
  const std::string source = name + "_" + tenant;
  const fs::path dir = fs::temp_directory_path() / fmt::format("sqlift_{}_{}", source, ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Adopted at once, so the scenario cleans up (and keeps the directory of a failed test).
  tenants_.push_back(tenant);
  sources_.push_back(MigrationScenario::Adopt(pg, MigrationLayout::kTenantFile, dir, source, uri_));
  MigrationScenario& s = *sources_.back();
  SQLIFT_RETURN_IF_ERROR(SeedFile(s.sqlite_path(), tenant, index));
  std::ofstream(dir / "token") << "0123456789abcdef0123456789abcdef\n";
  fs::permissions(dir / "token", fs::perms::owner_read | fs::perms::owner_write);
  // Free now, and none twice: the files' daemons bind them only later.
  uint16_t ports[3];
  for (uint16_t& port : ports) {
    do {
      SQLIFT_ASSIGN_OR_RETURN(int p, pgcluster::PickFreePort());
      port = static_cast<uint16_t>(p);
    } while (!ports_.insert(port).second);
  }
  std::ofstream cfg(s.config_path());
  cfg << fmt::format(
      "[source]\nid = \"{5}\"\nsqlite = \"{0}/app.db\"\ntenant = \"{6}\"\n"
      "[state]\ndir = \"{0}/state\"\n"
      "[capture]\nmode = \"recorder\"\npoll_ms = 50\n"
      "[target]\npg = \"{1}\"\n"
      "[transport]\nlisten = \"127.0.0.1:{2}\"\nconnect = \"127.0.0.1:{2}\"\n"
      "token_file = \"{0}/token\"\n"
      "[http]\nlisten = \"127.0.0.1:{3}\"\napply_listen = \"127.0.0.1:{4}\"\n",
      dir.string(), uri_, ports[0], ports[1], ports[2], source, tenant);
  if (!cfg.flush()) return Status::IOError("write " + s.config_path());
  SQLIFT_ASSIGN_OR_RETURN(process::Output init, s.Sqlift({"init"}));
  if (init.exit_code != 0) return Status::Internal("sqlift init of " + source + ": " + init.err);
  // A first transaction before the snapshot (see MigrationScenario::Create): row "<tenant>-0",
  // named after row "<tenant>-1".
  return s.RecordedWrite(
      "INSERT INTO writer_counters SELECT substr(writer, 1, length(writer) - 1) || '0', 0 "
      "FROM writer_counters WHERE writer LIKE '%-1'");
}

Status TenantFilesScenario::StartReplication(std::chrono::seconds timeout, Start how) {
  for (auto& s : sources_) {
    SQLIFT_RETURN_IF_ERROR(s->StartApplier());
    SQLIFT_RETURN_IF_ERROR(s->StartAgent());
    if (how == Start::kOneAfterAnother) {
      SQLIFT_RETURN_IF_ERROR(s->WaitForwardDrained(timeout).With("source " + s->source()));
    }
  }
  return WaitForwardDrained(timeout);
}

Status TenantFilesScenario::WaitForwardDrained(std::chrono::seconds timeout) {
  for (auto& s : sources_) {
    SQLIFT_RETURN_IF_ERROR(s->WaitForwardDrained(timeout).With("source " + s->source()));
  }
  return Status::OK();
}

MigrationScenario& TenantFilesScenario::source(const std::string& tenant) {
  for (size_t i = 0; i < tenants_.size(); ++i) {
    if (tenants_[i] == tenant) return *sources_[i];
  }
  std::abort();  // a test naming a tenant it did not create
}

std::string TenantFilesScenario::CompareTenant(const std::string& tenant) {
  MigrationScenario& s = source(tenant);
  auto db = SqliteDb::Open(s.sqlite_path(), SqliteDb::Mode::kReadOnly);
  auto conn = PgConnection::Connect(uri_, std::chrono::seconds(10));
  if (!db.ok() || !conn.ok()) return "cannot open both sides";
  std::string out;
  for (const std::string& t : s.tables()) {
    std::string diff =
        FirstDifference(SqliteRows(**db, t), PgTenantRows(**conn, t, kTenantColumn, tenant));
    if (!diff.empty()) out += tenant + "." + t + ": " + diff + "\n";
  }
  return out;
}

int64_t TenantFilesScenario::MaxSqliteBookingId(const std::string& tenant) {
  return NumberOr(source(tenant).SqliteValue("SELECT coalesce(max(id), 0) FROM bookings"), -1);
}

int64_t TenantFilesScenario::MaxPgBookingId() {
  return NumberOr(sources_.front()->PgValue("SELECT coalesce(max(id), 0) FROM bookings"), -1);
}

std::string TenantFilesScenario::Logs(size_t bytes) const {
  std::string out;
  for (const auto& s : sources_)
    out += "=== " + s->source() + "\n" + s->Logs(bytes);
  return out;
}

}  // namespace sqlift::testing
