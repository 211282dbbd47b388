// Cutover and fallback killed (SIGKILL) at random points, at least 20 times in one run, while
// a writer follows the route. Whatever step a switch dies in, the tenant is on its old route or
// its new one (possibly fenced), SQLite and PostgreSQL never both take its writes, the next
// run of the same switch finishes or undoes it (never fenced for good), and at the end every
// acknowledged write is there exactly once and both sides are equal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>

#include "tests/testutil/switch_fixture.h"

namespace sqlift::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kKills = 20;

// acme's route on PostgreSQL as "side,fenced" ("no row" before any).
std::string PgRouteOfAcme(MigrationScenario& s) {
  return s.PgValue("SELECT side || ',' || fenced::text FROM sqlift.route WHERE tenant = 'acme'");
}

// Both sides open for acme: SQLite routes it to sqlite, unfenced, while PostgreSQL routes it to
// postgres, unfenced.
bool BothOpen(MigrationScenario& s) {
  auto lite = s.SqliteRoute("acme");
  const bool sqlite_open = lite.ok() && lite->side == "sqlite" && !lite->fenced;
  return sqlite_open && PgRouteOfAcme(s) == "postgres,false";
}

TEST_F(SwitchTest, SwitchesKilledAtRandomPointsLeaveOneSideOpenAndLoseNothing) {
  auto s = Scenario("switch_killed", MigrationLayout::kCommerce);
  ASSERT_TRUE(s);
  Writers all;
  RouteWriter* acme = Start(*s, all, "acme", "acme-1");
  ASSERT_TRUE(acme && acme->WaitAcked(kPhaseWrites, 20s)) << acme->error().ToString();
  const char* env = std::getenv("SQLIFT_SWITCH_KILL_SEED");
  const unsigned seed = env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10))
                            : static_cast<unsigned>(std::random_device{}());
  std::cout << "[ seed     ] " << seed << " (replay with SQLIFT_SWITCH_KILL_SEED)" << std::endl;
  std::mt19937 rng(seed);
  int kills = 0, finished = 0;
  // Kill points spread over a switch's whole run: up to the length of the last one that ended.
  auto typical = std::chrono::milliseconds(300);
  for (int round = 0; kills < kKills && round < 5 * kKills && !HasFailure(); ++round) {
    auto before = s->SqliteRoute("acme");
    ASSERT_TRUE(before.ok());
    const std::string command = before->side == "sqlite" ? "cutover" : "fallback";
    auto child = s->StartSwitch(command, "acme", {"--timeout", "20s"});
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    const auto delay =
        std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, typical.count())(rng));
    const auto started = std::chrono::steady_clock::now();
    auto ended = child->process.Wait(started + delay);
    ASSERT_TRUE(ended.ok()) << ended.status().ToString();
    kills += ended->timed_out ? 1 : 0;
    finished += ended->timed_out ? 0 : 1;
    if (!ended->timed_out) {
      typical = std::max(std::chrono::milliseconds(50),
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started));
    }
    EXPECT_FALSE(BothOpen(*s)) << command << " killed after " << delay.count() << " ms";
    auto after = s->SqliteRoute("acme");
    ASSERT_TRUE(after.ok());
    EXPECT_TRUE(after->epoch == before->epoch || after->epoch == before->epoch + 1)
        << command << ": epoch " << before->epoch << " -> " << after->epoch;
    if (!after->fenced) continue;
    // Interrupted while fenced: the same switch again finishes the move (or undoes it).
    auto again = s->StartSwitch(after->side == "sqlite" ? "cutover" : "fallback", "acme",
                                {"--timeout", "30s"});
    ASSERT_TRUE(again.ok());
    auto outcome = s->WaitSwitch(*again);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    EXPECT_TRUE(outcome->ok || outcome->undone) << outcome->out << outcome->err;
    auto settled = s->SqliteRoute("acme");
    ASSERT_TRUE(settled.ok());
    EXPECT_FALSE(settled->fenced) << "still fenced after the switch ran again: " << outcome->out;
    EXPECT_FALSE(BothOpen(*s));
  }
  std::cout << "[ kills    ] " << kills << " switches killed, " << finished
            << " finished before their kill" << std::endl;
  EXPECT_GE(kills, kKills);
  StopAll(all);
  auto last = s->SqliteRoute("acme");
  ASSERT_TRUE(last.ok());
  // The slot exists only while the tenant is on PostgreSQL (a fallback drops it).
  Drain(*s, /*reverse=*/last->side == "postgres");
  const WriteSide side = last->side == "sqlite" ? WriteSide::kSqlite : WriteSide::kPostgres;
  EXPECT_EQ(s->CheckWrites(*acme, side, /*exact=*/true), "");
  EXPECT_EQ(s->CompareAll(), "") << s->Logs();
}

}  // namespace
}  // namespace sqlift::testing
