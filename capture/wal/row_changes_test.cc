// Per-transaction row changes decoded from the WAL, against SQLite's session extension as the
// oracle, over some 20,000 transactions of a seeded random workload (testing/
// random_workload.h) in databases of every page size from 512 to 65536, each text encoding,
// with and without reserved bytes, each auto_vacuum mode and secure_delete setting. A session
// on the writing connection records each transaction's changeset; the decoder's changes for
// the same transaction, shaped with the table's schema (the defaults of columns added after a
// row was written filled in) and put in changeset form (PK and changed columns of an UPDATE),
// must be the same set. Every few dozen transactions and at the end of each database, every
// table replayed from the decoded changes alone must equal SQLite's (this covers the table
// without a primary key, which a session ignores), and the incrementally kept page map must
// equal one built by a full walk. Every few hundred transactions the WAL is checkpointed
// (TRUNCATE, RESTART or PASSIVE) and the follower goes on from the database file.
//
// Replay a failure with SQLIFT_WAL_SEED=<seed printed by the failing run>.
#include "capture/wal/row_changes.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include "capture/wal/testing/change_follower.h"
#include "capture/wal/testing/random_workload.h"
#include "capture/wal/testing/scratch_dir.h"
#include "capture/wal/testing/session_oracle.h"
#include "capture/wal/testing/sqlite_oracle.h"

