// The orchestration of a verification against fakes: the held form's hand-off, the tenant
// scope, when the fast path is sound (over an in-memory log), and the exit code.
#include "tools/verify/verify_run.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/base/exit_code.h"
#include "state/change_log.h"
#include "tools/verify/applier_hold.h"
#include "tools/verify/verify_fast.h"
#include "tools/verify/verify_scope.h"

namespace sqlift {
namespace {

// The hold and the comparison's connection in memory; records each step.
class FakeHandOff : public SnapshotHandOff {
 public:
  explicit FakeHandOff(bool held) : held_(held) {}
  std::vector<std::string> steps;
  uint64_t applied = 5;
  Status advance_status;
  bool snapshot_lags = false;  // the snapshot sees an older applied_seq than the hold reached

  bool held() const override { return held_; }
  Status AdvanceTo(uint64_t seq, std::chrono::milliseconds) override {
    steps.push_back("advance " + std::to_string(seq));
    if (advance_status.ok()) applied = seq;
    return advance_status;
  }
  Status BeginSnapshot() override {
    steps.push_back("snapshot");
    snapshot_at_ = snapshot_lags ? applied - 1 : applied;
    return Status::OK();
  }
  Result<std::optional<uint64_t>> SnapshotApplied() override {
    steps.push_back("position");
    return std::optional<uint64_t>(snapshot_at_);
  }
  Status Release() override {
    steps.push_back("release");
    return Status::OK();
  }

