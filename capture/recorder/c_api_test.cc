// Runs the C scenario (c_api_test.c) on a database that has the outbox.
#include <gtest/gtest.h>

#include "capture/recorder/recorder_testutil.h"

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

}  // namespace
}  // namespace sqlift
