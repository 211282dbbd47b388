// Shared fixture and checks of the database-per-tenant tests (see tenant_files_fixture.h).
#include "tests/testutil/tenant_files_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_statement.h"

namespace sqlift::testing {
namespace {

const char kRogueUpdate[] = "UPDATE public.bookings SET notes = 'rogue' WHERE tenant_id = $1";
const char kRogueInsert[] =
    "INSERT INTO public.settings (tenant_id, key, value) VALUES ($1, 'rogue', 'x')";

}  // namespace

void TenantFilesTest::SetUpTestSuite() {
  PgSandboxOptions options;
  options.settings = {{"max_replication_slots", "40"}, {"max_wal_senders", "20"}};
  auto pg = PgSandbox::Start(options);
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  pg_ = std::move(pg).value().release();
}

std::unique_ptr<TenantFilesScenario> TenantFilesTest::Files(const std::string& name,
                                                            const std::vector<std::string>& tenants,
                                                            TenantFilesScenario::Start how,
                                                            std::chrono::seconds timeout) {
  auto f = TenantFilesScenario::Create(*pg_, name, tenants);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) return nullptr;
  Status st = (*f)->StartReplication(timeout, how);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return st.ok() ? std::move(f).value() : nullptr;
}

// `sql` with $1 = tenant in an ordinary PostgreSQL session (the fences apply); the rows it
// changed, or the error.
Result<int64_t> PgTenantWrite(const std::string& uri, const std::string& sql,
                              const std::string& tenant) {
  SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(uri, std::chrono::seconds(10)));
  SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn->Query(sql, {tenant}));
  return r.affected_rows();
}

// Both rogue writes to `tenant`'s rows are refused with SL002 (its writes go to SQLite).
void ExpectPgRefuses(const std::string& uri, const std::string& tenant) {
  for (const char* sql : {kRogueUpdate, kRogueInsert}) {
    Result<int64_t> r = PgTenantWrite(uri, sql, tenant);
    EXPECT_EQ(SqlStateOf(r.status()), "SL002")
        << tenant << ": " << sql << ": " << r.status().ToString();
  }
}

// The booking ids `writers` got acknowledged on `side` after their write number `from_n`.
std::vector<int64_t> BookingIds(const std::vector<RouteWriter*>& writers, WriteSide side,
                                int64_t from_n) {
  std::vector<int64_t> ids;
  for (RouteWriter* w : writers) {
    for (const AckedWrite& a : w->acked()) {
      if (a.side == side && a.n > from_n) ids.push_back(std::stoll(a.key));
    }
  }
  return ids;
}

int64_t LastN(const std::vector<RouteWriter*>& writers) {
  int64_t n = 0;
  for (RouteWriter* w : writers) {
    auto acked = w->acked();
    if (!acked.empty()) n = std::max(n, acked.back().n);
  }
  return n;
}

// Ids acknowledged twice among `ids`, as " 12 40".
std::string Duplicates(const std::vector<int64_t>& ids) {
  std::set<int64_t> seen;
  std::string dup;
  for (int64_t id : ids) {
    if (!seen.insert(id).second) dup += " " + std::to_string(id);
  }
  return dup;
}

// "" when each of `writes` (of writer `writer`) is in the booking file at `path` with its
// values; else the first one that is not.
std::string MissingInFile(const std::string& path, const std::string& writer,
                          const std::vector<AckedWrite>& writes) {
  auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadOnly);
  if (!db.ok()) return db.status().ToString();
  for (const AckedWrite& a : writes) {
    auto q = (*db)->Prepare(
        "SELECT customer_name, CAST(round(total_price * 100) AS INTEGER) FROM bookings "
        "WHERE id = ?1");
    if (!q.ok()) return q.status().ToString();
    if (Status st = q->BindInt64(1, std::stoll(a.key)); !st.ok()) return st.ToString();
    auto row = q->Step();
    if (!row.ok()) return row.status().ToString();
    const std::string got =
        *row ? std::string(q->ColumnText(0)) + "|" + std::to_string(q->ColumnInt64(1)) : "missing";
    const std::string want = WriteSku(writer, a.n) + "|" + std::to_string(a.cents);
    if (got != want) return "booking " + a.key + " is " + got + ", want " + want;
  }
  return "";
}

void PrintWriters(const Writers& all) {
  for (const auto& w : all) {
    std::cout << "[ writer   ] " << w->options().writer << ": " << w->acked_on(WriteSide::kSqlite)
              << " on SQLite, " << w->acked_on(WriteSide::kPostgres) << " on PostgreSQL, "
              << w->stats().refusals() << " refusals" << std::endl;
  }
}

}  // namespace sqlift::testing
