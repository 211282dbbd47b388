// Tests of EncodeFrame, ParseFrameHeader, ParseFrameBody, and round trips of every message.
// The streaming decoder is tested in frame_decoder_test.cc.
#include "proto/wire/frame_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "proto/wire/frame_test_util.h"

namespace sqlift::proto {
namespace {

using namespace std::string_literals;
using testing::DecodeStream;
using testing::Encode;
using testing::Serialized;

const unsigned char* U(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

uint32_t HeaderOf(const std::string& encoded) {
  return (uint32_t{U(encoded)[0]} << 24) | (uint32_t{U(encoded)[1]} << 16) |
         (uint32_t{U(encoded)[2]} << 8) | uint32_t{U(encoded)[3]};
}

wire::Frame RoundTrip(const wire::Frame& frame) {
  testing::Decoded d = DecodeStream(Encode(frame), 1 << 16);
  EXPECT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.frames.size(), 1u);
  return d.frames.empty() ? wire::Frame() : d.frames[0];
}

TEST(proto_EncodeFrame, WritesBigEndianLengthThenBody) {
  wire::Frame frame = testing::SampleHello();
  std::string out = "prefix";
  ASSERT_TRUE(EncodeFrame(frame, kDefaultMaxFrameBytes, &out).ok());
  ASSERT_EQ(out.substr(0, 6), "prefix");  // appends
  std::string encoded = out.substr(6);
  const std::string body = frame.SerializeAsString();
  ASSERT_EQ(encoded.size(), kFrameHeaderBytes + body.size());
  EXPECT_EQ(HeaderOf(encoded), body.size());
  EXPECT_EQ(encoded.substr(kFrameHeaderBytes), body);
}

TEST(proto_EncodeFrame, RefusesFrameWithoutBody) {
  std::string out = "keep";
  Status s = EncodeFrame(wire::Frame(), kDefaultMaxFrameBytes, &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("no body"), std::string::npos) << s.ToString();
  EXPECT_EQ(out, "keep");
}

TEST(proto_EncodeFrame, RefusesBodyOverMaximumAndAcceptsExactlyMaximum) {
  wire::Frame frame = testing::SampleHeartbeat(100);
  const size_t body = frame.ByteSizeLong();
  std::string out = "keep";
  Status s = EncodeFrame(frame, body - 1, &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "encode heartbeat frame: body of " + std::to_string(body) +
                             " bytes is over the maximum of " + std::to_string(body - 1) +
                             " bytes");
  EXPECT_EQ(out, "keep");
  ASSERT_TRUE(EncodeFrame(frame, body, &out).ok());
  EXPECT_EQ(out.size(), 4 + kFrameHeaderBytes + body);
}

TEST(proto_ParseFrameHeader, ReadsBigEndian) {
  const std::string h = "\x01\x02\x03\x04"s;
  Result<uint32_t> n = ParseFrameHeader(U(h), kFrameBytesLimit);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 0x01020304u);
  const std::string one = "\x00\x00\x00\x01"s;
  EXPECT_EQ(*ParseFrameHeader(U(one), 1), 1u);
}

TEST(proto_ParseFrameHeader, RefusesZeroLength) {
  const std::string h = "\x00\x00\x00\x00"s;
  Result<uint32_t> n = ParseFrameHeader(U(h), kDefaultMaxFrameBytes);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), Status::Code::kCorruption);
  EXPECT_NE(n.status().message().find("length is 0"), std::string::npos);
}

TEST(proto_ParseFrameHeader, RefusesLengthOverMaximumAndNamesBoth) {
  const std::string h = "\x00\x00\x04\x01"s;  // 1025
  EXPECT_TRUE(ParseFrameHeader(U(h), 1025).ok());
  Result<uint32_t> n = ParseFrameHeader(U(h), 1024);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), Status::Code::kCorruption);
  EXPECT_EQ(n.status().message(), "frame claims 1025 bytes, over the maximum of 1024 bytes");
}

