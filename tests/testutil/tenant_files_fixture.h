// The fixture and checks the database-per-tenant end-to-end tests share
// (tests/tenant_files_e2e_test.cc, tests/tenant_files_bugs_e2e_test.cc): a TenantFilesScenario
// per test on the suite's PostgreSQL, and the checks of the booking writers' ids and rows.
//
// Thread safety: the test thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "tests/testutil/switch_fixture.h"
#include "tests/testutil/tenant_files_scenario.h"
#include "tools/demo/route_writer.h"

namespace sqlift::testing {

inline const std::vector<std::string> kTenantFiles = {"a", "b", "c"};

// A booking of tenant $1 written by an ordinary PostgreSQL session.
inline constexpr char kInsertBooking[] =
    "INSERT INTO public.bookings (tenant_id, room_id, customer_name, start_time, end_time) "
    "VALUES ($1, 1, 'ordinary', '2026-01-01 10:00:00+00', '2026-01-01 11:00:00+00') "
    "RETURNING id";

class TenantFilesTest : public SwitchTest {
 protected:
  // The suite's cluster, with room for many sources: each source's applier keeps a replication
  // origin, which holds one of PostgreSQL's max_replication_slots replication states until
  // the source is finished (FinishDropsTheReplicationOrigin) — many tests' sources live at once.
  static void SetUpTestSuite();
  // The files laid out, both daemons of every source started, the snapshots in (nullptr,
  // after a failure, when that did not work out within `timeout`).
  std::unique_ptr<TenantFilesScenario> Files(
      const std::string& name, const std::vector<std::string>& tenants,
      TenantFilesScenario::Start how = TenantFilesScenario::Start::kOneAfterAnother,
      std::chrono::seconds timeout = std::chrono::seconds(60));
};

// `sql` with $1 = tenant in an ordinary PostgreSQL session (the fences apply): the rows it
// changed, or the error.
[[nodiscard]] Result<int64_t> PgTenantWrite(const std::string& uri, const std::string& sql,
                                            const std::string& tenant);
// An update of `tenant`'s bookings and an insert of a setting of `tenant` by an ordinary
// session are both refused with SL002 (the tenant writes on SQLite).
void ExpectPgRefuses(const std::string& uri, const std::string& tenant);

// The booking ids `writers` got acknowledged on `side` after their write number `from_n`.
std::vector<int64_t> BookingIds(const std::vector<RouteWriter*>& writers, WriteSide side,
                                int64_t from_n = 0);
// The highest write number any of `writers` got acknowledged.
int64_t LastN(const std::vector<RouteWriter*>& writers);
// The ids found more than once among `ids`, as " 12 40"; "" when none.
std::string Duplicates(const std::vector<int64_t>& ids);
// "" when each of `writes` (of writer `writer`) is in the booking file at `path` with its
// values; else the first one that is not.
std::string MissingInFile(const std::string& path, const std::string& writer,
                          const std::vector<AckedWrite>& writes);
// One "[ writer ]" line per writer: its writes on each side, its refusals.
void PrintWriters(const Writers& all);

}  // namespace sqlift::testing
