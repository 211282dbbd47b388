// Recorder: what reaches the outbox, per transaction (refusals: recorder_guard_test.cc).
#include "capture/recorder/recorder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "capture/recorder/recorder_testutil.h"

namespace sqlift {
namespace {

using namespace sqlift::testing;  // NOLINT

using RecorderTest = RecorderTestBase;
using Values = std::vector<std::optional<Value>>;
const std::optional<Value> kUnset;

TEST_F(RecorderTest, InsertUpdateDeleteCarryExactValues) {
  int64_t before = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (1, 'apple', 3), (2, 'pear', 5)", 2);
  Txn(db_.get(), *rec_, "UPDATE items SET qty = 4 WHERE id = 1; DELETE FROM items WHERE id = 2", 2);

  std::vector<OutboxRow> rows = ReadOutbox(db_.get());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].seq, 1);
  EXPECT_EQ(rows[1].seq, 2);
  EXPECT_EQ(rows[0].kind, 1);  // OutboxKind::kChangeset
  EXPECT_GE(rows[0].committed_at, before);
  EXPECT_LE(rows[0].committed_at, rows[1].committed_at);

  std::vector<RowChange> first = Decode(rows[0].payload);
  ASSERT_EQ(first.size(), 2u);
  const RowChange* apple = Find(first, "items", SQLITE_INSERT, 1);
  ASSERT_NE(apple, nullptr);
  EXPECT_EQ(apple->new_values, (Values{Int(1), Text("apple"), Int(3)}));

  std::vector<RowChange> second = Decode(rows[1].payload);
  ASSERT_EQ(second.size(), 2u);
  const RowChange* update = Find(second, "items", SQLITE_UPDATE, 1);
  ASSERT_NE(update, nullptr);  // the key and the changed column only
  EXPECT_EQ(update->old_values, (Values{Int(1), kUnset, Int(3)}));
  EXPECT_EQ(update->new_values, (Values{kUnset, kUnset, Int(4)}));
  const RowChange* del = Find(second, "items", SQLITE_DELETE, 2);
  ASSERT_NE(del, nullptr);
  EXPECT_EQ(del->old_values, (Values{Int(2), Text("pear"), Int(5)}));
}

TEST_F(RecorderTest, PrimaryKeyChangeIsDeleteThenInsert) {
  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (1, 'apple', 3)", 1);
  Txn(db_.get(), *rec_, "UPDATE items SET id = 10 WHERE id = 1", 2);
  std::vector<RowChange> changes = OutboxChanges(1);
  ASSERT_EQ(changes.size(), 2u);
  ASSERT_NE(Find(changes, "items", SQLITE_DELETE, 1), nullptr);
  const RowChange* moved = Find(changes, "items", SQLITE_INSERT, 10);
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(moved->new_values, (Values{Int(10), Text("apple"), Int(3)}));
}

TEST_F(RecorderTest, SeveralTablesInOneTransactionMakeOneRow) {
  Txn(db_.get(), *rec_,
      "INSERT INTO items VALUES (1, 'apple', 3);"
      "INSERT INTO tags VALUES (1, 'fruit'), (1, 'red')",
      3);
  std::vector<RowChange> changes = OutboxChanges(0);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(std::count_if(changes.begin(), changes.end(),
                          [](const RowChange& c) { return c.table == "tags"; }),
            2);
  EXPECT_EQ(ReadOutbox(db_.get()).size(), 1u);
}

TEST_F(RecorderTest, EachTransactionGetsOnlyItsOwnChanges) {
  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (1, 'apple', 0)", 1);
  for (int i = 1; i <= 30; ++i) {
    Txn(db_.get(), *rec_, "UPDATE items SET qty = qty + 1", 1);  // qty becomes i
  }
  std::vector<OutboxRow> rows = ReadOutbox(db_.get());
  ASSERT_EQ(rows.size(), 31u);
  for (int i = 1; i <= 30; ++i) {
    std::vector<RowChange> changes = Decode(rows[i].payload);
    ASSERT_EQ(changes.size(), 1u) << "txn " << i;
    EXPECT_EQ(changes[0].op, SQLITE_UPDATE);
    EXPECT_EQ(changes[0].old_values[2], Int(i - 1)) << "txn " << i;
    EXPECT_EQ(changes[0].new_values[2], Int(i)) << "txn " << i;
  }
}

