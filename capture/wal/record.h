// Value and DecodeRecord: SQLite's record format (https://www.sqlite.org/fileformat2.html#
// record_format), the payload of a table row or an index entry, decoded into typed values.
//
// A record is a header (its size as a varint, then one serial type varint per column)
// followed by the column bodies. Text is returned as UTF-8 whatever the database encoding.
// Values are as stored: a column with REAL affinity may hold an integer-valued real as an
// integer (SQLite converts it back when reading; ApplyRealAffinity does the same), and an
// INTEGER PRIMARY KEY column is stored as NULL (its value is the rowid).
//
// Thread safety: pure functions and values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture/wal/db_header.h"
#include "common/base/result.h"

namespace sqlift::wal {

struct Value {
  enum class Type : uint8_t { kNull, kInteger, kReal, kText, kBlob };

  static Value Null() { return {}; }
  static Value Integer(int64_t v) { return {Type::kInteger, v, 0, {}}; }
  static Value Real(double v) { return {Type::kReal, 0, v, {}}; }
  static Value Text(std::string utf8) { return {Type::kText, 0, 0, std::move(utf8)}; }
  static Value Blob(std::string bytes) { return {Type::kBlob, 0, 0, std::move(bytes)}; }

  // Equal type and value; reals compare by value (a record never holds a NaN).
  bool operator==(const Value& o) const;
  std::string DebugString() const;

  Type type = Type::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string bytes;  // text (UTF-8) or blob
};

// Decodes `record`; Corruption naming the byte offset within the record when its header or
// bodies are malformed, a serial type is reserved (10, 11), the bodies do not add up to
// the record's size exactly, or UTF-16 text is not well formed.
[[nodiscard]] Result<std::vector<Value>> DecodeRecord(std::string_view record,
                                                      TextEncoding encoding);
// The first `count` values of `record` only (all of them when it has fewer); the header and
// the record's size are checked as DecodeRecord checks them.
[[nodiscard]] Result<std::vector<Value>> DecodeRecordPrefix(std::string_view record,
                                                            TextEncoding encoding, size_t count);

// `text` (as stored in a database of `encoding`) as UTF-8.
[[nodiscard]] Result<std::string> TextToUtf8(std::string_view text, TextEncoding encoding);

// A column with REAL affinity: an integer value becomes the real SQLite would read.
void ApplyRealAffinity(Value* value);

}  // namespace sqlift::wal
