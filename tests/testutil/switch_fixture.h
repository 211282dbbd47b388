// The fixture and expectations the cutover/fallback end-to-end tests share
// (tests/switch_e2e_test.cc): a MigrationScenario per test on the suite's PostgreSQL, writers,
// and checks of a switch's report, the route, and the writers' progress.
//
// Thread safety: the test thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/testutil/migration_scenario.h"
#include "tools/demo/route_writer.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift::testing {

using Writers = std::vector<std::unique_ptr<RouteWriter>>;

// Writes each writer gets acknowledged in every phase (between two switches).
inline constexpr uint64_t kPhaseWrites = 100;

class SwitchTest : public PgSuiteTest {
 protected:
  // A scenario with both daemons started and the snapshot in (nullptr, after a failure, when
  // it could not be made). The whole-database layout writes once before the snapshot: an
  // applier that gets DDL events after a snapshot of AUTOINCREMENT tables fails (see the
  // DISABLED_ test in switch_e2e_test.cc).
  std::unique_ptr<MigrationScenario> Scenario(const std::string& name, MigrationLayout layout);
  // Starts a writer, kept in `all`; nullptr (after a failure) when it cannot start.
  static RouteWriter* Start(MigrationScenario& s, Writers& all, const std::string& tenant,
                            const std::string& name,
                            std::chrono::milliseconds pg_hold = std::chrono::milliseconds(0));
  // Prints the pause a switch reported beside the longest gap its tenant's writers saw.
  static void PrintPause(const std::string& what, const SwitchOutcome& o,
                         const std::vector<RouteWriter*>& writers);
};

// The switch exited 0 with ok; or exited 1, not ok, undone.
void ExpectSwitched(const Result<SwitchOutcome>& r, const std::string& what);
void ExpectUndone(const Result<SwitchOutcome>& r, const std::string& what);
// _sqlift_route holds (side, epoch, not fenced) for `tenant`.
void ExpectRoute(MigrationScenario& s, const std::string& tenant, const std::string& side,
                 int64_t epoch);
// Waits until each writer has `more` acknowledged writes on `side` beyond what it has now.
void ExpectWritesOn(const std::vector<RouteWriter*>& writers, WriteSide side, uint64_t more);
// No write of `writers` acknowledged on SQLite at a seq in [from, to].
void ExpectNoSqliteWritesBetween(const std::vector<RouteWriter*>& writers, uint64_t from,
                                 uint64_t to, const std::string& what);
// Stops every writer; each must have run without an unexpected error.
void StopAll(Writers& writers);
// Forward (applied_seq >= the outbox) and, with `reverse`, the reverse path drained.
void Drain(MigrationScenario& s, bool reverse);

}  // namespace sqlift::testing
