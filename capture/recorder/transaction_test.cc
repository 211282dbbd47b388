// Transaction: commit flushes then commits; every failure rolls back and discards.
#include "capture/recorder/transaction.h"

#include <gtest/gtest.h>

#include "capture/recorder/recorder_testutil.h"

namespace sqlift {
namespace {

using namespace sqlift::testing;  // NOLINT

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenDb(dir_.Path("app.db"));
    Exec(db_.get(),
         "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
         "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT);"
         "CREATE TABLE notes(id INTEGER PRIMARY KEY, item_id INTEGER "
         "  REFERENCES items(id) DEFERRABLE INITIALLY DEFERRED)");
    rec_ = Recorder::Attach(db_.get()).value();
  }

  int64_t Count(const char* table) {
    return QueryInt(db_.get(), std::string("SELECT count(*) FROM ") + table);
  }

  TempDir dir_;
  DbPtr db_;
  std::unique_ptr<Recorder> rec_;
};

TEST_F(TransactionTest, CommitFlushesThenCommits) {
  Result<Transaction> txn = Transaction::Begin(*rec_);
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  Exec(db_.get(), "INSERT INTO items VALUES (1, 'a'), (2, 'b')");
  Result<int64_t> n = txn->Commit();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  EXPECT_FALSE(txn->active());
  EXPECT_EQ(Count("items"), 2);
  ASSERT_EQ(ReadOutbox(db_.get()).size(), 1u);
  EXPECT_EQ(Decode(ReadOutbox(db_.get())[0].payload).size(), 2u);
}

TEST_F(TransactionTest, RollbackAndDestructorLeaveNothing) {
  {
    Transaction txn = Transaction::Begin(*rec_, Transaction::Mode::kDeferred).value();
    Exec(db_.get(), "INSERT INTO items VALUES (1, 'a')");
    EXPECT_TRUE(txn.Rollback().ok());
    EXPECT_EQ(txn.Commit().status().code(), Status::Code::kFailedPrecondition);
  }
  {
    Transaction txn = Transaction::Begin(*rec_).value();
    Exec(db_.get(), "INSERT INTO items VALUES (2, 'b')");
  }  // rolled back here
  EXPECT_TRUE(sqlite3_get_autocommit(db_.get()));
  EXPECT_EQ(Count("items"), 0);
  EXPECT_EQ(rec_->Pending().value(), 0);
  EXPECT_TRUE(ReadOutbox(db_.get()).empty());
}

TEST_F(TransactionTest, BusyIsUnavailable) {
  DbPtr other_db = OpenDb(dir_.Path("app.db"), false);
  std::unique_ptr<Recorder> other = Recorder::Attach(other_db.get()).value();
  Transaction txn = Transaction::Begin(*rec_).value();
  Result<Transaction> blocked = Transaction::Begin(*other);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().code(), Status::Code::kUnavailable) << blocked.status().ToString();
  EXPECT_TRUE(blocked.status().Retryable());

  // A deferred transaction that read before the other committed cannot write: also retryable.
  Transaction reader = Transaction::Begin(*other, Transaction::Mode::kDeferred).value();
  EXPECT_EQ(QueryInt(other_db.get(), "SELECT count(*) FROM items"), 0);
  Exec(db_.get(), "INSERT INTO items VALUES (1, 'a')");
  ASSERT_TRUE(txn.Commit().ok());
  int rc = TryExec(other_db.get(), "INSERT INTO items VALUES (2, 'b')");
  EXPECT_EQ(rc & 0xff, SQLITE_BUSY);
  Result<int64_t> n = reader.Commit();  // nothing recorded: commits the read
  EXPECT_TRUE(n.ok()) << n.status().ToString();
}

TEST_F(TransactionTest, FailedCommitRollsBackAndDiscards) {
  Transaction txn = Transaction::Begin(*rec_).value();
  Exec(db_.get(), "INSERT INTO items VALUES (1, 'a'); INSERT INTO notes VALUES (1, 42)");
  Result<int64_t> n = txn.Commit();  // the deferred foreign key fails at COMMIT
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().ToString().find("FOREIGN KEY"), std::string::npos) << n.status().ToString();
  EXPECT_TRUE(sqlite3_get_autocommit(db_.get()));
  EXPECT_EQ(Count("items"), 0);
  EXPECT_TRUE(ReadOutbox(db_.get()).empty());

  Transaction next = Transaction::Begin(*rec_).value();
  Exec(db_.get(), "INSERT INTO items VALUES (2, 'b')");
  ASSERT_EQ(next.Commit().value(), 1);
  std::vector<OutboxRow> rows = ReadOutbox(db_.get());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].seq, 1);  // the failed transaction's seq was rolled back too: no gap
  EXPECT_EQ(Decode(rows[0].payload).size(), 1u);
}

TEST_F(TransactionTest, FailedFlushRollsBack) {
  Transaction txn = Transaction::Begin(*rec_).value();
  Exec(db_.get(), "INSERT INTO items VALUES (1, 'a'); DROP TABLE _sqlift_outbox");
  Result<int64_t> n = txn.Commit();
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().ToString().find("_sqlift_outbox"), std::string::npos)
      << n.status().ToString();
  EXPECT_EQ(Count("items"), 0);
  EXPECT_EQ(Count("_sqlift_outbox"), 0);  // the DROP was rolled back as well
}

TEST_F(TransactionTest, BeginInsideTransactionIsRefused) {
  Exec(db_.get(), "BEGIN");
  Result<Transaction> txn = Transaction::Begin(*rec_);
  ASSERT_FALSE(txn.ok());
  EXPECT_EQ(txn.status().code(), Status::Code::kFailedPrecondition);
  Exec(db_.get(), "ROLLBACK");
}

}  // namespace
}  // namespace sqlift
