// Differential test of the decoder against SQLite itself. For page sizes 512 to 65536, the
// three text encodings, reserved bytes and each auto_vacuum mode, a seeded random workload
// commits transactions through the real SQLite library in WAL mode; after each commit the
// new WAL transactions are read incrementally, applied to a page store over the database
// file, and every table is decoded from its root page (found in sqlite_schema) and compared
// with SELECT ... ORDER BY key through SQLite: same rows, same values, same types.
//
// Replay a failure with SQLIFT_WAL_SEED=<seed printed by the failing run>.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "capture/wal/page_store.h"
#include "capture/wal/testing/random_workload.h"
#include "capture/wal/testing/scratch_dir.h"
#include "capture/wal/testing/sqlite_oracle.h"
#include "capture/wal/wal_reader.h"

namespace sqlift::wal {
namespace {

using testing::DbConfig;
using testing::Row;

uint32_t Seed() {
  const char* env = std::getenv("SQLIFT_WAL_SEED");
  return env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
}

// Follows one database's WAL and checks every table after each transaction.
class Follower {
 public:
  Follower(SqliteDb& db, std::string wal_path, std::string db_path)
      : db_(db),
        wal_(OpenPathForReading(std::move(wal_path))),
        db_file_(OpenPathForReading(std::move(db_path))) {}

  // Reads the transactions committed since the last call; returns how many.
  Result<size_t> CatchUp() {
    SQLIFT_ASSIGN_OR_RETURN(WalScan scan, ScanWal(*wal_, position_));
    if (scan.continuity == WalContinuity::kRestarted || scan.stop != WalStop::kEndOfFile) {
      return Status::Internal("unexpected WAL state: " + scan.stop_reason);
    }
    if (!store_) {
      SQLIFT_ASSIGN_OR_RETURN(PageStore store,
                              PageStore::ForDatabaseFile(*db_file_, scan.next.header.page_size));
      store_ = std::make_unique<PageStore>(std::move(store));
    }
    for (const WalTransaction& t : scan.transactions)
      store_->Apply(t);
    position_ = scan.next;
    return scan.transactions.size();
  }

  // Compares every table; returns the number of rows compared.
  Result<size_t> Compare(const DbConfig& config) {
    SQLIFT_ASSIGN_OR_RETURN(DecodeContext ctx, store_->Context());
    if (ctx.geometry.page_size - ctx.geometry.usable_size != uint32_t(config.reserved_bytes)) {
      return Status::Internal("reserved bytes not as configured");
    }
    SQLIFT_ASSIGN_OR_RETURN(auto roots, testing::RootPages(ctx));
    SQLIFT_ASSIGN_OR_RETURN(auto shapes, testing::ReadShapes(db_));
    size_t rows = 0;
    for (const testing::TableShape& t : shapes) {
      SQLIFT_ASSIGN_OR_RETURN(std::vector<Row> want, testing::OracleRows(db_, t));
      SQLIFT_ASSIGN_OR_RETURN(std::vector<Row> got, testing::DecodedRows(ctx, roots.at(t.name), t));
      SQLIFT_RETURN_IF_ERROR(Same(t.name, want, got));
      rows += got.size();
      SQLIFT_RETURN_IF_ERROR(Count(ctx, roots.at(t.name), got));
    }
    SQLIFT_ASSIGN_OR_RETURN(int64_t indexed, CountEntries(ctx, roots.at("t_rowid_b")));
    SQLIFT_ASSIGN_OR_RETURN(int64_t count, db_.QueryInt64("SELECT count(*) FROM t_rowid"));
    if (indexed != count) return Status::Internal("index t_rowid_b has a different entry count");
    return rows;
  }

  // What the comparison covered, summed over every check.
  struct Coverage {
    size_t interior_pages = 0;    // pages of tables' b-trees that are not leaves
    size_t overflow3_values = 0;  // values spanning at least three overflow pages
  };
  const Coverage& coverage() const { return coverage_; }

 private:
  Status Count(const DecodeContext& ctx, uint32_t root, const std::vector<Row>& rows) {
    for (const Row& row : rows) {
      for (const Value& v : row) {
        if (v.bytes.size() > 3 * (ctx.geometry.usable_size - 4) + ctx.geometry.usable_size) {
          ++coverage_.overflow3_values;
        }
      }
    }
    return WalkBtree(
        ctx, root, [](BtreeEntry&&) { return Status::OK(); },
        [&](uint32_t, const BtreePage& page) { coverage_.interior_pages += !page.is_leaf(); });
  }