// SQLite sessions keep recording through a ROLLBACK: the rolled-back rows, with their original
// values, stay in the session. Kept, they would put another connection's later change to those
// rows into this connection's next changeset.
TEST_F(RecorderTest, RolledBackTransactionLeavesNothingAndLeaksNothing) {
  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (1, 'apple', 3)", 1);
  Exec(db_.get(), "BEGIN; DELETE FROM items WHERE id = 1");
  ASSERT_EQ(rec_->Flush().value(), 1);  // flushed, then rolled back: the outbox row goes too
  Exec(db_.get(), "ROLLBACK");
  Exec(db_.get(), "BEGIN; UPDATE items SET qty = 0; INSERT INTO items VALUES (2, 'x', 0)");
  ASSERT_EQ(rec_->Pending().value(), 2);
  Exec(db_.get(), "ROLLBACK");
  EXPECT_EQ(rec_->Pending().value(), 0);

  DbPtr other = OpenDb(dir_.Path("app.db"), false);
  std::unique_ptr<Recorder> other_rec = Attach(other.get());
  Txn(other.get(), *other_rec, "UPDATE items SET qty = 99 WHERE id = 1", 1);

  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (3, 'fig', 1)", 1);
  std::vector<OutboxRow> rows = ReadOutbox(db_.get());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].seq, 3);
  std::vector<RowChange> last = Decode(rows[2].payload);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_NE(Find(last, "items", SQLITE_INSERT, 3), nullptr);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM items"), 2);
}

TEST_F(RecorderTest, StatementAndSavepointRollbacksAreNotCaptured) {
  Exec(db_.get(), "BEGIN; INSERT INTO items VALUES (1, 'apple', 3)");
  // Fails on the duplicate key after inserting row 5; SQLite undoes the whole statement.
  EXPECT_EQ(TryExec(db_.get(), "INSERT INTO items VALUES (5, 'kiwi', 1), (1, 'dup', 1)"),
            SQLITE_CONSTRAINT_PRIMARYKEY);
  Exec(db_.get(), "SAVEPOINT s; INSERT INTO items VALUES (6, 'lime', 1); ROLLBACK TO s; RELEASE s");
  ASSERT_EQ(rec_->Flush().value(), 1);
  Exec(db_.get(), "COMMIT");
  std::vector<RowChange> changes = OutboxChanges(0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(Find(changes, "items", SQLITE_INSERT, 1), nullptr);
}

TEST_F(RecorderTest, ExcludedAndSqliftTablesAreNotCaptured) {
  Txn(db_.get(), *rec_,
      "INSERT INTO skipped VALUES (1, 'x'); INSERT INTO _sqlift_private VALUES (1, 2);"
      "INSERT INTO items VALUES (1, 'apple', 3)",
      1);
  std::vector<RowChange> changes = OutboxChanges(0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].table, "items");
}

TEST_F(RecorderTest, TransactionWithoutNetChangeWritesNoRow) {
  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (1, 'apple', 3)", 1);
  Txn(db_.get(), *rec_, "SELECT * FROM items", 0);
  // Touched but unchanged: the session is not empty, the changeset is.
  Txn(db_.get(), *rec_,
      "UPDATE items SET qty = 3; INSERT INTO items VALUES (2, 'x', 0); DELETE FROM items "
      "WHERE id = 2",
      0);
  EXPECT_EQ(ReadOutbox(db_.get()).size(), 1u);
}

TEST_F(RecorderTest, PendingCountsWithoutFlushing) {
  Exec(db_.get(), "BEGIN; INSERT INTO items VALUES (1, 'a', 1), (2, 'b', 2)");
  EXPECT_EQ(rec_->Pending().value(), 2);
  EXPECT_EQ(rec_->Flush().value(), 2);
  EXPECT_EQ(rec_->Pending().value(), 0);
  Exec(db_.get(), "COMMIT");
  EXPECT_EQ(ReadOutbox(db_.get()).size(), 1u);
}

TEST_F(RecorderTest, SeqsFollowCommitOrderAcrossConnections) {
  DbPtr other = OpenDb(dir_.Path("app.db"), false);
  std::unique_ptr<Recorder> other_rec = Attach(other.get());
  Exec(db_.get(), "BEGIN IMMEDIATE; INSERT INTO items VALUES (1, 'first', 0)");
  EXPECT_EQ(TryExec(other.get(), "BEGIN IMMEDIATE"), SQLITE_BUSY);  // one writer at a time
  ASSERT_EQ(rec_->Flush().value(), 1);
  Exec(db_.get(), "COMMIT");
  Txn(other.get(), *other_rec, "INSERT INTO items VALUES (2, 'second', 0)", 1);
  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (3, 'third', 0)", 1);

  std::vector<OutboxRow> rows = ReadOutbox(db_.get());
  ASSERT_EQ(rows.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rows[i].seq, i + 1);
    std::vector<RowChange> changes = Decode(rows[i].payload);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_NE(Find(changes, "items", SQLITE_INSERT, i + 1), nullptr) << "seq " << i + 1;
  }
}

}  // namespace
}  // namespace sqlift