TEST(proto_ParseFrameHeader, TwoGiBIsOverEveryMaximum) {
  const std::string h = "\x80\x00\x00\x00"s;
  Result<uint32_t> n = ParseFrameHeader(U(h), kDefaultMaxFrameBytes);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(),
            "frame claims 2147483648 bytes, over the maximum of 67108864 bytes");
  // Even a larger configured maximum is capped at protobuf's limit.
  n = ParseFrameHeader(U(h), std::numeric_limits<size_t>::max());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(),
            "frame claims 2147483648 bytes, over the maximum of 2147483647 bytes");
  const std::string all_ones = "\xff\xff\xff\xff"s;
  EXPECT_FALSE(ParseFrameHeader(U(all_ones), std::numeric_limits<size_t>::max()).ok());
}

TEST(proto_ParseFrameBody, ParsesValidBody) {
  wire::Frame out;
  ASSERT_TRUE(ParseFrameBody(testing::SampleError().SerializeAsString(), &out).ok());
  ASSERT_EQ(out.body_case(), wire::Frame::kError);
  EXPECT_EQ(out.error().code(), wire::Error::SEQ_GAP);
  EXPECT_EQ(out.error().message(), "expected seq 43, got 45");
}

TEST(proto_ParseFrameBody, RefusesGarbage) {
  wire::Frame out;
  Status s = ParseFrameBody("\xff\xff\xff"s, &out);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(s.message(), "frame body of 3 bytes is not a valid sqlift.wire.Frame");
}

TEST(proto_ParseFrameBody, RefusesFrameWithoutBodyAndNamesUnknownFields) {
  wire::Frame out;
  Status empty = ParseFrameBody("", &out);
  EXPECT_EQ(empty.code(), Status::Code::kCorruption);
  EXPECT_EQ(empty.message(), "frame body of 0 bytes has no body case set");
  // Field 99, varint 1: a body case this build does not know.
  Status unknown = ParseFrameBody("\x98\x06\x01"s, &out);
  EXPECT_EQ(unknown.code(), Status::Code::kCorruption);
  EXPECT_NE(unknown.message().find("unknown field numbers: 99"), std::string::npos)
      << unknown.ToString();
}

TEST(proto_RoundTrip, EveryMessageType) {
  const std::vector<wire::Frame> sent = testing::SampleFramesOfEveryType();
  std::string stream;
  for (const wire::Frame& f : sent)
    stream += Encode(f);
  testing::Decoded got = DecodeStream(stream, stream.size());
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(Serialized(got.frames), Serialized(sent));
  std::vector<int> cases;
  for (const wire::Frame& f : got.frames)
    cases.push_back(f.body_case());
  EXPECT_EQ(cases, (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));

  const wire::ChangeBatch& batch = got.frames[0].change_batch();
  EXPECT_EQ(batch.first_seq(), 41u);
  EXPECT_EQ(batch.tables(0).columns(3), "avatar");
  const wire::RowChange& update = batch.transactions(0).changes(1);
  EXPECT_EQ(update.op(), wire::RowChange::UPDATE);
  EXPECT_EQ(update.old_values(1).kind_case(), wire::Value::KIND_NOT_SET);
  EXPECT_EQ(update.new_values(2).real(), -2.25);
  EXPECT_EQ(batch.transactions(1).kind(), wire::Transaction::DDL);
  EXPECT_EQ(got.frames[1].snapshot_chunk().rows(1).values(0).text(), "blue");
  EXPECT_TRUE(got.frames[2].ack().has_snapshot_chunk_no());
  EXPECT_EQ(got.frames[3].heartbeat().sent_at_us(), -1);
  EXPECT_EQ(got.frames[4].hello().token(), "s3cret");
  EXPECT_EQ(got.frames[5].hello_reply().applied_seq(), 40u);
}

