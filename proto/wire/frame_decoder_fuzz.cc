// libFuzzer target: the input is a byte stream as it might arrive on a connection.
//
// It is decoded three ways (fed at once, fed one byte at a time, and with ParseFrameHeader /
// ParseFrameBody directly); they must agree on the frames and on whether the stream is good. Every
// frame decoded must survive EncodeFrame and decode to the same message again. The input, and
// every frame body, is also read by chunk_rows.h's own decoding (rows apart from their chunk,
// rows in place), which must give what protobuf's parser gives. A disagreement aborts, which
// libFuzzer reports as a crash.
//
// The same entry point runs over the seed corpus in the unit tests
// (frame_decoder_corpus_test.cc), so this file must not need libFuzzer to link.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "proto/wire/chunk_rows.h"
#include "proto/wire/frame_codec.h"

namespace sqlift::proto {
namespace {

// Small, so that the fuzzer meets the over-the-maximum path often.
constexpr size_t kFuzzMaxFrameBytes = size_t{1} << 16;

void Check(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  std::fprintf(stderr, "frame_decoder_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

struct Outcome {
  std::vector<std::string> frames;  // each decoded Frame, serialized again
  Status status;                    // the first error, or Finish()
};

// Takes every whole frame out of the decoder; records the first error.
void Drain(FrameDecoder& decoder, Outcome& outcome) {
  wire::Frame frame;
  while (outcome.status.ok()) {
    Result<bool> got = decoder.Next(&frame);
    if (!got.ok()) {
      outcome.status = got.status();
    } else if (!*got) {
      return;
    } else {
      outcome.frames.push_back(frame.SerializeAsString());
    }
  }
}

Outcome DecodeInPieces(std::string_view data, size_t piece) {
  Outcome outcome;
  FrameDecoder decoder(kFuzzMaxFrameBytes);
  size_t fed = 0;
  while (outcome.status.ok() && !data.empty()) {
    const std::string_view bytes = data.substr(0, piece);
    data.remove_prefix(bytes.size());
    fed += bytes.size();
    outcome.status = decoder.Feed(bytes);
    Check(decoder.buffered_bytes() <= fed, "decoder holds more bytes than it was fed");
    Drain(decoder, outcome);
  }
  if (outcome.status.ok()) {
    outcome.status = decoder.Finish();
    return outcome;
  }
  // A failed decoder stays failed, with the same error, and holds nothing.
  Check(decoder.buffered_bytes() == 0, "failed decoder still buffers bytes");
  Check(decoder.Feed("x").ToString() == outcome.status.ToString(), "error not permanent");
  return outcome;
}

Outcome DecodeDirect(std::string_view data) {
  Outcome outcome;
  wire::Frame frame;
  while (!data.empty()) {
    if (data.size() < kFrameHeaderBytes) {
      outcome.status = Status::Corruption("truncated header");
      break;
    }
    Result<uint32_t> length =
        ParseFrameHeader(reinterpret_cast<const unsigned char*>(data.data()), kFuzzMaxFrameBytes);
    if (!length.ok() || data.size() - kFrameHeaderBytes < *length) {
      outcome.status = length.ok() ? Status::Corruption("truncated body") : length.status();
      break;
    }
    outcome.status = ParseFrameBody(data.substr(kFrameHeaderBytes, *length), &frame);
    if (!outcome.status.ok()) break;
    outcome.frames.push_back(frame.SerializeAsString());
    data.remove_prefix(kFrameHeaderBytes + *length);
  }
  return outcome;
}

void CheckReencodes(const std::string& serialized) {
  wire::Frame frame;
  Check(frame.ParseFromString(serialized), "a decoded frame does not parse again");
  std::string wire_bytes;
  // Re-serializing may grow a frame by a few bytes (packed repeated fields), so the
  // fuzzing maximum does not apply here.
  Status encoded = EncodeFrame(frame, kDefaultMaxFrameBytes, &wire_bytes);
  Check(encoded.ok(), "EncodeFrame refused a decoded frame:", encoded.ToString());
  FrameDecoder decoder(kDefaultMaxFrameBytes);
  Outcome again;
  again.status = decoder.Feed(wire_bytes);
  Drain(decoder, again);
  if (again.status.ok()) again.status = decoder.Finish();
  Check(again.status.ok(), "a re-encoded frame does not decode:", again.status.ToString());
  Check(again.frames.size() == 1 && again.frames[0] == serialized, "re-encoding changed a frame");
}

// The bytes as a Row: ReadRow and ReadRowRefs against protobuf's parser.
void CheckRow(std::string_view bytes) {
  wire::Row want;
  const bool parsed = want.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  want.DiscardUnknownFields();
  std::vector<ValueRef> refs;
  if (ReadRowRefs(bytes, &refs)) {
    Check(parsed, "ReadRowRefs read bytes protobuf refuses");
    wire::Row got;
    for (const ValueRef& ref : refs)
      CopyValueRef(ref, got.add_values());
    Check(got.SerializeAsString() == want.SerializeAsString(), "ReadRowRefs differs from protobuf");
  }
  wire::Row got;
  got.add_values()->set_text("left over");
  const Status read = ReadRow(bytes, &got);
  Check(read.ok() == parsed, "ReadRow disagrees with protobuf on validity:", read.ToString());
  if (read.ok())
    Check(got.SerializeAsString() == want.SerializeAsString(), "ReadRow differs from protobuf");
}

// A frame body with its chunk's rows apart: the same frame as ParseFrameBody's.
void CheckRowsApart(std::string_view body) {
  wire::Frame want, got;
  const Status parsed = ParseFrameBody(body, &want);
  std::vector<std::string_view> rows;
  const Status apart = ParseFrameBodyRowsApart(body, &got, &rows);
  Check(parsed.ok() == apart.ok(), "rows apart disagree on validity:", apart.ToString());
  if (!apart.ok()) return;
  for (std::string_view row : rows) {
    Check(ReadRow(row, got.mutable_snapshot_chunk()->add_rows()).ok(), "a row apart is no Row");
  }
  // A row read apart drops unknown fields, as documented; they carry nothing.
  want.DiscardUnknownFields();
  got.DiscardUnknownFields();
  Check(got.SerializeAsString() == want.SerializeAsString(), "rows apart give another frame");
}

bool IsPrefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() > b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace
}  // namespace sqlift::proto

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sqlift::proto;        // NOLINT: a C entry point
  google::protobuf::LogSilencer quiet;  // protobuf logs every invalid UTF-8 string it meets
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  const Outcome whole = DecodeInPieces(stream, stream.size() + 1);
  const Outcome bytewise = DecodeInPieces(stream, 1);
  const Outcome direct = DecodeDirect(stream);

  // Fed at once, every header is checked before any frame is taken, so a bad header can
  // hide earlier frames and an earlier bad body: then only the kind of error must agree.
  Check(IsPrefix(whole.frames, bytewise.frames), "whole-stream frames differ from bytewise");
  Check(whole.status.code() == bytewise.status.code(),
        "error codes differ:", whole.status.ToString() + " vs " + bytewise.status.ToString());
  if (whole.status.ok()) Check(whole.frames == bytewise.frames, "frame lists differ");
  Check(direct.frames == bytewise.frames, "direct parsing differs from the decoder");
  Check(direct.status.ok() == bytewise.status.ok(), "direct parsing disagrees on validity");
  for (const std::string& frame : bytewise.frames)
    CheckReencodes(frame);
  CheckRow(stream);
  if (stream.size() <= kFuzzMaxFrameBytes) CheckRowsApart(stream);
  return 0;
}
