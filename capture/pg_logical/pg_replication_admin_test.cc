// Replication object names, without a server (the admin SQL itself is tested against
// PostgreSQL in pg_logical_test.cc).
#include "capture/pg_logical/pg_replication_admin.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace sqlift {
namespace {

using Strings = std::vector<std::string>;

TEST(SlotNameForTest, StableUniqueAndValid) {
  EXPECT_EQ(SlotNameFor("app"), "sqlift_app");
  EXPECT_EQ(SlotNameFor("app_2"), "sqlift_app_2");
  const std::string long_a(100, 'a');
  const Strings names = {SlotNameFor("App"),  SlotNameFor("tenant-1"),   SlotNameFor("tenant_1"),
                         SlotNameFor(long_a), SlotNameFor(long_a + "b"), SlotNameFor("app")};
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  EXPECT_EQ(SlotNameFor("App"), SlotNameFor("App"));
  EXPECT_EQ(SlotNameFor("App").substr(0, 11), "sqlift_app_");
  for (const std::string& n : names) {
    EXPECT_LE(n.size(), 63u) << n;
    EXPECT_EQ(n.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"), std::string::npos);
  }
  EXPECT_EQ(SlotNameFor(long_a).size(), 63u);
}

}  // namespace
}  // namespace sqlift
