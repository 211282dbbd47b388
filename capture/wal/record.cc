#include "capture/wal/record.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "capture/wal/bytes.h"
#include "common/base/text.h"

namespace sqlift::wal {
namespace {

Status Bad(uint64_t offset, std::string_view what) {
  return Status::Corruption(fmt::format("record offset {}: {}", offset, what));
}

// Body size of serial type t, or -1 for the reserved types 10 and 11.
int64_t BodySize(uint64_t t) {
  static constexpr int8_t kFixed[] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0, -1, -1};
  if (t < 12) return kFixed[t];
  return static_cast<int64_t>((t - 12) / 2);
}

int64_t SignedBigEndian(std::string_view b) {
  uint64_t v = (Byte(b, 0) & 0x80) ? ~uint64_t{0} : 0;
  for (size_t i = 0; i < b.size(); ++i)
    v = v << 8 | Byte(b, i);
  return static_cast<int64_t>(v);
}

Result<Value> Decode(uint64_t t, std::string_view body, TextEncoding enc) {
  if (t == 0) return Value::Null();
  if (t <= 6) return Value::Integer(SignedBigEndian(body));
  if (t == 7) {
    double d = std::bit_cast<double>(static_cast<uint64_t>(SignedBigEndian(body)));
    return std::isnan(d) ? Value::Null() : Value::Real(d);  // as SQLite reads a NaN
  }
  if (t == 8 || t == 9) return Value::Integer(t == 9 ? 1 : 0);
  if (t % 2 == 0) return Value::Blob(std::string(body));
  SQLIFT_ASSIGN_OR_RETURN(std::string text, TextToUtf8(body, enc));
  return Value::Text(std::move(text));
}

Result<std::string> Utf16ToUtf8(std::string_view s, bool big_endian) {
  if (s.size() % 2 != 0) return Bad(s.size(), "UTF-16 text of an odd number of bytes");
  size_t high = big_endian ? 0 : 1, low = 1 - high;
  auto unit = [&](size_t i) { return uint32_t{Byte(s, i + high)} << 8 | Byte(s, i + low); };
  std::string out;
  out.reserve(s.size() / 2 * 3);  // the most a unit takes in UTF-8
  for (size_t i = 0; i < s.size(); i += 2) {
    uint32_t c = unit(i);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (c >= 0xDC00 && c < 0xE000) return Bad(i, "UTF-16 text: lone low surrogate");
    if (c >= 0xD800 && c < 0xDC00) {
      uint32_t low = i + 3 < s.size() ? unit(i + 2) : 0;
      if (low < 0xDC00 || low >= 0xE000) return Bad(i, "UTF-16 text: lone high surrogate");
      c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
      i += 2;
    }
    AppendUtf8(c, &out);
  }
  return out;
}

// The record's header, checked whole before any body is read: its bytes (`types` from where
// the serial types start), their count, and the offset of the first body.
struct Header {
  std::string_view bytes;
  size_t types = 0;
  size_t fields = 0;
  uint64_t body = 0;
};

Result<Header> ReadHeader(std::string_view record) {
  std::optional<Varint> size = ReadVarint(record, 0);
  if (!size) return Bad(0, "header size varint runs off the record");
  if (size->value < size->length || size->value > record.size()) {
    return Bad(0,
               fmt::format("header size {} in a record of {} bytes", size->value, record.size()));
  }
  Header h{record.substr(0, static_cast<size_t>(size->value)), size->length, 0, size->value};
  for (size_t at = h.types; at < h.bytes.size();) {
    std::optional<Varint> t = ReadVarint(h.bytes, at);
    if (!t) return Bad(at, "serial type varint runs past the header");
    if (BodySize(t->value) < 0) return Bad(at, fmt::format("reserved serial type {}", t->value));
    ++h.fields;
    at += t->length;
  }
  return h;
}

}  // namespace

bool Value::operator==(const Value& o) const {
  return type == o.type && integer == o.integer && real == o.real && bytes == o.bytes;
}

std::string Value::DebugString() const {
  switch (type) {
    case Type::kNull:
      return "NULL";
    case Type::kInteger:
      return fmt::format("{}", integer);
    case Type::kReal:
      return fmt::format("{}r", real);
    case Type::kText:
      return fmt::format("'{}'", bytes);
    case Type::kBlob:
      return fmt::format("blob({} bytes)", bytes.size());
  }
  return "?";
}

Result<std::string> TextToUtf8(std::string_view text, TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::kUtf8:
      return std::string(text);
    case TextEncoding::kUtf16le:
      return Utf16ToUtf8(text, false);
    case TextEncoding::kUtf16be:
      return Utf16ToUtf8(text, true);
    case TextEncoding::kUnset:
      break;
  }
  return Status::Corruption("text in a database whose header sets no text encoding");
}

Result<std::vector<Value>> DecodeRecord(std::string_view record, TextEncoding encoding) {
  return DecodeRecordPrefix(record, encoding, SIZE_MAX);
}

Result<std::vector<Value>> DecodeRecordPrefix(std::string_view record, TextEncoding encoding,
                                              size_t count) {
  SQLIFT_ASSIGN_OR_RETURN(Header header, ReadHeader(record));
  uint64_t at = header.body;
  std::vector<Value> values;
  values.reserve(std::min(count, header.fields));
  for (size_t h = header.types; h < header.bytes.size();) {
    const Varint type = *ReadVarint(header.bytes, h);  // ReadHeader has read each one
    const uint64_t t = type.value;
    h += type.length;
    uint64_t size = static_cast<uint64_t>(BodySize(t));
    if (at + size > record.size()) {
      return Bad(at, fmt::format("body of serial type {} runs past the record's end", t));
    }
    if (values.size() < count) {
      Result<Value> v = Decode(t, record.substr(static_cast<size_t>(at), size), encoding);
      if (!v.ok()) return v.status().With(fmt::format("record offset {}", at));
      values.push_back(std::move(v).value());
    }
    at += size;
  }
  if (at != record.size())
    return Bad(at, fmt::format("{} bytes after the last body", record.size() - at));
  return values;
}

void ApplyRealAffinity(Value* value) {
  if (value->type == Value::Type::kInteger)
    *value = Value::Real(static_cast<double>(value->integer));
}

}  // namespace sqlift::wal
