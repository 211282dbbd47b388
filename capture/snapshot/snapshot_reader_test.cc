// The snapshot reader: S read correctly, rows in key order and chunks, and a consistent
// snapshot: a writer that commits while the snapshot is read is not seen, and the snapshot
// holds exactly the effects of seqs <= S (design invariant 5).
#include "capture/snapshot/snapshot_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/sqlite/sqlite_schema.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;

class SnapshotReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sqlift_snapshot_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "app.db").string();
    writer_ = std::move(SqliteDb::Open(path_, SqliteDb::Mode::kReadWriteCreate)).value();
    ASSERT_TRUE(writer_->Exec("PRAGMA journal_mode=WAL").ok());
  }
  void TearDown() override {
    writer_.reset();
    fs::remove_all(dir_);
  }

  // One application transaction: an item row and its outbox row, whose seq the item records.
  void WriteItem(const std::string& name) {
    ASSERT_TRUE(
        writer_->Exec("BEGIN; INSERT INTO _sqlift_outbox (kind, payload) VALUES (1, x'')").ok());
    auto item = writer_->Prepare("INSERT INTO items (name, seq) VALUES (?1, last_insert_rowid())");
    ASSERT_TRUE(item.ok()) << item.status().ToString();
    ASSERT_TRUE(item->BindText(1, name).ok());
    ASSERT_TRUE(item->Run().ok());
    ASSERT_TRUE(writer_->Exec("COMMIT").ok());
  }

  void MakeOutboxDb(int transactions) {
    ASSERT_TRUE(writer_
                    ->Exec("CREATE TABLE _sqlift_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                           "kind INTEGER, payload BLOB);"
                           "CREATE TABLE items (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)")
                    .ok());
    for (int i = 0; i < transactions; ++i)
      WriteItem("item" + std::to_string(100 + i));
  }

  TableSchema Table(const std::string& name) {
    return std::move(ReadTableSchema(*writer_, name)).value();
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<SqliteDb> writer_;
};

TEST_F(SnapshotReaderTest, NoOutboxMeansSeqZero) {
  ASSERT_TRUE(writer_->Exec("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)").ok());
  auto reader = SnapshotReader::Open(path_);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->snapshot_seq(), 0);
  EXPECT_TRUE((*reader)->Close().ok());
}

TEST_F(SnapshotReaderTest, ReadsTheOutboxHighWaterMark) {
  MakeOutboxDb(5);
  ASSERT_TRUE(writer_->Exec("DELETE FROM _sqlift_outbox").ok());  // trimmed: S stays 5
  auto reader = SnapshotReader::Open(path_);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->snapshot_seq(), 5);
}

TEST_F(SnapshotReaderTest, RowsInKeyOrderAndChunks) {
  ASSERT_TRUE(writer_
                  ->Exec("CREATE TABLE t (k TEXT, n INTEGER, r REAL, b BLOB, z, "
                         "g INTEGER GENERATED ALWAYS AS (n * 2), PRIMARY KEY (k, n));"
                         "INSERT INTO t (k, n, r, b, z) VALUES ('b', 2, 1.5, x'00ff', NULL),"
                         "('a', 9, NULL, NULL, 'x'), ('b', 1, NULL, NULL, 3), ('c', 0, 0, '', 1.0),"
                         "('a', 1, 1, 1, 1)")
                  .ok());
  TableSchema t = Table("t");
  wire::TableShape shape = SnapshotReader::ShapeOf(t);
  ASSERT_EQ(shape.columns_size(), 5);  // the generated column is left out
  EXPECT_EQ(shape.pk_columns_size(), 2);
  auto reader = std::move(SnapshotReader::Open(path_)).value();
  std::vector<size_t> sizes;
  std::vector<std::string> keys;
  Status st = reader->ReadTable(t, 2, [&](const std::vector<wire::Row>& rows) {
    sizes.push_back(rows.size());
    for (const wire::Row& r : rows)
      keys.push_back(r.values(0).text() + std::to_string(r.values(1).integer()));
    return Status::OK();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 1}));
  EXPECT_EQ(keys, (std::vector<std::string>{"a1", "a9", "b1", "b2", "c0"}));
}

TEST_F(SnapshotReaderTest, WriterDuringTheReadIsNotSeen) {
  MakeOutboxDb(10);
  TableSchema items = Table("items");
  auto reader = std::move(SnapshotReader::Open(path_)).value();
  const int64_t s = reader->snapshot_seq();
  EXPECT_EQ(s, 10);
  WriteItem("item000");  // commits after the snapshot began, before any table is read
  int64_t rows = 0, max_seq = 0;
  Status st = reader->ReadTable(items, 3, [&](const std::vector<wire::Row>& chunk) {
    WriteItem("item" + std::to_string(500 + rows));  // and while it is read
    for (const wire::Row& r : chunk)
      ++rows, max_seq = std::max<int64_t>(max_seq, r.values(1).integer());
    return Status::OK();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(reader->CountRows(items).value(), s);
  EXPECT_TRUE(reader->Close().ok());
  // Exactly the effects of seqs 1..S: every one of them, none after.
  EXPECT_EQ(rows, s);
  EXPECT_EQ(max_seq, s);
  EXPECT_EQ(writer_->QueryInt64("SELECT count(*) FROM items").value(), s + 1 + 4);
  EXPECT_EQ(writer_->QueryInt64("SELECT max(seq) FROM _sqlift_outbox").value(), s + 1 + 4);
}

TEST_F(SnapshotReaderTest, SinkErrorStopsTheRead) {
  MakeOutboxDb(4);
  auto reader = std::move(SnapshotReader::Open(path_)).value();
  int calls = 0;
  Status st = reader->ReadTable(Table("items"), 1, [&](const std::vector<wire::Row>&) {
    return ++calls == 2 ? Status::Aborted("enough") : Status::OK();
  });
  EXPECT_EQ(st.code(), Status::Code::kAborted);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace sqlift
