// `sqlift demo --json` end to end at a small size: every stage succeeds (plan to finish, with
// cutover, writes on PostgreSQL and fallback), the summary has the keys the README promises,
// and no acknowledged write is lost: not at the end, not in SQLite after the fallback.
#include <gtest/gtest.h>

#include "common/process/process.h"

namespace sqlift {
namespace {

TEST(DemoTest, JsonSummaryShowsNoLostWrites) {
  auto r = process::RunCaptured(
      {SQLIFT_BINARY, "demo", "--json", "--seconds", "1", "--bookings", "2000"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  const std::string& j = r->out;
  for (const char* key : {"\"rows_copied\":", "\"changes_streamed\":", "\"writes_acknowledged\":",
                          "\"writes_lost\":0,", "\"verify_matched\":true,", "\"cutover_pause_ms\":",
                          "\"fallback_pause_ms\":", "\"stages\":[", "\"ok\":true"}) {
    EXPECT_NE(j.find(key), std::string::npos) << key << "\n" << j;
  }
  EXPECT_EQ(j.find("\"writes_acknowledged\":0,"), std::string::npos) << j;  // writers wrote
  EXPECT_EQ(j.find("\"writes_on_postgres\":0,"), std::string::npos) << j;   // also on PostgreSQL
  EXPECT_NE(j.find("\"lost_after_fallback\":0,"), std::string::npos) << j;
  for (const char* pause : {"\"cutover_pause_ms\":null", "\"fallback_pause_ms\":null"})
    EXPECT_EQ(j.find(pause), std::string::npos) << pause << "\n" << j;  // measured
  for (const char* stage : {"snapshot", "stream", "verify", "cutover", "pg-writes", "fallback",
                            "verify-again", "cutover-again", "finish", "stop"}) {
    EXPECT_NE(j.find("{\"name\":\"" + std::string(stage) + "\""), std::string::npos) << stage;
  }
  EXPECT_EQ(j.find("\"ok\":false"), std::string::npos) << j;  // no stage failed
}

}  // namespace
}  // namespace sqlift
