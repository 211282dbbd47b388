// Capture mode wal through the real daemons: writers that know nothing of sqlift (the sqlite3
// shell, Python's sqlite3 module, Node's better-sqlite3 with its own bundled SQLite) and plain
// connections commit to the application's database; `sqlift capture` reads the -wal file,
// `sqlift apply` loads PostgreSQL; PostgreSQL ends equal to SQLite, by `sqlift verify` and row
// for row (tests/testutil/table_compare.h). The agent is killed with SIGKILL while it decodes,
// again and again, and nothing is lost or applied twice.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/testutil/migration_scenario.h"
#include "tests/testutil/real_clients.h"
#include "tests/testutil/table_compare.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {
namespace {

using namespace std::chrono_literals;
using testing::MigrationLayout;
using testing::MigrationScenario;

// The tables tests/clients/workload.py writes, as it creates them.
constexpr const char* kClientSchema =
    "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, owner TEXT NOT NULL,"
    " qty INTEGER NOT NULL, price REAL, note TEXT, payload BLOB);"
    "CREATE INDEX IF NOT EXISTS items_owner ON items(owner, qty);"
    "CREATE TABLE IF NOT EXISTS tags(name TEXT PRIMARY KEY, item_id INTEGER NOT NULL,"
    " label TEXT) WITHOUT ROWID;";

class WalCaptureTest : public PgSuiteTest {
 protected:
  std::unique_ptr<MigrationScenario> Scenario(const std::string& name) {
    auto s = MigrationScenario::Create(*pg_, name, MigrationLayout::kWholeDatabase,
                                       /*write_before_snapshot=*/true, "wal");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return nullptr;
    Status st = (*s)->PlainWrite(kClientSchema);
    if (st.ok()) st = (*s)->StartReplication(60s);
    EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << (*s)->Logs();
    return st.ok() ? std::move(s).value() : nullptr;
  }