  static Status Same(const std::string& table, const std::vector<Row>& want,
                     const std::vector<Row>& got) {
    for (size_t i = 0; i < std::max(want.size(), got.size()); ++i) {
      if (i >= want.size() || i >= got.size() || !(want[i] == got[i])) {
        return Status::Internal(
            fmt::format("{} row {}: SQLite has {}, decoded {}", table, i,
                        i < want.size() ? testing::RowString(want[i]) : "nothing",
                        i < got.size() ? testing::RowString(got[i]) : "nothing"));
      }
    }
    return Status::OK();
  }
  static Result<int64_t> CountEntries(const DecodeContext& ctx, uint32_t root) {
    int64_t n = 0;
    SQLIFT_RETURN_IF_ERROR(WalkBtree(ctx, root, [&](BtreeEntry&&) {
      ++n;
      return Status::OK();
    }));
    return n;
  }

  SqliteDb& db_;
  std::unique_ptr<RandomAccessFile> wal_;
  std::unique_ptr<RandomAccessFile> db_file_;
  std::optional<WalPosition> position_;
  std::unique_ptr<PageStore> store_;
  Coverage coverage_;
};

std::vector<DbConfig> Configs(std::mt19937& rng) {
  std::vector<DbConfig> out;
  const char* encodings[] = {"UTF-8", "UTF-16le", "UTF-16be"};
  const char* vacuums[] = {"NONE", "FULL", "INCREMENTAL"};
  int i = 0;
  for (uint32_t page_size : {512u, 1024u, 4096u, 65536u}) {
    for (const char* encoding : encodings) {
      int reserved = (i % 2 == 0) ? 0 : 1 + static_cast<int>(rng() % 32);
      out.push_back(
          {page_size, encoding, reserved, vacuums[(i + i / 3) % 3], i % 3 == 0 ? "ON" : "OFF"});
      ++i;
    }
  }
  return out;
}

TEST(WalDecoderTest, EveryTableDecodedFromTheWalMatchesSqlite) {
  uint32_t seed = Seed();
  std::printf("wal_decoder_test seed: %u (replay with SQLIFT_WAL_SEED=%u)\n", seed, seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  size_t transactions = 0, rows = 0, databases = 0, interior = 0, overflow3 = 0;
  for (const DbConfig& config : Configs(rng)) {
    SCOPED_TRACE(config.Name());
    uint32_t workload_seed = rng();
    testing::SeedSqliteRandomness(workload_seed);
    testing::ScratchDir dir;
    auto db = testing::CreateWalDatabase(dir.Path("t.db"), config);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    testing::RandomWorkload work(**db, workload_seed, config.page_size - config.reserved_bytes);
    ASSERT_TRUE(work.CreateTables().ok());
    Follower follower(**db, dir.Path("t.db-wal"), dir.Path("t.db"));
    int count = config.page_size == 65536 ? 25 : 30;
    for (int n = 0; n < count; ++n) {
      Status st = work.RunTransaction();
      ASSERT_TRUE(st.ok()) << st.ToString();
      Result<size_t> read = follower.CatchUp();
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      Result<size_t> compared = follower.Compare(config);
      ASSERT_TRUE(compared.ok()) << "after transaction " << n << ": "
                                 << compared.status().ToString();
      transactions += *read;
      rows += *compared;
    }
    ++databases;
    if (config.page_size < 65536) {  // 25 transactions rarely fill a 64 KiB page twice over
      EXPECT_GT(follower.coverage().interior_pages, 0u) << "no table grew past one page";
    }
    interior += follower.coverage().interior_pages;
    overflow3 += follower.coverage().overflow3_values;
  }
  EXPECT_GT(overflow3, 0u) << "no value spanned three overflow pages";
  std::printf(
      "checked %zu databases, %zu transactions, %zu row comparisons (%zu interior pages, %zu "
      "values over 3+ overflow pages)\n",
      databases, transactions, rows, interior, overflow3);
}

}  // namespace
}  // namespace sqlift::wal