namespace sqlift::wal {
namespace {

using testing::ChangeFollower;
using testing::DbConfig;

constexpr int kCheckEvery = 50;        // transactions between full Checks
constexpr int kCheckpointEvery = 300;  // transactions between checkpoints

uint32_t Seed() {
  const char* env = std::getenv("SQLIFT_WAL_SEED");
  return env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
}

struct DbRun {
  DbConfig config;
  int transactions;  // fewer where pages (and so rows) are big
};

// Every page size, encoding, auto_vacuum mode and secure_delete setting, some with reserved
// bytes: 20,400 transactions in all.
const DbRun kRuns[] = {
    {{512, "UTF-8", 0, "NONE", "OFF"}, 2400},
    {{512, "UTF-16le", 0, "FULL", "ON"}, 2200},
    {{512, "UTF-16be", 0, "INCREMENTAL", "OFF"}, 1600},
    {{1024, "UTF-16le", 5, "FULL", "OFF"}, 2200},
    {{1024, "UTF-8", 12, "INCREMENTAL", "FAST"}, 2200},
    {{2048, "UTF-16be", 0, "NONE", "ON"}, 2000},
    {{2048, "UTF-8", 8, "FULL", "OFF"}, 1600},
    {{4096, "UTF-8", 0, "NONE", "OFF"}, 1800},
    {{4096, "UTF-16be", 0, "INCREMENTAL", "OFF"}, 1400},
    {{8192, "UTF-16le", 32, "FULL", "FAST"}, 1200},
    {{16384, "UTF-8", 0, "INCREMENTAL", "ON"}, 800},
    {{32768, "UTF-16be", 3, "NONE", "OFF"}, 600},
    {{65536, "UTF-8", 0, "FULL", "OFF"}, 400},
};

// Copies every committed frame into the database file, in one of the three modes that leave
// the next writer to start the WAL again (TRUNCATE also empties the file at once).
Status Checkpoint(SqliteDb& db, int n) {
  static constexpr const char* kModes[] = {"TRUNCATE", "RESTART", "PASSIVE"};
  SQLIFT_ASSIGN_OR_RETURN(auto s,
                          db.Prepare(fmt::format("PRAGMA wal_checkpoint({})", kModes[n % 3])));
  SQLIFT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row || s.ColumnInt64(0) != 0 || s.ColumnInt64(1) != s.ColumnInt64(2)) {
    return Status::Internal("checkpoint incomplete");
  }
  return Status::OK();
}

struct Totals {
  size_t transactions = 0, session_changes = 0;
  ChangeFollower::Counts decoded;
  testing::RandomWorkload::DdlCounts ddl;
  void Add(const ChangeFollower::Counts& c, const testing::RandomWorkload::DdlCounts& d) {
    decoded.transactions += c.transactions, decoded.inserts += c.inserts;
    decoded.updates += c.updates, decoded.deletes += c.deletes;
    decoded.short_records += c.short_records, decoded.overflow3_values += c.overflow3_values;
    decoded.interior_writes += c.interior_writes;
    decoded.checks += c.checks;
    ddl.tables_created += d.tables_created, ddl.tables_dropped += d.tables_dropped;
    ddl.columns_added += d.columns_added, ddl.columns_renamed += d.columns_renamed;
    ddl.columns_dropped += d.columns_dropped;
  }
};

// One database: `run.transactions` transactions, each compared with the session's changes.
void Follow(const DbRun& run, uint32_t seed, Totals* totals) {
  const DbConfig& config = run.config;
  testing::SeedSqliteRandomness(seed);
  testing::ScratchDir dir;
  auto db = testing::CreateWalDatabase(dir.Path("t.db"), config);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  testing::RandomWorkload work(**db, seed, config.page_size - config.reserved_bytes);
  ASSERT_TRUE(work.CreateTables().ok());
  ChangeFollower follower(**db, dir.Path("t.db"));
  Status st = follower.Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  testing::SessionRecorder session(**db);
  for (int n = 1; n <= run.transactions; ++n) {
    ASSERT_TRUE(session.Begin().ok());
    st = work.RunTransaction();
    ASSERT_TRUE(st.ok()) << "transaction " << n << ": " << st.ToString();
    Result<std::vector<std::string>> want = session.Changes();
    ASSERT_TRUE(want.ok()) << "transaction " << n << ": " << want.status().ToString();
    auto got = follower.Next();
    ASSERT_TRUE(got.ok()) << "transaction " << n << ": " << got.status().ToString();
    ASSERT_LE(got->size(), 1u);  // a transaction that changed nothing writes no frame
    ASSERT_EQ(got->empty() ? std::vector<std::string>() : (*got)[0], *want) << "transaction " << n;
    if (n % kCheckEvery == 0 || n == run.transactions) {
      st = follower.Check();
      ASSERT_TRUE(st.ok()) << "after transaction " << n << ": " << st.ToString();
    }
    if (n % kCheckpointEvery == 0) {
      ASSERT_TRUE(Checkpoint(**db, n / kCheckpointEvery).ok());
      ASSERT_TRUE(follower.Rebase().ok());
    }
    totals->session_changes += want->size();
  }
  totals->transactions += static_cast<size_t>(run.transactions);
  totals->Add(follower.counts(), work.ddl_counts());
}

TEST(RowChangesTest, EveryTransactionsChangesMatchTheSessionExtension) {
  uint32_t seed = Seed();
  std::printf("row_changes_test seed: %u (replay with SQLIFT_WAL_SEED=%u)\n", seed, seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  auto start = std::chrono::steady_clock::now();
  Totals totals;
  for (const DbRun& run : kRuns) {
    SCOPED_TRACE(run.config.Name());
    Follow(run, rng(), &totals);
    if (HasFatalFailure()) return;
  }
  const ChangeFollower::Counts& d = totals.decoded;
  const testing::RandomWorkload::DdlCounts& ddl = totals.ddl;
  std::printf(
      "checked %zu transactions (%zu in the WAL), %zu session changes; decoded %zu inserts, %zu "
      "updates, %zu deletes, %zu records shorter than their table, %zu values over 3+ overflow "
      "pages; %zu transactions wrote interior pages; %zu full checks; DDL: %d tables created, %d "
      "dropped, %d columns added, %d renamed, "
      "%d dropped; %.1f s\n",
      totals.transactions, d.transactions, totals.session_changes, d.inserts, d.updates, d.deletes,
      d.short_records, d.overflow3_values, d.interior_writes, d.checks, ddl.tables_created,
      ddl.tables_dropped, ddl.columns_added, ddl.columns_renamed, ddl.columns_dropped,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EXPECT_GE(totals.transactions, 20000u);
  EXPECT_GT(d.short_records, 0u) << "no row older than an added column was changed";
  EXPECT_GT(d.overflow3_values, 0u) << "no value spanned three overflow pages";
  EXPECT_GT(d.interior_writes, 0u) << "no page split or merged";
  EXPECT_GT(ddl.tables_created * ddl.tables_dropped, 0) << "no table created and dropped";
  EXPECT_GT(ddl.columns_added * ddl.columns_renamed * ddl.columns_dropped, 0)
      << "no column added, renamed and dropped";
}

}  // namespace
}  // namespace sqlift::wal
