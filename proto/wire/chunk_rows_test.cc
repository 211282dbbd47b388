// Rows read apart from their chunk give exactly what protobuf's parser gives: for the bytes
// protobuf writes (the fast path), for forms only its parser reads (unknown fields, a oneof set
// twice, a value with no kind), and for bytes it refuses.
#include "proto/wire/chunk_rows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "proto/wire/frame_codec.h"

namespace sqlift::proto {
namespace {

wire::SnapshotChunk SampleChunk() {
  wire::SnapshotChunk c;
  c.set_snapshot_seq(9);
  c.mutable_table()->set_name("t");
  c.mutable_table()->add_columns("a");
  c.set_chunk_no(3);
  c.set_last_in_table(true);
  c.add_schema_sql("CREATE TABLE t (a)");
  const int64_t ints[] = {0, -1, 1, std::numeric_limits<int64_t>::min(),
                          std::numeric_limits<int64_t>::max()};
  for (int64_t i : ints) {
    wire::Row* r = c.add_rows();
    r->add_values()->set_integer(i);
    r->add_values()->set_real(static_cast<double>(i) / 3);
    r->add_values()->set_text(std::string("x\0y", 3) + std::to_string(i));
    r->add_values()->mutable_null();
    r->add_values()->set_blob(std::string(static_cast<size_t>(i & 0xFF) * 3, '\xff'));
  }
  wire::Row* edges = c.add_rows();
  edges->add_values()->set_real(-0.0);
  edges->add_values()->set_real(std::numeric_limits<double>::quiet_NaN());
  edges->add_values()->set_text("");
  edges->add_values()->set_blob("");
  edges->add_values()->set_text(std::string(300, 'z'));
  c.add_rows();  // a row of no values
  return c;
}

std::string Body(const wire::Frame& frame) {
  std::string bytes;
  EXPECT_TRUE(EncodeFrame(frame, kDefaultMaxFrameBytes, &bytes).ok());
  return bytes.substr(kFrameHeaderBytes);
}

TEST(ChunkRowsTest, RowsApartReadBackToTheChunk) {
  wire::Frame sent;
  *sent.mutable_snapshot_chunk() = SampleChunk();
  const std::string body = Body(sent);
  wire::Frame got;
  std::vector<std::string_view> rows;
  ASSERT_TRUE(ParseFrameBodyRowsApart(body, &got, &rows).ok());
  ASSERT_TRUE(got.has_snapshot_chunk());
  EXPECT_EQ(got.snapshot_chunk().rows_size(), 0);
  ASSERT_EQ(static_cast<int>(rows.size()), sent.snapshot_chunk().rows_size());
  wire::SnapshotChunk header = sent.snapshot_chunk();
  header.clear_rows();
  EXPECT_EQ(got.snapshot_chunk().SerializeAsString(), header.SerializeAsString());
  wire::Row reused;  // one row read into over and over, as the loader does
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_TRUE(ReadRow(rows[i], &reused).ok()) << i;
    EXPECT_EQ(reused.SerializeAsString(),
              sent.snapshot_chunk().rows(static_cast<int>(i)).SerializeAsString())
        << i;
  }
}

TEST(ChunkRowsTest, FormsOnlyProtobufReadsGiveWhatItGives) {
  // A oneof set twice (the last wins), a value with no kind, a Null with an unknown field, an
  // unknown field in the Row, and a non-minimal varint.
  const std::string forms[] = {
      std::string("\x0a\x04\x10\x02\x22\x00", 6), std::string("\x0a\x00", 2),
      std::string("\x0a\x04\x0a\x02\x08\x01", 6), std::string("\x0a\x02\x10\x04\x28\x05", 6),
      std::string("\x0a\x03\x10\x80\x00", 5),
  };
  for (const std::string& bytes : forms) {
    wire::Row want;
    ASSERT_TRUE(want.ParseFromString(bytes));
    want.DiscardUnknownFields();
    wire::Row got;
    got.add_values()->set_text("left over");
    got.add_values()->set_integer(1);
    got.add_values()->set_integer(2);
    ASSERT_TRUE(ReadRow(bytes, &got).ok());
    EXPECT_EQ(got.SerializeAsString(), want.SerializeAsString()) << want.ShortDebugString();
  }
}

// ReadRowRefs reads what ReadRow reads, or declines.
wire::Row FromRefs(const std::vector<ValueRef>& refs) {
  wire::Row row;
  for (const ValueRef& ref : refs)
    CopyValueRef(ref, row.add_values());
  return row;
}

TEST(ChunkRowsTest, RefsReadWhatReadRowReads) {
  const wire::SnapshotChunk chunk = SampleChunk();
  std::vector<ValueRef> refs(7);  // reused, as the loader reuses them
  for (const wire::Row& row : chunk.rows()) {
    const std::string bytes = row.SerializeAsString();
    ASSERT_TRUE(ReadRowRefs(bytes, &refs));
    EXPECT_EQ(FromRefs(refs).SerializeAsString(), bytes);
  }
  const std::string forms[] = {
      std::string("\x0a\x04\x10\x02\x22\x00", 6), std::string("\x0a\x00", 2),
      std::string("\x0a\x04\x0a\x02\x08\x01", 6), std::string("\x0a\x02\x10\x04\x28\x05", 6),
      std::string("\x0a\x03\x10\x80\x00", 5),     std::string("\x0a\x05\x10", 3),
  };
  for (const std::string& bytes : forms) {
    if (!ReadRowRefs(bytes, &refs)) continue;  // left to ReadRow
    wire::Row want;
    ASSERT_TRUE(want.ParseFromString(bytes));
    EXPECT_EQ(FromRefs(refs).SerializeAsString(), want.SerializeAsString());
  }
}

TEST(ChunkRowsTest, BytesProtobufRefusesAreCorruption) {
  wire::Row row;
  EXPECT_EQ(ReadRow(std::string("\x0a\x05\x10", 3), &row).code(), Status::Code::kCorruption);
  // A chunk frame whose one row is truncated inside: refused as ParseFrameBody refuses it.
  const std::string bad_row(
      "\x0a\x05\x22\x09"
      "ab",
      6);
  std::string chunk = std::string("\x1a") + static_cast<char>(bad_row.size()) + bad_row;
  std::string body = std::string("\x12") + static_cast<char>(chunk.size()) + chunk;
  wire::Frame frame;
  std::vector<std::string_view> rows;
  Status st = ParseFrameBodyRowsApart(body, &frame, &rows);
  EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.ToString();
  EXPECT_TRUE(rows.empty());
  wire::Frame plain;
  EXPECT_EQ(ParseFrameBody(body, &plain).ToString(), st.ToString());
}

TEST(ChunkRowsTest, OtherFramesParseAsBefore) {
  wire::Frame ack;
  ack.mutable_ack()->set_applied_seq(5);
  wire::Frame got;
  std::vector<std::string_view> rows{"stale"};
  ASSERT_TRUE(ParseFrameBodyRowsApart(Body(ack), &got, &rows).ok());
  EXPECT_TRUE(rows.empty());
  EXPECT_EQ(got.ack().applied_seq(), 5u);
  // A chunk field sent twice is merged by protobuf: read the ordinary way, rows in the chunk.
  wire::Frame one;
  *one.mutable_snapshot_chunk() = SampleChunk();
  const std::string twice = Body(one) + Body(one);
  ASSERT_TRUE(ParseFrameBodyRowsApart(twice, &got, &rows).ok());
  EXPECT_TRUE(rows.empty());
  EXPECT_EQ(got.snapshot_chunk().rows_size(), 2 * one.snapshot_chunk().rows_size());
}

}  // namespace
}  // namespace sqlift::proto
