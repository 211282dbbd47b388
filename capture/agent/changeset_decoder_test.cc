#include "capture/agent/changeset_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "capture/agent/testing/session_writer.h"
#include "capture/outbox/outbox.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {
namespace {

// Names columns c0, c1, ... and takes the primary key from the changeset's flags.
Result<wire::TableShape> GenericShape(const ChangesetTable& t) {
  wire::TableShape shape;
  shape.set_name(std::string(t.name));
  for (int i = 0; i < t.column_count; ++i) {
    shape.add_columns("c" + std::to_string(i));
    if (t.pk[i]) shape.add_pk_columns(i);
  }
  return shape;
}

class DecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    ASSERT_TRUE(outbox::CreateTables(db_->handle()).ok());
    writer_ = std::make_unique<testing::SessionWriter>(db_->handle());
  }

  // Runs `sql` in one transaction and decodes its changeset.
  wire::Transaction Capture(const std::string& sql, wire::ChangeBatch* batch) {
    writer_->Begin();
    writer_->Exec(sql);
    std::string cs = writer_->Changeset();
    writer_->Commit();
    wire::Transaction txn;
    Status st = DecodeChangeset(cs, GenericShape, batch, &txn);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return txn;
  }

  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<testing::SessionWriter> writer_;
};

TEST_F(DecoderTest, InsertUpdateDeleteWithTypedValues) {
  writer_->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, i, r, s, b, n)");
  wire::ChangeBatch b1;
  wire::Transaction ins = Capture(
      "INSERT INTO t VALUES (9223372036854775807, -9223372036854775808, -0.0, "
      "CAST(x'61006200ff' AS TEXT), x'', NULL)",
      &b1);
  ASSERT_EQ(ins.changes_size(), 1);
  const wire::RowChange& c = ins.changes(0);
  EXPECT_EQ(c.op(), wire::RowChange::INSERT);
  ASSERT_EQ(b1.tables_size(), 1);
  EXPECT_EQ(b1.tables(0).name(), "t");
  EXPECT_EQ(b1.tables(0).pk_columns_size(), 1);
  ASSERT_EQ(c.new_values_size(), 6);
  EXPECT_TRUE(c.old_values().empty());
  EXPECT_EQ(c.new_values(0).integer(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(c.new_values(1).integer(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(c.new_values(2).real(), 0.0);
  EXPECT_TRUE(std::signbit(c.new_values(2).real()));
  EXPECT_EQ(c.new_values(3).text(), std::string("a\0b\0\xff", 5));
  EXPECT_EQ(c.new_values(4).kind_case(), wire::Value::kBlob);
  EXPECT_EQ(c.new_values(4).blob(), "");
  EXPECT_EQ(c.new_values(5).kind_case(), wire::Value::kNull);
  ASSERT_EQ(c.pk_size(), 1);
  EXPECT_EQ(c.pk(0).integer(), std::numeric_limits<int64_t>::max());

  wire::ChangeBatch b2;
  wire::Transaction upd = Capture("UPDATE t SET s = 'new' WHERE id = 9223372036854775807", &b2);
  ASSERT_EQ(upd.changes_size(), 1);
  const wire::RowChange& u = upd.changes(0);
  EXPECT_EQ(u.op(), wire::RowChange::UPDATE);
  EXPECT_EQ(u.pk(0).integer(), std::numeric_limits<int64_t>::max());
  // Only the key and the changed column are present.
  EXPECT_EQ(u.old_values(1).kind_case(), wire::Value::KIND_NOT_SET);
  EXPECT_EQ(u.old_values(3).text(), std::string("a\0b\0\xff", 5));
  EXPECT_EQ(u.new_values(3).text(), "new");
  EXPECT_EQ(u.new_values(0).kind_case(), wire::Value::KIND_NOT_SET);

  wire::ChangeBatch b3;
  wire::Transaction del = Capture("DELETE FROM t", &b3);
  ASSERT_EQ(del.changes_size(), 1);
  EXPECT_EQ(del.changes(0).op(), wire::RowChange::DELETE);
  EXPECT_EQ(del.changes(0).old_values(3).text(), "new");
  EXPECT_TRUE(del.changes(0).new_values().empty());
}

TEST_F(DecoderTest, PrimaryKeyChangeIsDeleteThenInsertAndCompositeKeysKeepOrder) {
  writer_->Exec("CREATE TABLE items (a TEXT, line INTEGER, q INTEGER, PRIMARY KEY (line, a))");
  writer_->Exec("INSERT INTO items VALUES ('o1', 1, 5)");
  wire::ChangeBatch batch;
  wire::Transaction txn = Capture("UPDATE items SET line = 2 WHERE a = 'o1'", &batch);
  ASSERT_EQ(txn.changes_size(), 2);
  std::multiset<int> ops = {txn.changes(0).op(), txn.changes(1).op()};
  EXPECT_EQ(ops, (std::multiset<int>{wire::RowChange::INSERT, wire::RowChange::DELETE}));
  for (const wire::RowChange& c : txn.changes()) {
    ASSERT_EQ(c.pk_size(), 2);
    EXPECT_EQ(c.pk(0).text(), "o1");  // GenericShape orders the key by column position
  }
}

TEST_F(DecoderTest, SeveralTablesInOneTransactionShareTheBatch) {
  writer_->Exec("CREATE TABLE a (id INTEGER PRIMARY KEY, v); CREATE TABLE b (k TEXT PRIMARY KEY)");
  wire::ChangeBatch batch;
  wire::Transaction txn = Capture(
      "INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES ('k1'); INSERT INTO a VALUES (2, 'y')",
      &batch);
  ASSERT_EQ(txn.changes_size(), 3);
  ASSERT_EQ(batch.tables_size(), 2);
  int a_rows = 0;
  for (const wire::RowChange& c : txn.changes()) {
    if (batch.tables(c.table_index()).name() == "a") ++a_rows;
  }
  EXPECT_EQ(a_rows, 2);
}

TEST_F(DecoderTest, ShapeErrorsStopTheDecode) {
  writer_->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  writer_->Begin();
  writer_->Exec("INSERT INTO t VALUES (1)");
  std::string cs = writer_->Changeset();
  writer_->Commit();
  wire::ChangeBatch batch;
  wire::Transaction txn;
  Status st = DecodeChangeset(
      cs,
      [](const ChangesetTable&) -> Result<wire::TableShape> {
        return Status::FailedPrecondition("table t was dropped");
      },
      &batch, &txn);
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(st.ToString().find("table t was dropped"), std::string::npos);
}

TEST_F(DecoderTest, DamagedChangesetsAreCorruptionNeverACrash) {
  writer_->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  writer_->Begin();
  for (int i = 0; i < 20; ++i) {
    writer_->Exec("INSERT INTO t VALUES (?1, ?2)", {int64_t{i}, "value " + std::to_string(i)});
  }
  std::string cs = writer_->Changeset();
  writer_->Commit();
  Result<int64_t> n = CountChangesetRows(cs);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 20);
  std::mt19937 rng(7);
  int errors = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string bad = cs;
    if (round % 2 == 0) {
      bad.resize(rng() % bad.size());
    } else {
      for (int k = 0; k < 4; ++k)
        bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    wire::ChangeBatch batch;
    wire::Transaction txn;
    Status st = DecodeChangeset(bad, GenericShape, &batch, &txn);
    if (!st.ok()) ++errors;
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace sqlift