  // `sqlift verify` (held at a barrier position) passes, and every table is equal row for row.
  static void ExpectEqual(MigrationScenario& s, const std::vector<std::string>& tables) {
    Status drained = s.WaitForwardDrained(120s);
    ASSERT_TRUE(drained.ok()) << drained.ToString() << "\n" << s.Logs();
    auto verify = s.Sqlift({"verify"});
    ASSERT_TRUE(verify.ok());
    EXPECT_EQ(verify->exit_code, 0) << verify->out << verify->err << s.Logs();
    auto db = SqliteDb::Open(s.sqlite_path(), SqliteDb::Mode::kReadOnly);
    auto pg = PgConnection::Connect(s.uri(), 10s);
    ASSERT_TRUE(db.ok() && pg.ok());
    for (const std::string& t : tables) {
      std::vector<std::string> rows = testing::SqliteRows(**db, t);
      EXPECT_EQ(testing::FirstDifference(rows, testing::PgRows(**pg, t)), "") << t;
      std::printf("%s: %zu rows equal\n", t.c_str(), rows.size());
    }
  }
};

TEST_F(WalCaptureTest, WritersThatKnowNothingOfSqliftReachPostgres) {
  testing::ClientPaths paths{SQLIFT_PYTHON3, SQLIFT_SQLITE3_SHELL, SQLIFT_NODE, SQLIFT_CLIENTS_DIR};
  Status ready = testing::CheckRealClients(paths);
  ASSERT_TRUE(ready.ok()) << ready.ToString();
  auto s = Scenario("wal_clients");
  ASSERT_TRUE(s);
  auto reports = testing::RunRealClients(paths, s->sqlite_path(), s->dir().string(),
                                         {{testing::ClientRuntime::kPython, 21, 200},
                                          {testing::ClientRuntime::kShell, 22, 200},
                                          {testing::ClientRuntime::kNode, 23, 200}});
  ASSERT_TRUE(reports.ok()) << reports.status().ToString();
  for (const testing::ClientReport& r : *reports)
    std::printf("%s: SQLite %s, %lld transactions\n", r.client.c_str(), r.sqlite_version.c_str(),
                static_cast<long long>(r.transactions));
  std::vector<std::string> tables = s->tables();
  tables.insert(tables.end(), {"items", "tags"});
  ExpectEqual(*s, tables);
}

TEST_F(WalCaptureTest, AnAgentKilledWhileDecodingNeitherLosesNorRepeats) {
  auto s = Scenario("wal_kills");
  ASSERT_TRUE(s);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> committed{0};
  std::thread writer([&] {
    auto db = SqliteDb::Open(s->sqlite_path(), SqliteDb::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    // A long WAL between checkpoints, so that the agent's downtime does not end in a
    // checkpoint and restart (the gap the repair test covers).
    ASSERT_TRUE((*db)->Exec("PRAGMA wal_autocheckpoint = 100000").ok());
    for (int64_t n = 1; !stop.load(); ++n) {
      const std::string sql = fmt::format(
          "BEGIN; INSERT INTO items(owner, qty, price, note, payload) VALUES ('w', {0}, {0}.5, "
          "'n{0}', randomblob({1})); UPDATE items SET qty = qty + 1 WHERE id = {0} / 2; "
          "DELETE FROM items WHERE id = {0} / 3 AND {0} % 7 = 0; COMMIT",
          n, n % 50 == 0 ? 6000 : 40);
      ASSERT_TRUE((*db)->Exec(sql).ok());
      committed.store(n);
    }
  });
  auto applied = [&] {
    Result<uint64_t> a = s->AppliedSeq();
    return a.ok() ? *a : 0;
  };
  for (int kill = 0; kill < 30; ++kill) {
    // Killed only once this agent has decoded, logged and shipped something since its start.
    const uint64_t before = applied();
    ASSERT_TRUE(MigrationScenario::WaitFor([&] { return applied() > before; }, 60s))
        << "kill " << kill << "\n"
        << s->Logs();
    s->KillAgent();
    ASSERT_TRUE(s->StartAgent().ok());
  }
  // The writer stops only once the last agent runs: a writer that closed the database while
  // no agent had it open would checkpoint and delete the WAL (a gap, which the repair test
  // covers).
  Status caught_up = s->WaitForwardDrained(60s);
  ASSERT_TRUE(caught_up.ok()) << caught_up.ToString() << "\n" << s->Logs();
  stop.store(true);
  writer.join();
  std::printf("%lld transactions written across 30 SIGKILLs of the agent\n",
              static_cast<long long>(committed.load()));
  ExpectEqual(*s, {"items", "bookings", "writer_counters"});
}

TEST_F(WalCaptureTest, AGapLeftWhileTheAgentWasStoppedIsRepairedByDifference) {
  auto s = Scenario("wal_gap");
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->PlainWrite("INSERT INTO items(owner, qty) VALUES ('before', 1)").ok());
  ASSERT_TRUE(s->WaitForwardDrained(60s).ok()) << s->Logs();
  ASSERT_TRUE(s->StopAgent().ok());
  // While the agent is stopped the application writes, checkpoints and truncates the WAL, and
  // writes on: the frames of the first writes are gone for good.
  auto db = SqliteDb::Open(s->sqlite_path(), SqliteDb::Mode::kReadWrite);
  ASSERT_TRUE(db.ok());
  for (const char* sql :
       {"INSERT INTO items(owner, qty, payload) VALUES ('gap', 1, randomblob(5000))",
        "UPDATE items SET qty = 7 WHERE owner = 'before'", "PRAGMA wal_checkpoint(TRUNCATE)",
        "INSERT INTO tags VALUES ('gap-tag', 1, 'x')", "DELETE FROM bookings WHERE id % 10 = 0"}) {
    ASSERT_TRUE((*db)->Exec(sql).ok()) << sql;
  }
  db->reset();
  ASSERT_TRUE(s->StartAgent().ok());
  ASSERT_TRUE(s->PlainWrite("INSERT INTO items(owner, qty) VALUES ('after', 2)").ok());
  ExpectEqual(*s, {"items", "tags", "bookings", "writer_counters"});
  const std::string log = s->Logs(20000);
  EXPECT_NE(log.find("gap repaired"), std::string::npos) << log;
}

}  // namespace
}  // namespace sqlift
