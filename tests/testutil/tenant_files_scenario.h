// TenantFilesScenario: database-per-tenant driven end to end (docs/design.md, tenants):
// several SQLite files, one per tenant, each its own source (a MigrationScenario of layout
// kTenantFile: its own directory, app.db, sqlift.toml with [source] tenant, state, ports and
// daemons), all replicated into one PostgreSQL database of the suite's throwaway cluster, where
// every table carries the constant column tenant_id.
//
// Each file has the booking schema (testdata/booking_schema.sql, AUTOINCREMENT ids, so
// every file has ids 1..N) and different seed data (counts, names, prices depend on the
// tenant's position; the same user emails and setting keys in every file, which PostgreSQL's
// unique constraints take because tenant_id leads them), plus writer_counters(writer, n) with
// rows "<tenant>-0" (written through a recorder right after init, so the snapshot's position is
// past it) to "<tenant>-3". Source ids are "<name>_<tenant>", so slots differ per file.
//
// Ownership: owns its sources (and through them their processes and directories).
// Thread safety: one test thread.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "tests/testutil/migration_scenario.h"
#include "tools/sandbox/pg_sandbox.h"

namespace sqlift::testing {

class TenantFilesScenario {
 public:
  // A new PostgreSQL database `name`; per tenant a file laid out, seeded and `sqlift init`ed.
  [[nodiscard]] static Result<std::unique_ptr<TenantFilesScenario>> Create(
      PgSandbox& pg, const std::string& name, const std::vector<std::string>& tenants);

  // Every source's applier and agent started; waits until each applier has caught up with its
  // file (the snapshots are in). One source after another, each once the previous one's
  // snapshot is in; or all at once (first snapshots into the same new tables at the same time:
  // FirstSnapshotsAtOnce).
  enum class Start { kOneAfterAnother, kAllAtOnce };
  [[nodiscard]] Status StartReplication(std::chrono::seconds timeout,
                                        Start how = Start::kOneAfterAnother);
  // Until every source's applier has caught up with its file's outbox now.
  [[nodiscard]] Status WaitForwardDrained(std::chrono::seconds timeout);

  MigrationScenario& source(const std::string& tenant);
  const std::vector<std::string>& tenants() const { return tenants_; }
  const std::string& uri() const { return uri_; }

  // "" when every table of `tenant`'s file equals PostgreSQL's rows whose tenant_id is
  // `tenant` (tenant_id left out), read independently (table_compare.h); else the differences.
  std::string CompareTenant(const std::string& tenant);
  // The largest booking id of `tenant`'s file, and of PostgreSQL's bookings of every tenant
  // (-1 when it cannot be read).
  int64_t MaxSqliteBookingId(const std::string& tenant);
  int64_t MaxPgBookingId();
  // Every source's logs, for failure messages.
  std::string Logs(size_t bytes = 2000) const;

  static constexpr char kTenantColumn[] = "tenant_id";

 private:
  TenantFilesScenario() = default;
  [[nodiscard]] Status AddSource(PgSandbox& pg, const std::string& name, const std::string& tenant,
                                 int index);

  std::string uri_;
  std::vector<std::string> tenants_;
  std::vector<std::unique_ptr<MigrationScenario>> sources_;  // in the order of tenants_
  std::set<uint16_t> ports_;                                 // every port the files listen on
};

}  // namespace sqlift::testing
