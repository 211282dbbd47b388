// A SnapshotChunk's rows read without a message per value (see header).
#include "proto/wire/chunk_rows.h"

#include <google/protobuf/wire_format_lite.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "proto/wire/frame_codec.h"

namespace sqlift::proto {
namespace {

using google::protobuf::internal::WireFormatLite;

// Tags (field number << 3 | wire type) of the fields read here.
constexpr uint8_t kFrameChunk = (2 << 3) | 2;  // Frame.snapshot_chunk
constexpr uint64_t kChunkRow = (3 << 3) | 2;   // SnapshotChunk.rows
constexpr uint8_t kRowValue = (1 << 3) | 2;    // Row.values
constexpr uint8_t kValueNull = (1 << 3) | 2;
constexpr uint8_t kValueInteger = (2 << 3) | 0;
constexpr uint8_t kValueReal = (3 << 3) | 1;
constexpr uint8_t kValueText = (4 << 3) | 2;
constexpr uint8_t kValueBlob = (5 << 3) | 2;

// Reads protobuf's encoding; a read that fails leaves the bytes to protobuf's own parser.
class Cursor {
 public:
  explicit Cursor(std::string_view s)
      : p_(reinterpret_cast<const uint8_t*>(s.data())), end_(p_ + s.size()) {}
  bool done() const { return p_ == end_; }
  const char* pos() const { return reinterpret_cast<const char*>(p_); }