TEST(proto_RoundTrip, ValueEdgeCases) {
  const std::string text = "a\0b\xff\xfe\xc3\x28z"s;  // NUL and invalid UTF-8
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  wire::Frame frame;
  auto* row = frame.mutable_snapshot_chunk()->add_rows()->mutable_values();
  for (wire::Value v : {testing::Text(text), testing::Blob(text), testing::Text(""),
                        testing::Blob(""), testing::Int(std::numeric_limits<int64_t>::min()),
                        testing::Int(std::numeric_limits<int64_t>::max()), testing::Int(0),
                        testing::Real(nan), testing::Real(inf), testing::Real(-inf),
                        testing::Real(-0.0), testing::NullValue(), testing::Absent()}) {
    *row->Add() = v;
  }
  const wire::Frame got = RoundTrip(frame);
  ASSERT_EQ(got.snapshot_chunk().rows_size(), 1);
  const auto& v = got.snapshot_chunk().rows(0).values();
  ASSERT_EQ(v.size(), 13);
  EXPECT_EQ(v[0].text(), text);
  EXPECT_EQ(v[0].text().size(), 8u);
  EXPECT_EQ(v[1].blob(), text);
  EXPECT_EQ(v[2].kind_case(), wire::Value::kText);  // empty text is present, and is text
  EXPECT_EQ(v[3].kind_case(), wire::Value::kBlob);
  EXPECT_EQ(v[4].integer(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(v[5].integer(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(v[6].kind_case(), wire::Value::kInteger);  // zero is present, not absent
  EXPECT_EQ(std::bit_cast<uint64_t>(v[7].real()), std::bit_cast<uint64_t>(nan));
  EXPECT_EQ(v[8].real(), inf);
  EXPECT_EQ(v[9].real(), -inf);
  EXPECT_EQ(v[10].real(), 0.0);
  EXPECT_TRUE(std::signbit(v[10].real()));
  EXPECT_EQ(v[11].kind_case(), wire::Value::kNull);
  EXPECT_EQ(v[12].kind_case(), wire::Value::KIND_NOT_SET);
}

// SQLite does not enforce UTF-8 in names or SQL text; such a batch must still round-trip.
TEST(proto_RoundTrip, NamesAndSqlMayHoldInvalidUtf8) {
  wire::Frame frame = testing::SampleChangeBatch();
  wire::ChangeBatch* batch = frame.mutable_change_batch();
  batch->mutable_tables(0)->set_name("t\xff\0x"s);
  batch->mutable_tables(0)->set_columns(1, "n\xc3\x28");
  batch->mutable_transactions(1)->set_ddl_sql("CREATE TABLE \"t\xff\"(a)");
  const wire::Frame got = RoundTrip(frame);
  EXPECT_EQ(got.change_batch().tables(0).name(), "t\xff\0x"s);
  EXPECT_EQ(got.change_batch().tables(0).columns(1), "n\xc3\x28");
  EXPECT_EQ(got.change_batch().transactions(1).ddl_sql(), "CREATE TABLE \"t\xff\"(a)");
}

TEST(proto_RoundTrip, TenMegabyteBlob) {
  std::string blob(10 << 20, '\0');
  for (size_t i = 0; i < blob.size(); ++i)
    blob[i] = static_cast<char>((i * 131) ^ (i >> 12));
  wire::Frame frame;
  wire::Transaction* tx = frame.mutable_change_batch()->add_transactions();
  *tx->add_changes()->add_new_values() = testing::Blob(blob);
  const std::string encoded = Encode(frame);
  EXPECT_EQ(HeaderOf(encoded), encoded.size() - kFrameHeaderBytes);
  EXPECT_GT(encoded.size(), blob.size());
  testing::Decoded got = DecodeStream(encoded, 64 << 10);  // as socket reads would come
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(got.frames.size(), 1u);
  const std::string& back =
      got.frames[0].change_batch().transactions(0).changes(0).new_values(0).blob();
  ASSERT_EQ(back.size(), blob.size());
  EXPECT_TRUE(back == blob);  // not EXPECT_EQ: a failure would print 10 MB
}

}  // namespace
}  // namespace sqlift::proto
