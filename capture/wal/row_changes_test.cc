// Per-transaction row changes decoded from the WAL, against SQLite's session extension as the
// oracle: a session on the writing connection records each transaction's changeset; the
// decoder's changes for the same transaction, put in changeset form (PK and changed columns
// of an UPDATE), must be the same set. Also, every table replayed from the decoded changes
// alone must equal SQLite's (this covers the table without a primary key, which a session
// ignores), and the incrementally kept page map must equal one built by a full walk.
//
// Replay a failure with SQLIFT_WAL_SEED=<seed printed by the failing run>.
#include "capture/wal/row_changes.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "capture/wal/page_store.h"
#include "capture/wal/testing/random_workload.h"
#include "capture/wal/testing/scratch_dir.h"
#include "capture/wal/testing/session_oracle.h"
#include "capture/wal/testing/sqlite_oracle.h"
#include "capture/wal/wal_reader.h"

namespace sqlift::wal {
namespace {

using testing::DbConfig;
using testing::TableShape;

uint32_t Seed() {
  const char* env = std::getenv("SQLIFT_WAL_SEED");
  return env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
}

class ChangeFollower {
 public:
  ChangeFollower(SqliteDb& db, const testing::ScratchDir& dir)
      : db_(db),
        wal_(OpenPathForReading(dir.Path("t.db-wal"))),
        db_file_(OpenPathForReading(dir.Path("t.db"))) {}

  // Reads what is committed so far and builds the page map from it.
  Status Start() {
    SQLIFT_ASSIGN_OR_RETURN(shapes_, testing::ReadShapes(db_));
    SQLIFT_ASSIGN_OR_RETURN(WalScan scan, ScanWal(*wal_, std::nullopt));
    SQLIFT_ASSIGN_OR_RETURN(PageStore store,
                            PageStore::ForDatabaseFile(*db_file_, scan.next.header.page_size));
    store_ = std::make_unique<PageStore>(std::move(store));
    for (const WalTransaction& t : scan.transactions)
      store_->Apply(t);
    position_ = scan.next;
    SQLIFT_ASSIGN_OR_RETURN(DecodeContext ctx, store_->Context());
    SQLIFT_ASSIGN_OR_RETURN(decoder_, RowChangeDecoder::Create(ctx, KeyFields()));
    return Status::OK();
  }

  // The changes of each transaction committed since the last call, in changeset form.
  Result<std::vector<std::vector<std::string>>> Next() {
    SQLIFT_ASSIGN_OR_RETURN(shapes_, testing::ReadShapes(db_));  // tables come and go
    SQLIFT_ASSIGN_OR_RETURN(WalScan scan, ScanWal(*wal_, position_));
    if (scan.continuity != WalContinuity::kContinues) return Status::Internal(scan.stop_reason);
    std::vector<std::vector<std::string>> out;
    for (const WalTransaction& t : scan.transactions) {
      TransactionView view(*store_, t);
      SQLIFT_ASSIGN_OR_RETURN(DecodeContext before, store_->Context());
      SQLIFT_ASSIGN_OR_RETURN(DecodeContext after, view.Context());
      SQLIFT_ASSIGN_OR_RETURN(auto changes, decoder_->Decode(before, after, view.written()));
      SQLIFT_ASSIGN_OR_RETURN(out.emplace_back(), Replay(changes));
      store_->Apply(t);
    }
    position_ = scan.next;
    return out;
  }

  // Every table of the replayed model equals SQLite's; the page map equals a fresh walk's.
  Status Check() {
    for (const TableShape& t : shapes_) {
      SQLIFT_ASSIGN_OR_RETURN(std::vector<testing::Row> rows, testing::OracleRows(db_, t));
      std::map<std::string, testing::Row> want;
      for (testing::Row& r : rows)
        want[testing::RowKey(t, r)] = std::move(r);
      if (want != model_[t.name]) return Status::Internal(t.name + ": replayed rows differ");
    }
    SQLIFT_ASSIGN_OR_RETURN(DecodeContext ctx, store_->Context());
    SQLIFT_ASSIGN_OR_RETURN(auto fresh, RowChangeDecoder::Create(ctx, KeyFields()));
    if (fresh->page_map().entries() != decoder_->page_map().entries()) {
      return Status::Internal(fmt::format("page map: {} entries kept, {} by a full walk",
                                          decoder_->page_map().size(), fresh->page_map().size()));
    }
    return Status::OK();
  }

