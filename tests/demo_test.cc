// `sqlift demo --json` end to end at a small size: every stage that exists succeeds, the
// summary has the keys the README promises, and no acknowledged write is lost.
#include <gtest/gtest.h>

#include "tests/testutil/subprocess.h"

namespace sqlift {
namespace {

TEST(DemoTest, JsonSummaryShowsNoLostWrites) {
  auto r = testing::RunProcess(
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
  EXPECT_NE(j.find("{\"name\":\"snapshot\""), std::string::npos);
  EXPECT_NE(j.find("{\"name\":\"stream\""), std::string::npos);
}

}  // namespace
}  // namespace sqlift
