// Test helpers for proto/: sample frames of every body type, and decoding a whole stream.
// Used by the unit tests and to build the fuzz seed corpus; not part of sqlift_proto.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/wire/frame_codec.h"

namespace sqlift::proto::testing {

wire::Value NullValue();
wire::Value Int(int64_t v);
wire::Value Real(double v);
wire::Value Text(std::string_view bytes);
wire::Value Blob(std::string_view bytes);
wire::Value Absent();  // no kind set: an UPDATE's unchanged column

// A ChangeBatch with one table and two transactions (seq 41: INSERT, UPDATE, DELETE;
// seq 42: DDL), using every kind of Value.
wire::Frame SampleChangeBatch();
wire::Frame SampleSnapshotChunk();
wire::Frame SampleHello();
wire::Frame SampleHelloReply();
wire::Frame SampleAck();
wire::Frame SampleHeartbeat(uint64_t seq);
wire::Frame SampleError();

// One sample frame of every body case, in Frame field-number order.
std::vector<wire::Frame> SampleFramesOfEveryType();

// EncodeFrame with kDefaultMaxFrameBytes; aborts the test binary on error (a bug in a test).
std::string Encode(const wire::Frame& frame);

struct Decoded {
  std::vector<wire::Frame> frames;
  Status status;  // the first error, or Finish()
};

// Feeds `stream` to a FrameDecoder in pieces of `piece` bytes, taking every frame after each
// piece, and calls Finish at the end.
Decoded DecodeStream(std::string_view stream, size_t piece,
                     size_t max_frame_bytes = kDefaultMaxFrameBytes);

// Serialized form of each frame: equal strings mean equal frames, bit for bit (NaN included).
std::vector<std::string> Serialized(const std::vector<wire::Frame>& frames);

}  // namespace sqlift::proto::testing