 private:
  KeyFieldsFn KeyFields() {
    return [this](const std::string& table) -> Result<int> {
      for (const TableShape& t : shapes_) {
        if (t.name == table) return t.pk_count;
      }
      return Status::NotFound(table);
    };
  }

  // Applies `changes` to the model strictly; returns them in changeset form.
  Result<std::vector<std::string>> Replay(const std::vector<RowChange>& changes) {
    std::vector<std::string> out;
    for (const RowChange& c : changes) {
      const TableShape* t = Shape(c.table);
      if (!t) return Status::Internal("change to unknown table " + c.table);
      std::optional<testing::Row> old_row, new_row;
      if (c.kind != RowChange::Kind::kInsert) {
        SQLIFT_ASSIGN_OR_RETURN(old_row, testing::ShapeRow(*t, {0, c.rowid, c.old_values}));
      }
      if (c.kind != RowChange::Kind::kDelete) {
        SQLIFT_ASSIGN_OR_RETURN(new_row, testing::ShapeRow(*t, {0, c.rowid, c.new_values}));
      }
      SQLIFT_RETURN_IF_ERROR(testing::ApplyToModel(*t, old_row, new_row, &model_[t->name]));
      if (t->name != "t_rowid") out.push_back(testing::ChangesetForm(*t, old_row, new_row));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  const TableShape* Shape(const std::string& name) const {
    for (const TableShape& t : shapes_) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }

  SqliteDb& db_;
  std::unique_ptr<RandomAccessFile> wal_, db_file_;
  std::vector<TableShape> shapes_;
  std::unique_ptr<PageStore> store_;
  std::optional<WalPosition> position_;
  std::unique_ptr<RowChangeDecoder> decoder_;
  std::map<std::string, std::map<std::string, testing::Row>> model_;
};

TEST(RowChangesTest, EveryTransactionsChangesMatchTheSessionExtension) {
  uint32_t seed = Seed();
  std::printf("row_changes_test seed: %u (replay with SQLIFT_WAL_SEED=%u)\n", seed, seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const DbConfig configs[] = {{512, "UTF-8", 0, "NONE", "OFF"},
                              {1024, "UTF-16le", 5, "FULL", "OFF"},
                              {4096, "UTF-16be", 0, "INCREMENTAL", "OFF"},
                              {512, "UTF-16le", 0, "FULL", "ON"},
                              {1024, "UTF-8", 12, "INCREMENTAL", "FAST"},
                              {512, "UTF-16be", 0, "INCREMENTAL", "OFF"},
                              {65536, "UTF-8", 0, "NONE", "OFF"}};
  size_t transactions = 0, changes = 0;
  for (const DbConfig& config : configs) {
    SCOPED_TRACE(config.Name());
    testing::ScratchDir dir;
    auto db = testing::CreateWalDatabase(dir.Path("t.db"), config);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    testing::RandomWorkload work(**db, rng(), config.page_size - config.reserved_bytes);
    ASSERT_TRUE(work.CreateTables().ok());
    ChangeFollower follower(**db, dir);
    Status st = follower.Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    testing::SessionRecorder session(**db);
    int count = config.page_size == 65536 ? 10 : 40;
    for (int n = 0; n < count; ++n) {
      ASSERT_TRUE(session.Begin().ok());
      st = work.RunTransaction();
      ASSERT_TRUE(st.ok()) << st.ToString();
      Result<std::vector<std::string>> want = session.Changes();
      ASSERT_TRUE(want.ok()) << want.status().ToString();
      auto got = follower.Next();
      ASSERT_TRUE(got.ok()) << "transaction " << n << ": " << got.status().ToString();
      ASSERT_LE(got->size(), 1u);  // a transaction that changed nothing writes no frame
      ASSERT_EQ(got->empty() ? std::vector<std::string>() : (*got)[0], *want)
          << "transaction " << n;
      st = follower.Check();
      ASSERT_TRUE(st.ok()) << "transaction " << n << ": " << st.ToString();
      ++transactions;
      changes += want->size();
    }
  }
  std::printf("checked %zu transactions, %zu session changes\n", transactions, changes);
}

}  // namespace
}  // namespace sqlift::wal
