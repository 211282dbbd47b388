// The reverse applier's row rules: insert (an upsert), update (changed columns, key changes,
// unchanged TOAST values), delete, exactly-once by position, origins skipped, refusals
// (truncate, unknown relations, missing rows), atomicity, quoting, and no capture of its own
// writes. Tenants and routes: reverse_tenant_test.cc; value conversion: pg_text_value_test.cc.
#include "apply/reverse/reverse_applier.h"

#include <gtest/gtest.h>

#include "apply/reverse/pg_text_value.h"
#include "apply/reverse/testing/reverse_fixture.h"

namespace sqlift {
namespace {

using pgchange::Column;

class ReverseApplierTest : public testing::ReverseFixture {
 protected:
  void SetUp() override {
    ReverseFixture::SetUp();
    Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, body TEXT, qty INTEGER)");
    SetRoute("*", "postgres", 3);
    items_ = Rel(16400, "items",
                 {{"id", pgoid::kInt8, -1, true},
                  {"name", pgoid::kText, -1, false},
                  {"body", pgoid::kText, -1, false},
                  {"qty", pgoid::kInt4, -1, false}});
    ReverseApplierOptions options;
    options.tables["items"] = {"items", {}, {}, false, {}};
    applier_ = OpenApplier(options);
    ASSERT_NE(applier_, nullptr);
  }

  Result<ReverseApplyStats> Apply(const pgchange::Transaction& txn) { return applier_->Apply(txn); }
  void MustApply(const pgchange::Transaction& txn) {
    auto stats = Apply(txn);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    ASSERT_FALSE(stats->skipped);
  }
  pgchange::Lsn Position() { return std::move(applier_->Position()).value(); }