 private:
  bool held_;
  uint64_t snapshot_at_ = 0;
};

TEST(VerifyHandOffTest, TheHeldFormAdvancesSnapshotsThenReleases) {
  FakeHandOff f(true);
  ASSERT_TRUE(TakeSnapshotAt(f, 9, std::chrono::seconds(1)).ok());
  EXPECT_EQ(f.steps, (std::vector<std::string>{"advance 9", "snapshot", "position", "release"}));
}

TEST(VerifyHandOffTest, TheOneShotFormOnlyTakesTheSnapshot) {
  FakeHandOff f(false);
  ASSERT_TRUE(TakeSnapshotAt(f, 9, std::chrono::seconds(1)).ok());
  EXPECT_EQ(f.steps, std::vector<std::string>{"snapshot"});
}

TEST(VerifyHandOffTest, AnApplierThatDoesNotArriveTakesNoSnapshot) {
  FakeHandOff f(true);
  f.advance_status = Status::Aborted("applied seq is 5 after 1000 ms");
  Status st = TakeSnapshotAt(f, 9, std::chrono::seconds(1));
  EXPECT_EQ(st.code(), Status::Code::kAborted);
  EXPECT_EQ(f.steps, std::vector<std::string>{"advance 9"});
}

TEST(VerifyHandOffTest, ASnapshotAtAnotherPositionIsRefusedAndKeepsTheHold) {
  FakeHandOff f(true);
  f.snapshot_lags = true;
  Status st = TakeSnapshotAt(f, 9, std::chrono::seconds(1));
  EXPECT_EQ(st.code(), Status::Code::kInternal);
  EXPECT_NE(st.message().find("not at seq 9 (8)"), std::string::npos) << st.ToString();
  EXPECT_EQ(f.steps, (std::vector<std::string>{"advance 9", "snapshot", "position"}));
}

RouteRow Route(std::string tenant, std::string_view side) {
  RouteRow r;
  r.tenant = std::move(tenant);
  r.side = std::string(side);
  return r;
}

TEST(VerifyScopeTest, TenantsRoutedToPostgresAreSkippedInTheHeldForm) {
  VerifySpec spec;
  spec.skip_tenants = {"given"};
  std::vector<RouteRow> routes = {Route("a", kSidePostgres), Route("b", kSideSqlite),
                                  Route("c", kSidePostgres)};
  Result<std::vector<std::string>> without = TenantsToSkip(spec, routes);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(*without, std::vector<std::string>{"given"});  // routes read only when asked
  spec.skip_moved_tenants = true;
  Result<std::vector<std::string>> skip = TenantsToSkip(spec, routes);
  ASSERT_TRUE(skip.ok()) << skip.status().ToString();
  EXPECT_EQ(*skip, (std::vector<std::string>{"given", "a", "c"}));
  EXPECT_EQ(TenantScopeText(spec, *skip), "without tenants routed to postgres: given, a, c");
}

TEST(VerifyScopeTest, ATenantOnPostgresCannotBeHeld) {
  VerifySpec spec;
  spec.skip_moved_tenants = true;
  spec.tenant = "a";
  Result<std::vector<std::string>> own = TenantsToSkip(spec, {Route("a", kSidePostgres)});
  EXPECT_EQ(own.status().code(), Status::Code::kFailedPrecondition);
  spec.tenant = "b";
  Result<std::vector<std::string>> whole = TenantsToSkip(spec, {Route("*", kSidePostgres)});
  EXPECT_EQ(whole.status().code(), Status::Code::kFailedPrecondition);
  // b has no route of its own: it follows "*", so it is on postgres too.
  EXPECT_NE(whole.status().message().find("tenant \"b\" is routed to postgres"), std::string::npos)
      << whole.status().ToString();
}

TEST(VerifyScopeTest, TheScopeSaysWhichRows) {
  VerifySpec spec;
  EXPECT_EQ(TenantScopeText(spec, {}), "");
  spec.constant_tenant = "acme";
  EXPECT_EQ(TenantScopeText(spec, {}), "tenant acme of this file");
  spec.tenant = "beta";
  EXPECT_EQ(TenantScopeText(spec, {"x"}), "tenant beta");
}

// orders(id, tenant_id, total) keyed by id; plans(id) without a tenant column.
TableSchema Table(std::string name, std::vector<std::string> columns) {
  TableSchema t;
  t.name = std::move(name);
  for (size_t i = 0; i < columns.size(); ++i) {
    ColumnSchema c;
    c.name = columns[i];
    c.pk_position = i == 0 ? 1 : 0;
    t.columns.push_back(c);
  }
  return t;
}

TablePlan Plan(const TableSchema& t) {
  TablePlan p;
  p.source_name = p.pg_name = t.name;
  for (const ColumnSchema& c : t.columns) {
    ColumnPlan cp;
    cp.source_name = c.name;
    cp.pg_name = "pg_" + c.name;
    p.columns.push_back(cp);
  }
  return p;
}

TEST(VerifyScopeTest, OneTenantFiltersTenantTablesAndLeavesSharedOnesOut) {
  TableSchema orders = Table("orders", {"id", "Tenant_ID", "total"});
  TableSchema plans = Table("plans", {"id", "name"});
  VerifySpec spec;
  spec.tenant_column = "tenant_id";
  spec.tenant = "acme";
  int col = 0;
  RowFilter pg;
  ASSERT_TRUE(TableTenantFilter(spec, {}, orders, Plan(orders), &col, &pg));
  EXPECT_EQ(col, 1);
  EXPECT_EQ(pg.column, "pg_Tenant_ID");
  EXPECT_EQ(pg.values, std::vector<std::string>{"acme"});
  EXPECT_FALSE(pg.exclude);
  EXPECT_FALSE(TableTenantFilter(spec, {}, plans, Plan(plans), &col, &pg));
}

TEST(VerifyScopeTest, SkippedTenantsAreExcludedAndSharedTablesComparedWhole) {
  TableSchema orders = Table("orders", {"id", "tenant_id"});
  TableSchema plans = Table("plans", {"id", "name"});
  VerifySpec spec;
  spec.tenant_column = "tenant_id";
  int col = 0;
  RowFilter pg;
  ASSERT_TRUE(TableTenantFilter(spec, {"a", "c"}, orders, Plan(orders), &col, &pg));
  EXPECT_EQ(col, 1);
  EXPECT_TRUE(pg.exclude);
  EXPECT_EQ(pg.values, (std::vector<std::string>{"a", "c"}));
  RowFilter whole;
  ASSERT_TRUE(TableTenantFilter(spec, {"a"}, plans, Plan(plans), &col, &whole));
  EXPECT_EQ(col, -1);
  EXPECT_TRUE(whole.column.empty());
  // Nothing skipped: every row, no filter.
  RowFilter none;
  ASSERT_TRUE(TableTenantFilter(spec, {}, orders, Plan(orders), &col, &none));
  EXPECT_EQ(col, -1);
  EXPECT_TRUE(none.column.empty());
}

TEST(VerifyScopeTest, AConstantTenantFiltersOnlyPostgres) {
  TableSchema orders = Table("orders", {"id", "total"});
  VerifySpec spec;
  spec.tenant_column = "tenant_id";
  spec.constant_tenant = "acme";
  int col = 0;
  RowFilter pg;
  ASSERT_TRUE(TableTenantFilter(spec, {}, orders, Plan(orders), &col, &pg));
  EXPECT_EQ(col, -1);
  EXPECT_EQ(pg.column, "tenant_id");
  EXPECT_EQ(pg.values, std::vector<std::string>{"acme"});
}

// The in-memory log the fast path reads: one record per seq.
class FastPathTest : public ::testing::Test {
 protected:
  void SetUp() override { log_ = state::NewMemChangeLog(); }

