// A SnapshotChunk's rows read without a message per value: the applier splits a chunk frame
// into its other fields and its rows, left serialized (views into the frame's bytes), and reads
// each row into one reused wire::Row as it loads it. A chunk of thousands of rows then costs no
// allocation per value on the applier's side.
//
// Both functions take a fast path for the bytes protobuf itself writes (each Value one field,
// each Row only values; what chunk_encoder.h writes too) and hand anything else to protobuf's
// parser, so whatever the bytes, the result is what parsing them as a wire::Frame or a
// wire::Row gives, and so are the errors: bytes protobuf refuses are Corruption.
//
// Thread safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift::proto {

// Parses a frame body as ParseFrameBody does, except that when the body is one snapshot_chunk
// field, the chunk's rows are not parsed: each row's bytes (a serialized Row, checked to be
// one) is appended to *rows in order, viewing `body`, and the chunk in *out holds no rows.
// Otherwise *rows is left empty and the rows, if any, are in the chunk as ParseFrameBody
// parses them.
[[nodiscard]] Status ParseFrameBodyRowsApart(std::string_view body, wire::Frame* out,
                                             std::vector<std::string_view>* rows);

// Reads one serialized Row into *row, replacing its values; values of the kind they already
// hold keep their memory. Unknown fields are dropped (a value carries nothing in them).
// Corruption when the bytes are not a Row.
[[nodiscard]] Status ReadRow(std::string_view bytes, wire::Row* row);

// One value of a serialized Row, read where it lies: text and blob bytes view the row's bytes.
struct ValueRef {
  enum class Kind : uint8_t { kNull, kInteger, kReal, kText, kBlob };
  Kind kind = Kind::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string_view bytes;  // kText, kBlob
};

// Reads a Row written as protobuf writes it into *values (replaced); false, with *values
// unspecified, for any other encoding (which may still be a valid Row: ReadRow reads those).
// What it reads is what ReadRow reads from the same bytes.
bool ReadRowRefs(std::string_view bytes, std::vector<ValueRef>* values);

// The wire::Value a ValueRef stands for.
void CopyValueRef(const ValueRef& ref, wire::Value* out);

}  // namespace sqlift::proto