  bool Byte(uint8_t want) {
    if (p_ == end_ || *p_ != want) return false;
    ++p_;
    return true;
  }
  bool Next(uint8_t* b) {
    if (p_ == end_) return false;
    *b = *p_++;
    return true;
  }
  // At most 10 bytes, the value within 64 bits.
  bool Varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift <= 63 && p_ < end_; shift += 7) {
      const uint8_t b = *p_++;
      if (shift == 63 && b > 1) return false;
      r |= uint64_t{b & 0x7Fu} << shift;
      if (b < 0x80) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool Bytes(std::string_view* out) {
    uint64_t n = 0;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = std::string_view(pos(), static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  bool Fixed(size_t n, uint64_t* v) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    uint64_t r = 0;
    for (size_t i = 0; i < n; ++i)
      r |= uint64_t{p_[i]} << (8 * i);  // little-endian
    p_ += n;
    *v = r;
    return true;
  }
  // Skips the value of a field whose tag was read; groups are left to protobuf.
  bool Skip(uint64_t wire_type) {
    uint64_t ignored = 0;
    std::string_view bytes;
    switch (wire_type) {
      case 0:
        return Varint(&ignored);
      case 1:
        return Fixed(8, &ignored);
      case 2:
        return Bytes(&bytes);
      case 5:
        return Fixed(4, &ignored);
      default:
        return false;
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// A Value as protobuf writes it: exactly one field of its oneof.
bool ReadValueRef(std::string_view bytes, ValueRef* v) {
  Cursor c(bytes);
  uint8_t tag = 0;
  uint64_t n = 0;
  switch (c.Next(&tag) ? tag : 0) {  // no kind set: protobuf's to say
    case kValueNull:
      v->kind = ValueRef::Kind::kNull;
      return c.Bytes(&v->bytes) && v->bytes.empty() && c.done();
    case kValueInteger:
      v->kind = ValueRef::Kind::kInteger;
      if (!c.Varint(&n) || !c.done()) return false;
      v->integer = WireFormatLite::ZigZagDecode64(n);
      return true;
    case kValueReal:
      v->kind = ValueRef::Kind::kReal;
      if (!c.Fixed(8, &n) || !c.done()) return false;
      v->real = WireFormatLite::DecodeDouble(n);
      return true;
    case kValueText:
    case kValueBlob:
      v->kind = tag == kValueText ? ValueRef::Kind::kText : ValueRef::Kind::kBlob;
      return c.Bytes(&v->bytes) && c.done();
    default:
      return false;
  }
}

// A Value as protobuf writes it, stored into *v unless v is null (a check only).
bool ReadValue(std::string_view bytes, wire::Value* v) {
  ValueRef ref;
  if (!ReadValueRef(bytes, &ref)) return false;
  if (v) CopyValueRef(ref, v);
  return true;
}

// A Row as protobuf writes it, into *row unless row is null (a check only).
bool ReadRowFast(std::string_view bytes, wire::Row* row) {
  Cursor c(bytes);
  int n = 0;
  while (!c.done()) {
    std::string_view value;
    if (!c.Byte(kRowValue) || !c.Bytes(&value)) return false;
    wire::Value* v = nullptr;
    if (row) v = n < row->values_size() ? row->mutable_values(n) : row->add_values();
    if (!ReadValue(value, v)) return false;
    ++n;
  }
  while (row && row->values_size() > n)
    row->mutable_values()->RemoveLast();  // kept for reuse, cleared
  return true;
}

bool IsRow(std::string_view bytes) {
  if (ReadRowFast(bytes, nullptr)) return true;
  wire::Row row;
  return row.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

// A body that is one snapshot_chunk field: its rows apart, the other fields parsed.
bool SplitChunk(std::string_view body, wire::Frame* out, std::vector<std::string_view>* rows) {
  Cursor frame(body);
  std::string_view chunk;
  if (!frame.Byte(kFrameChunk) || !frame.Bytes(&chunk) || !frame.done()) return false;
  std::string fields;  // every field but the rows, as they came
  Cursor c(chunk);
  while (!c.done()) {
    const char* start = c.pos();
    uint64_t tag = 0;
    if (!c.Varint(&tag) || tag > UINT32_MAX || (tag >> 3) == 0) return false;
    if (tag == kChunkRow) {
      std::string_view row;
      if (!c.Bytes(&row) || !IsRow(row)) return false;
      rows->push_back(row);
      continue;
    }
    if (!c.Skip(tag & 7)) return false;
    fields.append(start, static_cast<size_t>(c.pos() - start));
  }
  return out->mutable_snapshot_chunk()->ParseFromArray(fields.data(),
                                                       static_cast<int>(fields.size()));
}

}  // namespace

Status ParseFrameBodyRowsApart(std::string_view body, wire::Frame* out,
                               std::vector<std::string_view>* rows) {
  rows->clear();
  if (body.size() <= kFrameBytesLimit && SplitChunk(body, out, rows)) return Status::OK();
  rows->clear();
  out->Clear();
  return ParseFrameBody(body, out);
}

bool ReadRowRefs(std::string_view bytes, std::vector<ValueRef>* values) {
  Cursor c(bytes);
  size_t n = 0;
  while (!c.done()) {
    std::string_view value;
    if (!c.Byte(kRowValue) || !c.Bytes(&value)) return false;
    if (n == values->size()) values->emplace_back();
    if (!ReadValueRef(value, &(*values)[n])) return false;
    ++n;
  }
  values->resize(n);
  return true;
}

void CopyValueRef(const ValueRef& ref, wire::Value* out) {
  switch (ref.kind) {
    case ValueRef::Kind::kNull:
      out->mutable_null();
      return;
    case ValueRef::Kind::kInteger:
      out->set_integer(ref.integer);
      return;
    case ValueRef::Kind::kReal:
      out->set_real(ref.real);
      return;
    case ValueRef::Kind::kText:
      out->set_text(ref.bytes.data(), ref.bytes.size());
      return;
    case ValueRef::Kind::kBlob:
      out->set_blob(ref.bytes.data(), ref.bytes.size());
      return;
  }
}

Status ReadRow(std::string_view bytes, wire::Row* row) {
  if (ReadRowFast(bytes, row)) return Status::OK();
  if (bytes.size() > kFrameBytesLimit ||
      !row->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Corruption("a row of " + std::to_string(bytes.size()) +
                              " bytes is not a valid sqlift.wire.Row");
  }
  row->DiscardUnknownFields();
  return Status::OK();
}

}  // namespace sqlift::proto
