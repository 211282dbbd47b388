// The chunk encoder against protobuf itself: each row's bytes are exactly protobuf's
// serialization of the Row SqliteValueToWire fills, for every kind of value and its edges, and
// a whole frame parses (ParseFrameBody) into the chunk the old way of building it gave.
#include "capture/snapshot/chunk_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "capture/snapshot/wire_value.h"
#include "common/sqlite/sqlite_db.h"
#include "proto/wire/frame_codec.h"

namespace sqlift {
namespace {

class ChunkEncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWriteCreate)).value();
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (a, b, c)").ok());
  }

  // Runs `select` (one row per value set) and returns, per row, the encoder's bytes and the
  // Row message SqliteValueToWire fills.
  void Rows(const std::string& select, std::vector<std::string>* encoded,
            std::vector<wire::Row>* rows) {
    auto stmt = db_->Prepare(select);
    ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
    const int ncols = stmt->ColumnCount();
    while (true) {
      Result<bool> more = stmt->Step();
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (!*more) break;
      encoded->push_back(ChunkEncoder::EncodeRow(stmt->handle(), ncols));
      wire::Row row;
      for (int c = 0; c < ncols; ++c)
        SqliteValueToWire(sqlite3_column_value(stmt->handle(), c), row.add_values());
      rows->push_back(row);
    }
  }

  std::unique_ptr<SqliteDb> db_;
};

TEST_F(ChunkEncoderTest, EveryValueIsEncodedAsProtobufSerializesIt) {
  // Integers at every varint length and both signs, reals with their edges (NaN, infinities,
  // -0.0, subnormals), text with NULs and invalid UTF-8, empty text and blobs, NULL, and text
  // long enough for a two-byte length.
  ASSERT_TRUE(
      db_->Exec("INSERT INTO t VALUES (0, 1, -1), (63, -64, 64), (-65, 8191, -8192),"
                "(9223372036854775807, -9223372036854775808, 4294967296),"
                "(0.0, -0.0, 1.5), (1e308, -1e-308, 4.9e-324), (9e999, -9e999, NULL),"
                "('', x'', 'plain'), ('a' || char(0) || 'b', x'ff00fe', CAST(x'c328ff' AS TEXT)),"
                "(zeroblob(300), printf('%.300c', 'x'), printf('%.20000c', 'y'))")
          .ok());
  std::vector<std::string> encoded;
  std::vector<wire::Row> rows;
  Rows("SELECT a, b, c FROM t ORDER BY rowid", &encoded, &rows);
  Rows("SELECT 0.0 / 0.0, NULL, 7", &encoded, &rows);  // NaN (SQLite gives NULL for it)
  ASSERT_EQ(encoded.size(), 11u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(encoded[i], rows[i].SerializeAsString())
        << "row " << i << ": " << rows[i].ShortDebugString();
  }
}

TEST_F(ChunkEncoderTest, NanAndNegativeZeroKeepTheirBits) {
  std::vector<std::string> encoded;
  std::vector<wire::Row> rows;
  Rows("SELECT -0.0, 1e308 * 10, -1e308 * 10", &encoded, &rows);
  ASSERT_EQ(encoded.size(), 1u);
  wire::Row parsed;
  ASSERT_TRUE(parsed.ParseFromString(encoded[0]));
  ASSERT_EQ(parsed.values_size(), 3);
  EXPECT_TRUE(std::signbit(parsed.values(0).real()));
  EXPECT_EQ(parsed.values(1).real(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parsed.values(2).real(), -std::numeric_limits<double>::infinity());
}

TEST_F(ChunkEncoderTest, FrameParsesIntoTheChunk) {
  ASSERT_TRUE(
      db_->Exec("INSERT INTO t VALUES (1, 'one', x'01'), (2, NULL, 2.5), (3, '', x'')").ok());
  wire::SnapshotChunk header;
  header.set_snapshot_seq(42);
  header.mutable_table()->set_name("t");
  header.mutable_table()->add_columns("a");
  header.set_chunk_no(7);
  header.set_last_in_table(true);
  header.add_schema_sql("CREATE TABLE t (a, b, c)");
  wire::SnapshotChunk expected = header;
  ChunkEncoder enc;
  for (int round = 0; round < 2; ++round) {  // the second chunk reuses the encoder's buffer
    auto stmt = db_->Prepare("SELECT a, b, c FROM t ORDER BY a");
    ASSERT_TRUE(stmt.ok());
    while (*stmt->Step()) {
      enc.AddRow(stmt->handle(), 3);
      if (round == 0) {
        wire::Row* row = expected.add_rows();
        for (int c = 0; c < 3; ++c)
          SqliteValueToWire(sqlite3_column_value(stmt->handle(), c), row->add_values());
      }
    }
    EXPECT_EQ(enc.rows(), 3u);
    // 2 + 3 * 3 per row, plus 8 for numbers and NULL, or the bytes' length.
    EXPECT_EQ(enc.approx_bytes(), 3 * 11u + (8 + 3 + 1) + (8 + 8 + 8) + (8 + 0 + 0));
    const std::string frame = enc.Finish(header);
    EXPECT_EQ(enc.rows(), 0u);
    Result<uint32_t> length = proto::ParseFrameHeader(
        reinterpret_cast<const unsigned char*>(frame.data()), proto::kDefaultMaxFrameBytes);
    ASSERT_TRUE(length.ok()) << length.status().ToString();
    ASSERT_EQ(*length, frame.size() - proto::kFrameHeaderBytes);
    wire::Frame parsed;
    ASSERT_TRUE(proto::ParseFrameBody(std::string_view(frame).substr(4), &parsed).ok());
    ASSERT_TRUE(parsed.has_snapshot_chunk());
    EXPECT_EQ(parsed.snapshot_chunk().SerializeAsString(), expected.SerializeAsString())
        << parsed.snapshot_chunk().ShortDebugString();
  }
}

TEST_F(ChunkEncoderTest, EmptyChunkIsTheHeaderAlone) {
  wire::SnapshotChunk header;
  header.set_snapshot_seq(1);
  header.set_last_chunk(true);
  ChunkEncoder enc;
  const std::string frame = enc.Finish(header);
  wire::Frame expected;
  *expected.mutable_snapshot_chunk() = header;
  std::string want;
  ASSERT_TRUE(proto::EncodeFrame(expected, proto::kDefaultMaxFrameBytes, &want).ok());
  EXPECT_EQ(frame, want);
}

}  // namespace
}  // namespace sqlift
