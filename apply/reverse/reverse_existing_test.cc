// The reverse applier against an existing target schema (the application's own tables): names
// mapped back, the application's columns and tables skipped, [target.constants] as the test of
// whose row it is, the replica identity checked; and, in every mode, an UPDATE that leaves an
// instant as it was keeps the representation the application stored, and a new instant is
// stored in the unit the table's newest row uses.
#include <gtest/gtest.h>

#include "apply/reverse/pg_text_value.h"
#include "apply/reverse/reverse_applier.h"
#include "apply/reverse/testing/reverse_fixture.h"

namespace sqlift {
namespace {

constexpr const char* kMine = "8f14e45f-ceea-467e-a8f9-6a2f1f9d2f3c";
constexpr const char* kTheirs = "0b7e2c1a-4d3f-4e5a-9b8c-7d6e5f4a3b2c";

class ReverseExistingTest : public testing::ReverseFixture {
 protected:
  void SetUp() override {
    ReverseFixture::SetUp();
    Exec("CREATE TABLE visit (id INTEGER PRIMARY KEY, leadid TEXT NOT NULL, at DATETIME)");
    SetRoute("*", "postgres", 1);
    // Prisma's table: a serial key, the tenant column, timestamp(3), a column of its own.
    visit_ = Rel(16500, "Visit",
                 {{"id", pgoid::kInt4, -1, true},
                  {"tenant_id", pgoid::kUuid, -1, false},
                  {"leadId", pgoid::kText, -1, false},
                  {"at", pgoid::kTimestamp, 3, false},
                  {"source", pgoid::kText, -1, false}});
    audit_ = Rel(16501, "Audit", {{"leadId", pgoid::kText, -1, false}});
    ReverseApplierOptions o;
    ReverseTableMap& m = o.tables["Visit"];
    m.sqlite_table = "visit";
    m.columns = {{"id", "id"}, {"leadId", "leadid"}, {"at", "at"}};
    m.only_listed = true;
    m.constants["tenant_id"] = kMine;
    o.skip_unmapped = true;
    applier_ = OpenApplier(o);
    ASSERT_NE(applier_, nullptr);
  }

  ReverseApplyStats MustApply(const pgchange::Transaction& txn) {
    auto stats = applier_->Apply(txn);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return stats.ok() ? *stats : ReverseApplyStats{};
  }

  RelPtr visit_, audit_;
  std::unique_ptr<ReverseApplier> applier_;
};

TEST_F(ReverseExistingTest, OnlyThisSourcesRowsOfMappedTablesReachSqlite) {
  ReverseApplyStats s = MustApply(
      Txn(100, {Insert(visit_, {T("1"), T(kMine), T("l1"), T("2025-12-06 00:00:00"), T("web")}),
                Insert(visit_, {T("2"), T(kTheirs), T("l9"), T("2025-12-06 00:00:00"), N()}),
                Insert(audit_, {T("l1")})}));
  EXPECT_EQ(s.rows, 1);
  EXPECT_EQ(s.rows_other_tenants, 1);
  EXPECT_EQ(s.rows_unmapped, 1);
  EXPECT_EQ(Rows("SELECT id, leadid, at FROM visit"), "1|l1|2025-12-06 00:00:00\n");
  // pgoutput's old tuple of a delete holds the replica identity only: found by its key.
  MustApply(Txn(200, {Delete(visit_, {T("1"), N(), N(), N(), N()})}));
  EXPECT_EQ(Count("visit"), 0);
}

TEST_F(ReverseExistingTest, ARowOfThisSourceMovedToAnotherIsRefused) {
  MustApply(Txn(100, {Insert(visit_, {T("1"), T(kMine), T("l1"), N(), N()})}));
  auto moved =
      applier_->Apply(Txn(200, {Update(visit_, {}, {T("1"), T(kTheirs), T("l1"), N(), N()})}));
  ASSERT_FALSE(moved.ok());
  EXPECT_NE(moved.status().message().find("cannot move between sources"), std::string::npos)
      << moved.status().ToString();
  EXPECT_EQ(Rows("SELECT id, leadid FROM visit"), "1|l1\n");
}

TEST_F(ReverseExistingTest, AnUnchangedInstantKeepsTheApplicationsRepresentation) {
  Exec("INSERT INTO visit VALUES (1, 'l1', 1764979200000), (2, 'l2', '2025-12-06T00:05:00.0004Z')");
  MustApply(
      Txn(100, {Update(visit_, {}, {T("1"), T(kMine), T("l3"), T("2025-12-06 00:00:00"), N()}),
                Update(visit_, {}, {T("2"), T(kMine), T("l4"), T("2025-12-06 00:05:00"), N()})}));
  // Integer milliseconds, and ISO text finer than timestamp(3) keeps, stay as stored.
  EXPECT_EQ(Rows("SELECT id, leadid, typeof(at), at FROM visit ORDER BY id"),
            "1|l3|integer|1764979200000\n2|l4|text|2025-12-06T00:05:00.0004Z\n");
  MustApply(
      Txn(200, {Update(visit_, {}, {T("1"), T(kMine), T("l3"), T("2025-12-06 00:00:01.5"), N()})}));
  EXPECT_EQ(Rows("SELECT typeof(at), at FROM visit WHERE id = 1"), "text|2025-12-06 00:00:01.5\n");
}

// Without a declared unit, a new instant takes the unit of the table's newest stored time
// when the number reads back in it; otherwise (1971 in milliseconds reads as seconds, or
// 'infinity') ISO text.
TEST_F(ReverseExistingTest, NewInstantsFollowTheUnitTheTableStores) {
  Exec("INSERT INTO visit VALUES (1, 'l1', '2025-12-05 00:00:00'), (2, 'l2', 1764979200000)");
  MustApply(
      Txn(100, {Insert(visit_, {T("3"), T(kMine), T("l3"), T("2025-12-07 10:00:00.5"), N()}),
                Insert(visit_, {T("4"), T(kMine), T("l4"), T("1971-01-01 00:00:00"), N()}),
                Insert(visit_, {T("5"), T(kMine), T("l5"), T("infinity"), N()}),
                Update(visit_, {}, {T("1"), T(kMine), T("l1"), T("2025-12-05 00:00:01"), N()})}));
  EXPECT_EQ(Rows("SELECT id, typeof(at), at FROM visit ORDER BY id"),
            "1|integer|1764892801000\n2|integer|1764979200000\n3|integer|1765101600500\n"
            "4|text|1971-01-01 00:00:00\n5|text|infinity\n");
}

TEST_F(ReverseExistingTest, AKeyOutsideTheReplicaIdentityIsRefused) {
  // Keyed by its own uuid: SQLite's key is an ordinary column to PostgreSQL's replica identity.
  RelPtr by_uuid = Rel(16502, "Visit",
                       {{"id", pgoid::kInt4, -1, false},
                        {"tenant_id", pgoid::kUuid, -1, false},
                        {"leadId", pgoid::kText, -1, false},
                        {"at", pgoid::kTimestamp, 3, false},
                        {"source", pgoid::kText, -1, true}});
  auto st = applier_->Apply(Txn(100, {Insert(by_uuid, {T("1"), T(kMine), T("l1"), N(), T("x")})}));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("REPLICA IDENTITY USING INDEX"), std::string::npos)
      << st.status().ToString();
  EXPECT_EQ(Count("visit"), 0);
}

}  // namespace
}  // namespace sqlift