  RelPtr items_;
  std::unique_ptr<ReverseApplier> applier_;
};

TEST_F(ReverseApplierTest, InsertUpdateDeleteAndPosition) {
  EXPECT_EQ(Position(), 0u);
  auto stats = Apply(Txn(100, {Insert(items_, {T("1"), T("apple"), T("red"), T("3")}),
                               Insert(items_, {T("2"), T("pear"), T("green"), T("5")})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_FALSE(stats->skipped);
  EXPECT_EQ(stats->rows, 2);
  EXPECT_EQ(Position(), 100u);
  MustApply(Txn(200, {Update(items_, {}, {T("1"), T("apple"), T("yellow"), T("4")}),
                      Delete(items_, {T("2"), N(), N(), N()})}));
  EXPECT_EQ(Rows("SELECT id, name, body, qty FROM items"), "1|apple|yellow|4\n");
  EXPECT_EQ(Rows("SELECT typeof(id), typeof(qty) FROM items"), "integer|integer\n");
  EXPECT_EQ(Rows("SELECT typeof(value), value FROM _sqlift_state WHERE key = 'reverse_lsn'"),
            "integer|200\n");
}

TEST_F(ReverseApplierTest, KeyChangeFindsTheRowByItsOldKey) {
  MustApply(Txn(100, {Insert(items_, {T("1"), T("apple"), T("red"), T("3")})}));
  MustApply(
      Txn(200, {Update(items_, {T("1"), N(), N(), N()}, {T("10"), T("apple"), T("red"), T("3")})}));
  EXPECT_EQ(Rows("SELECT id, name FROM items"), "10|apple\n");
}

TEST_F(ReverseApplierTest, InsertOfAnExistingRowIsAnUpsert) {
  Exec("INSERT INTO items VALUES (1, 'old', 'old', 1)");
  MustApply(Txn(100, {Insert(items_, {T("1"), T("new"), N(), T("2")})}));
  EXPECT_EQ(Rows("SELECT id, name, body, qty FROM items"), "1|new|NULL|2\n");
}

TEST_F(ReverseApplierTest, ReplayAtOrBelowThePositionIsSkipped) {
  MustApply(Txn(100, {Insert(items_, {T("1"), T("apple"), N(), T("1")})}));
  Exec("UPDATE items SET name = 'local'");  // a replay must not overwrite this
  for (pgchange::Lsn lsn : {100u, 60u}) {
    auto stats = Apply(Txn(lsn, {Insert(items_, {T("1"), T("apple"), N(), T("1")}),
                                 Insert(items_, {T("2"), T("again"), N(), T("1")})}));
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_TRUE(stats->skipped);
    EXPECT_EQ(stats->rows, 0);
  }
  EXPECT_EQ(Rows("SELECT id, name FROM items"), "1|local\n");
  EXPECT_EQ(Position(), 100u);
  // A second applier (a restart) reads the same position.
  ReverseApplierOptions options;
  options.tables["items"] = {"items", {}, {}, false, {}};
  auto restarted = OpenApplier(options);
  ASSERT_NE(restarted, nullptr);
  EXPECT_EQ(std::move(restarted->Position()).value(), 100u);
}

TEST_F(ReverseApplierTest, ForwardApplierOriginIsSkippedWithoutWriting) {
  auto stats = Apply(Txn(100, {Insert(items_, {T("1"), T("apple"), N(), T("1")})}, "sqlift_app"));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(stats->skipped);
  EXPECT_EQ(Count("items"), 0);
  EXPECT_EQ(Position(), 0u);
  // Another origin is an ordinary writer.
  MustApply(Txn(200, {Insert(items_, {T("1"), T("apple"), N(), T("1")})}, "pg_16389"));
  EXPECT_EQ(Count("items"), 1);
}

TEST_F(ReverseApplierTest, UnchangedToastValuesAreLeftAsTheyAre) {
  std::string big(10000, 'x');
  MustApply(Txn(100, {Insert(items_, {T("1"), T("apple"), T(big), T("1")})}));
  MustApply(Txn(200, {Update(items_, {}, {T("1"), T("pear"), U(), T("2")})}));
  EXPECT_EQ(Rows("SELECT name, length(body), qty FROM items"), "pear|10000|2\n");
}

TEST_F(ReverseApplierTest, NullsInsertedAndUpdated) {
  MustApply(Txn(100, {Insert(items_, {T("1"), N(), T("b"), N()})}));
  EXPECT_EQ(Rows("SELECT typeof(name), typeof(body), typeof(qty) FROM items"), "null|text|null\n");
  MustApply(Txn(200, {Update(items_, {}, {T("1"), T("a"), N(), N()})}));
  EXPECT_EQ(Rows("SELECT quote(name), quote(body), quote(qty) FROM items"), "'a'|NULL|NULL\n");
}

TEST_F(ReverseApplierTest, TextWithQuotesNewlinesAndEmojiIsExact) {
  const std::string text = "it's \"quoted\"\nline two\t\\ 🚀 ünï'); DROP TABLE items; --";
  MustApply(Txn(100, {Insert(items_, {T("1"), T(text), N(), N()})}));
  EXPECT_EQ(Rows("SELECT name FROM items"), text + "\n");
  EXPECT_EQ(Count("items"), 1);
}

TEST_F(ReverseApplierTest, ReservedAndHostileIdentifiersAreQuoted) {
  Exec("CREATE TABLE x (a)");
  Exec("CREATE TABLE \"user\" (id INTEGER PRIMARY KEY, \"\"\"; DROP TABLE x; --\" TEXT)");
  auto user =
      Rel(16500, "user",
          {{"id", pgoid::kInt8, -1, true}, {"\"; DROP TABLE x; --", pgoid::kText, -1, false}});
  ReverseApplierOptions options;
  options.tables["user"] = {"user", {}, {}, false, {}};
  auto applier = OpenApplier(options);
  ASSERT_NE(applier, nullptr);
  for (auto& txn : {Txn(100, {Insert(user, {T("1"), T("a")}), Insert(user, {T("2"), T("b")})}),
                    Txn(200, {Update(user, {}, {T("1"), T("c")}), Delete(user, {T("2"), N()})})}) {
    auto stats = applier->Apply(txn);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  }
  EXPECT_EQ(Rows("SELECT id, \"\"\"; DROP TABLE x; --\" FROM \"user\""), "1|c\n");
  EXPECT_EQ(Rows("SELECT name FROM sqlite_schema WHERE name = 'x'"), "x\n");
}

TEST_F(ReverseApplierTest, RenamedColumnsFollowTheMapping) {
  Exec("CREATE TABLE people (pid INTEGER PRIMARY KEY, full_name TEXT)");
  auto people =
      Rel(16600, "persons", {{"id", pgoid::kInt8, -1, true}, {"name", pgoid::kText, -1, false}});
  ReverseApplierOptions options;
  options.tables["persons"] = {"people", {{"id", "pid"}, {"name", "full_name"}}, {}, false, {}};
  auto applier = OpenApplier(options);
  ASSERT_NE(applier, nullptr);
  auto stats = applier->Apply(Txn(100, {Insert(people, {T("7"), T("Ada")})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(Rows("SELECT pid, full_name FROM people"), "7|Ada\n");
}

TEST_F(ReverseApplierTest, GeneratedSqliteColumnsAreLeftToSqlite) {
  Exec(
      "CREATE TABLE boxes (id INTEGER PRIMARY KEY, w INTEGER, "
      "area INTEGER GENERATED ALWAYS AS (w * w) VIRTUAL)");
  auto boxes = Rel(16800, "boxes",
                   {{"id", pgoid::kInt8, -1, true},
                    {"w", pgoid::kInt8, -1, false},
                    {"area", pgoid::kInt8, -1, false}});
  ReverseApplierOptions options;
  options.tables["boxes"] = {"boxes", {}, {}, false, {}};
  auto applier = OpenApplier(options);
  ASSERT_NE(applier, nullptr);
  auto stats = applier->Apply(Txn(100, {Insert(boxes, {T("1"), T("3"), T("9")}),
                                        Update(boxes, {}, {T("1"), T("4"), T("16")})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(Rows("SELECT id, w, area FROM boxes"), "1|4|16\n");
}

TEST_F(ReverseApplierTest, DeleteOfAMissingRowIsFine) {
  auto stats = Apply(Txn(100, {Delete(items_, {T("42"), N(), N(), N()})}));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(Position(), 100u);
}

TEST_F(ReverseApplierTest, UpdateOfAMissingRowIsAnErrorAndWritesNothing) {
  auto stats = Apply(Txn(100, {Insert(items_, {T("1"), T("a"), N(), N()}),
                               Update(items_, {}, {T("42"), T("b"), N(), N()})}));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(stats.status().message().find("public.items key (id)=(42)"), std::string::npos)
      << stats.status().ToString();
  EXPECT_NE(stats.status().message().find("diverged"), std::string::npos);
  EXPECT_EQ(Count("items"), 0);
  EXPECT_EQ(Position(), 0u);
}

TEST_F(ReverseApplierTest, TruncateIsRefused) {
  MustApply(Txn(100, {Insert(items_, {T("1"), T("a"), N(), N()})}));
  Change truncate{Change::Op::kTruncate, items_, {}, {}};
  auto stats = Apply(Txn(200, {truncate}));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(stats.status().message().find("truncated public.items: refused"), std::string::npos)
      << stats.status().ToString();
  EXPECT_EQ(Count("items"), 1);
  EXPECT_EQ(Position(), 100u);
}

TEST_F(ReverseApplierTest, UnknownRelationsAreRefused) {
  struct Case {
    RelPtr rel;
    std::string says;
  } cases[] = {
      {Rel(17000, "audit", {{"id", pgoid::kInt8, -1, true}}), "public.audit: no mapping"},
      {Rel(17001, "items", {{"id", pgoid::kInt8, -1, true}}, "sqlift"),
       "sqlift.items: outside schema public"},
      {Rel(16400, "items", {{"id", pgoid::kInt8, -1, true}, {"colour", pgoid::kText, -1, false}}),
       "column colour has no SQLite column colour in table items"},
  };
  for (const Case& c : cases) {
    std::vector<Datum> row(c.rel->columns.size(), T("1"));
    auto stats = Apply(Txn(100, {Insert(items_, {T("1"), N(), N(), N()}), Insert(c.rel, row)}));
    ASSERT_FALSE(stats.ok()) << c.says;
    EXPECT_EQ(stats.status().code(), Status::Code::kFailedPrecondition);
    EXPECT_NE(stats.status().message().find(c.says), std::string::npos)
        << stats.status().ToString();
    EXPECT_EQ(Count("items"), 0);
  }
  EXPECT_EQ(Position(), 0u);
}

TEST_F(ReverseApplierTest, FailureMidTransactionLeavesNeitherRowsNorPosition) {
  Exec("CREATE TABLE flags (id INTEGER PRIMARY KEY, on_off BOOLEAN)");
  auto flags =
      Rel(16700, "flags", {{"id", pgoid::kInt8, -1, true}, {"on_off", pgoid::kBool, -1, false}});
  ReverseApplierOptions options;
  options.tables["items"] = {"items", {}, {}, false, {}};
  options.tables["flags"] = {"flags", {}, {}, false, {}};
  auto applier = OpenApplier(options);
  ASSERT_NE(applier, nullptr);
  auto stats =
      applier->Apply(Txn(100, {Insert(items_, {T("1"), T("a"), N(), N()}),
                               Insert(flags, {T("1"), T("t")}), Insert(flags, {T("2"), T("x")})}));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(
      stats.status().message().find("table public.flags column on_off: invalid bool value 'x'"),
      std::string::npos)
      << stats.status().ToString();
  EXPECT_EQ(Count("items") + Count("flags"), 0);
  EXPECT_EQ(std::move(applier->Position()).value(), 0u);
  // The applier is still usable: the next transaction applies.
  auto next = applier->Apply(Txn(200, {Insert(flags, {T("2"), T("f")})}));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(Rows("SELECT id, typeof(on_off), on_off FROM flags"), "2|integer|0\n");
}

TEST_F(ReverseApplierTest, WritesAreNotCapturedIntoTheOutbox) {
  // The applier opened its own connection: nothing it writes reaches the outbox.
  MustApply(Txn(100, {Insert(items_, {T("1"), T("a"), N(), N()})}));
  MustApply(Txn(200, {Update(items_, {}, {T("1"), T("b"), N(), N()})}));
  MustApply(Txn(300, {Delete(items_, {T("1"), N(), N(), N()})}));
  EXPECT_EQ(Count("_sqlift_outbox"), 0);
}

TEST_F(ReverseApplierTest, SchemaChangeIsPickedUp) {
  MustApply(Txn(100, {Insert(items_, {T("1"), T("a"), N(), N()})}));
  Exec("ALTER TABLE items ADD COLUMN colour TEXT");
  auto wider = Rel(16400, "items",
                   {{"id", pgoid::kInt8, -1, true},
                    {"name", pgoid::kText, -1, false},
                    {"body", pgoid::kText, -1, false},
                    {"qty", pgoid::kInt4, -1, false},
                    {"colour", pgoid::kText, -1, false}});
  MustApply(Txn(200, {Insert(wider, {T("2"), T("b"), N(), N(), T("blue")})}));
  EXPECT_EQ(Rows("SELECT id, quote(colour) FROM items ORDER BY id"), "1|NULL\n2|'blue'\n");
}

TEST_F(ReverseApplierTest, BusyDatabaseIsRetryableAndWritesNothing) {
  ReverseApplierOptions options;
  options.tables["items"] = {"items", {}, {}, false, {}};
  options.busy_timeout = std::chrono::milliseconds(10);
  auto applier = OpenApplier(options);
  ASSERT_NE(applier, nullptr);
  Exec("BEGIN IMMEDIATE");
  auto stats = applier->Apply(Txn(100, {Insert(items_, {T("1"), T("a"), N(), N()})}));
  Exec("COMMIT");
  ASSERT_FALSE(stats.ok());
  EXPECT_TRUE(stats.status().Retryable()) << stats.status().ToString();
  EXPECT_EQ(Count("items"), 0);
  auto again = applier->Apply(Txn(100, {Insert(items_, {T("1"), T("a"), N(), N()})}));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Count("items"), 1);
}

TEST_F(ReverseApplierTest, OpenChecksTablesAndOptions) {
  ReverseApplierOptions missing;
  missing.tables["items"] = {"nosuch", {}, {}, false, {}};
  auto r = ReverseApplier::Open(path_, missing);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nosuch, which does not exist"), std::string::npos)
      << r.status().ToString();

  ReverseApplierOptions constant;
  constant.constant_tenant = "acme";
  EXPECT_EQ(ReverseApplier::Open(path_, constant).status().code(), Status::Code::kInvalidArgument);

  Exec("DROP TABLE _sqlift_route");
  auto no_route = ReverseApplier::Open(path_, ReverseApplierOptions{});
  ASSERT_FALSE(no_route.ok());
  EXPECT_EQ(no_route.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(no_route.status().message().find("sqlift init"), std::string::npos);
}

}  // namespace
}  // namespace sqlift
