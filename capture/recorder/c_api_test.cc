// Runs the C scenario (c_api_test.c) on a database that has the outbox, and the C API's route
// answers while a switch is in flight.
#include <gtest/gtest.h>

#include <cstring>

#include "capture/recorder/recorder_testutil.h"
#include "capture/recorder/sqlift_capture.h"

extern "C" int sqlift_c_api_scenario(const char* path, char* why, size_t why_size);

namespace sqlift {
namespace {

TEST(CApiTest, ScenarioFromC) {
  testing::TempDir dir;
  std::string path = dir.Path("c.db");
  testing::OpenDb(path);  // creates the outbox, then closes
  char why[512] = "";
  EXPECT_EQ(sqlift_c_api_scenario(path.c_str(), why, sizeof why), 0) << why;

  testing::DbPtr db = testing::OpenDb(path, false);
  std::vector<testing::OutboxRow> rows = testing::ReadOutbox(db.get());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(testing::Decode(rows[0].payload).size(), 2u);
  EXPECT_EQ(testing::QueryInt(db.get(), "SELECT count(*) FROM t"), 2);  // the DELETE was refused
}

// While a switch is in flight (a cutover's fence: sqlite, fenced; a fallback's: postgres,
// fenced) the C API answers "fenced" and a flush is SQLITE_BUSY (retry), whichever side the
// route names; never SQLITE_MISUSE ("write on PostgreSQL").
TEST(CApiTest, FencedRouteIsBusyWhateverItsSide) {
  testing::TempDir dir;
  std::string path = dir.Path("c.db");
  testing::DbPtr db = testing::OpenDb(path);
  testing::Exec(db.get(), "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  sqlift_recorder* rec = nullptr;
  ASSERT_EQ(sqlift_recorder_attach(db.get(), &rec), SQLITE_OK);
  for (const std::string side : {"sqlite", "postgres"}) {
    testing::Exec(db.get(),
                  "INSERT OR REPLACE INTO _sqlift_route VALUES ('*', '" + side + "', 3, 1, 0)");
    int on_postgres = -1, fenced = -1;
    int64_t epoch = -1, changes = -1;
    ASSERT_EQ(sqlift_recorder_route(rec, "acme", &on_postgres, &epoch, &fenced), SQLITE_OK);
    EXPECT_EQ(fenced, 1) << side;
    EXPECT_EQ(on_postgres, side == "postgres" ? 1 : 0);
    EXPECT_EQ(epoch, 3);
    testing::Exec(db.get(), "BEGIN IMMEDIATE; INSERT INTO t VALUES (1, 'x')");
    EXPECT_EQ(sqlift_recorder_flush(rec, &changes), SQLITE_BUSY) << side;
    EXPECT_NE(std::strstr(sqlift_recorder_errmsg(rec), "is being switched"), nullptr)
        << sqlift_recorder_errmsg(rec);
    testing::Exec(db.get(), "ROLLBACK");
  }
  sqlift_recorder_free(rec);
  EXPECT_EQ(testing::QueryInt(db.get(), "SELECT count(*) FROM t"), 0);
}

}  // namespace
}  // namespace sqlift
