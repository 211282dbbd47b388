// Shared fixture and expectations of the switch tests (see switch_fixture.h).
#include "tests/testutil/switch_fixture.h"

#include <gtest/gtest.h>

#include <iostream>

namespace sqlift::testing {

using namespace std::chrono_literals;

std::unique_ptr<MigrationScenario> SwitchTest::Scenario(const std::string& name,
                                                        MigrationLayout layout) {
  auto s = MigrationScenario::Create(
      *pg_, name, layout,
      /*write_before_snapshot=*/layout == MigrationLayout::kWholeDatabase);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return nullptr;
  Status st = (*s)->StartReplication(60s);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return st.ok() ? std::move(s).value() : nullptr;
}

RouteWriter* SwitchTest::Start(MigrationScenario& s, Writers& all, const std::string& tenant,
                               const std::string& name, std::chrono::milliseconds pg_hold) {
  auto w = s.StartWriter(tenant, name, pg_hold);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  if (!w.ok()) return nullptr;
  all.push_back(std::move(w).value());
  return all.back().get();
}

void SwitchTest::PrintPause(const std::string& what, const SwitchOutcome& o,
                            const std::vector<RouteWriter*>& writers) {
  double gap = 0;
  for (RouteWriter* w : writers)
    gap = std::max(gap, w->stats().max_gap_ms);
  std::cout << "[ pause    ] " << what << ": pause_ms " << o.pause_ms
            << ", longest gap between acknowledged writes " << gap << " ms" << std::endl;
}

void ExpectSwitched(const Result<SwitchOutcome>& r, const std::string& what) {
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0) << what << "\n" << r->out << r->err;
  EXPECT_TRUE(r->ok) << what << ": " << r->reason;
  EXPECT_GE(r->pause_ms, 0) << what;
}

void ExpectUndone(const Result<SwitchOutcome>& r, const std::string& what) {
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 1) << what << "\n" << r->out << r->err;
  EXPECT_FALSE(r->ok) << what;
  EXPECT_TRUE(r->undone) << what << ": " << r->out;
}

void ExpectRoute(MigrationScenario& s, const std::string& tenant, const std::string& side,
                 int64_t epoch) {
  auto route = s.SqliteRoute(tenant);
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  EXPECT_EQ(route->side, side) << tenant;
  EXPECT_EQ(route->epoch, epoch) << tenant;
  EXPECT_FALSE(route->fenced) << tenant;
}

void ExpectWritesOn(const std::vector<RouteWriter*>& writers, WriteSide side, uint64_t more) {
  std::vector<uint64_t> base;
  for (RouteWriter* w : writers)
    base.push_back(w->acked_on(side));
  for (size_t i = 0; i < writers.size(); ++i) {
    RouteWriter* w = writers[i];
    bool ok = MigrationScenario::WaitFor([&] { return w->acked_on(side) >= base[i] + more; }, 20s);
    EXPECT_TRUE(ok) << w->options().writer << " wrote " << w->acked_on(side) - base[i] << " on "
                    << (side == WriteSide::kSqlite ? "SQLite" : "PostgreSQL") << "; "
                    << w->error().ToString();
  }
}

void ExpectNoSqliteWritesBetween(const std::vector<RouteWriter*>& writers, uint64_t from,
                                 uint64_t to, const std::string& what) {
  EXPECT_EQ(SqliteWritesBetween(writers, from, to), "")
      << what << ": SQLite took writes inside the fence from seq " << from;
}

void StopAll(Writers& writers) {
  for (auto& w : writers) {
    Status st = w->Stop();
    EXPECT_TRUE(st.ok()) << w->options().writer << ": " << st.ToString();
  }
}

void Drain(MigrationScenario& s, bool reverse) {
  Status fwd = s.WaitForwardDrained(60s);
  EXPECT_TRUE(fwd.ok()) << fwd.ToString();
  if (!reverse) return;
  Status rev = s.WaitReverseDrained(60s);
  EXPECT_TRUE(rev.ok()) << rev.ToString();
}

}  // namespace sqlift::testing