  wire::Transaction* Record(wire::ChangeBatch* b, uint64_t seq, wire::Transaction::Kind kind) {
    b->set_first_seq(seq);
    b->set_last_seq(seq);
    wire::Transaction* t = b->add_transactions();
    t->set_seq(seq);
    t->set_kind(kind);
    return t;
  }
  void Append(uint64_t seq, const wire::ChangeBatch& b) {
    ASSERT_TRUE(log_->Append({{seq, b.SerializeAsString()}}).ok());
  }
  // A change of orders' row `id`.
  void Change(uint64_t seq, int64_t id) {
    wire::ChangeBatch b;
    b.add_tables()->set_name("orders");
    wire::RowChange* c = Record(&b, seq, wire::Transaction::CHANGES)->add_changes();
    c->set_table_index(0);
    c->set_op(wire::RowChange::UPDATE);
    c->add_pk()->set_integer(id);
    Append(seq, b);
  }
  void RouteEvent(uint64_t seq, const std::string& tenant, wire::Route::Side side) {
    wire::ChangeBatch b;
    wire::Transaction* t = Record(&b, seq, wire::Transaction::ROUTE);
    t->mutable_route()->set_tenant(tenant);
    t->mutable_route()->set_side(side);
    Append(seq, b);
  }
  void Ddl(uint64_t seq) {
    wire::ChangeBatch b;
    Record(&b, seq, wire::Transaction::DDL);
    Append(seq, b);
  }
  std::optional<ChangedKeys> Changed(uint64_t since, uint64_t fence, size_t max_keys = 100) {
    why_.clear();
    Result<std::optional<ChangedKeys>> r = ChangedKeysInLog(
        *log_, VerifiedAt{7, since, {}}, KeyScan{"acme", "", fence, max_keys}, &why_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::nullopt;
  }

  std::unique_ptr<state::ChangeLog> log_;
  std::string why_;
};

TEST_F(FastPathTest, TheChangedKeysSinceTheRunEachOnce) {
  Change(1, 10);  // before the run: already compared
  Change(2, 11);
  Change(3, 12);
  Change(4, 11);
  Change(5, 13);  // after the fence
  std::optional<ChangedKeys> c = Changed(1, 4);
  ASSERT_TRUE(c) << why_;
  EXPECT_EQ(c->since_run, 7);
  EXPECT_EQ(c->since_seq, 1u);
  EXPECT_EQ(c->count, 2u);
  ASSERT_EQ(c->keys["orders"].size(), 2u);
  EXPECT_EQ(c->keys["orders"][0].values(0).integer(), 11);
  EXPECT_EQ(c->keys["orders"][1].values(0).integer(), 12);
}

TEST_F(FastPathTest, ARouteOfAnotherTenantOrBackToSqliteKeepsItSound) {
  Change(1, 10);
  RouteEvent(2, "beta", wire::Route::POSTGRES);
  RouteEvent(3, "acme", wire::Route::SQLITE);
  EXPECT_TRUE(Changed(0, 3)) << why_;
}

TEST_F(FastPathTest, FallsBackToFullWhenNotSound) {
  Change(1, 10);
  Ddl(2);
  EXPECT_FALSE(Changed(0, 2));
  EXPECT_NE(why_.find("a schema change after verify run 7 at seq 0"), std::string::npos) << why_;
  RouteEvent(3, "acme", wire::Route::POSTGRES);
  EXPECT_FALSE(Changed(2, 3));
  EXPECT_NE(why_.find("routed to postgres"), std::string::npos) << why_;
  RouteEvent(4, "*", wire::Route::POSTGRES);
  EXPECT_FALSE(Changed(3, 4));
  Change(5, 1);
  Change(6, 2);
  Change(7, 3);
  EXPECT_FALSE(Changed(4, 7, /*max_keys=*/2));
  EXPECT_NE(why_.find("too many changed keys"), std::string::npos) << why_;
  EXPECT_TRUE(Changed(4, 7, /*max_keys=*/3)) << why_;
}

TEST_F(FastPathTest, FallsBackToFullWhenTheLogNoLongerHoldsTheRange) {
  for (uint64_t seq = 1; seq <= 6; ++seq)
    Change(seq, static_cast<int64_t>(seq));
  ASSERT_TRUE(log_->TrimBefore(4).ok());
  EXPECT_FALSE(Changed(1, 6));
  EXPECT_NE(why_.find("no longer holds seq 2"), std::string::npos) << why_;
  EXPECT_TRUE(Changed(3, 6)) << why_;  // seq 4 on are still there
}

TEST_F(FastPathTest, AScanResumedFromAnEarlierOneReadsOnlyTheRestAndKeepsEachKeyOnce) {
  Change(1, 10);
  Change(2, 11);
  std::optional<ChangedKeys> before = Changed(0, 2);  // outside the fence
  ASSERT_TRUE(before) << why_;
  EXPECT_EQ(before->to_seq, 2u);
  Change(3, 11);  // again: still one key
  Change(4, 12);
  Result<std::optional<ChangedKeys>> rest =
      ChangedKeysInLog(*log_, VerifiedAt{7, 0, {}}, KeyScan{"acme", "", 4, 100}, &why_, &*before);
  ASSERT_TRUE(rest.ok() && *rest) << rest.status().ToString() << why_;
  EXPECT_EQ((*rest)->count, 3u);
  EXPECT_EQ((*rest)->to_seq, 4u);
  ASSERT_EQ((*rest)->keys["orders"].size(), 3u);
  EXPECT_EQ((*rest)->keys["orders"][2].values(0).integer(), 12);
  EXPECT_TRUE((*rest)->fates["orders"][1].existed_before);  // an UPDATE: it was there at P
}

TEST_F(FastPathTest, AKeyChangedAgainAfterASettleIsReadAgain) {
  Change(1, 10);
  Change(2, 11);
  std::optional<ChangedKeys> before = Changed(0, 2);
  ASSERT_TRUE(before) << why_;
  before->settled["orders"] = {true, true};  // both found equal after seq 2
  EXPECT_EQ(UnsettledCount(*before), 0u);
  EXPECT_TRUE(KeysToRead(*before, "orders").empty());
  Change(3, 11);  // changed again: its row has to be read inside the fence
  Change(4, 12);
  Result<std::optional<ChangedKeys>> rest =
      ChangedKeysInLog(*log_, VerifiedAt{7, 0, {}}, KeyScan{"acme", "", 4, 100}, &why_, &*before);
  ASSERT_TRUE(rest.ok() && *rest) << rest.status().ToString() << why_;
  EXPECT_EQ(UnsettledCount(**rest), 2u);
  std::vector<wire::Row> read = KeysToRead(**rest, "orders");
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].values(0).integer(), 11);
  EXPECT_EQ(read[1].values(0).integer(), 12);
}

TEST_F(FastPathTest, AFenceTheLogDoesNotHoldYetIsNotReadAsEmpty) {
  Change(1, 10);
  Result<std::optional<ChangedKeys>> r =
      ChangedKeysInLog(*log_, VerifiedAt{7, 0, {}}, KeyScan{"acme", "", 5, 100}, &why_);
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
}

TEST_F(FastPathTest, NothingChangedSinceARunAtTheFence) {
  EXPECT_TRUE(Changed(4, 4)) << why_;  // an empty log, and nothing to read
}

TEST(VerifyExitCodeTest, MatchedIsZeroAndADifferenceBlocks) {
  VerifyReport r;
  EXPECT_EQ(VerifyExitCode(r), kExitOk);
  r.tables.push_back(TableVerdict{"a", "a", TableStatus::kMatched, {}, {}, 0});
  EXPECT_EQ(VerifyExitCode(r), kExitOk);
  for (TableStatus s : {TableStatus::kDifferent, TableStatus::kMissing, TableStatus::kExtra}) {
    VerifyReport bad = r;
    bad.tables.push_back(TableVerdict{"b", "b", s, {}, {}, 0});
    EXPECT_EQ(VerifyExitCode(bad), kExitBlocked) << TableStatusName(s);
  }
}

}  // namespace
}  // namespace sqlift
