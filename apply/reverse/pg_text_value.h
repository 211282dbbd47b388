// PgTextValue: a PostgreSQL value in its text output form (as pgoutput sends it, see
// proto/pg_change.h) turned into the SQLite value the reverse applier binds. The rules, by
// the column's PostgreSQL type OID:
//
//   NULL                              → NULL
//   bool (16) 't' / 'f'               → integer 1 / 0
//   int2, int4, int8, oid             → integer
//   float4, float8                    → real; 'Infinity' and '-Infinity' included. 'NaN' stays
//                                       text: SQLite cannot store a NaN real (it would be NULL)
//   numeric (1700)                    → text, checked to be a number ('NaN', '[-]Infinity'
//                                       included); the SQLite column's affinity converts it,
//                                       as it would the application's own INSERT of that text
//   bytea (17) '\x<hex>'              → blob
//   timestamptz (1184)                → text "YYYY-MM-DD HH:MM:SS[.ffffff]", UTC, the "+00"
//                                       offset removed ('infinity', '-infinity' as given). Any
//                                       other offset is refused: the reader runs with TimeZone=UTC
//   timestamp, date, time, json, jsonb, uuid, text, varchar, bpchar, anything else → text as given
//
// A value malformed for its type is InvalidArgument naming the type and the value; the caller
// adds the table and the column.
//
// Thread safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "apply/translate/type_mapping.h"
#include "capture/pg_logical/pg_change.h"
#include "common/base/result.h"
#include "common/sqlite/sqlite_statement.h"

namespace sqlift {

// PostgreSQL type OIDs the conversion knows (pg_type.dat).
namespace pgoid {
inline constexpr uint32_t kBool = 16;
inline constexpr uint32_t kBytea = 17;
inline constexpr uint32_t kInt8 = 20;
inline constexpr uint32_t kInt2 = 21;
inline constexpr uint32_t kInt4 = 23;
inline constexpr uint32_t kText = 25;
inline constexpr uint32_t kOid = 26;
inline constexpr uint32_t kJson = 114;
inline constexpr uint32_t kFloat4 = 700;
inline constexpr uint32_t kFloat8 = 701;
inline constexpr uint32_t kBpchar = 1042;
inline constexpr uint32_t kVarchar = 1043;
inline constexpr uint32_t kDate = 1082;
inline constexpr uint32_t kTime = 1083;
inline constexpr uint32_t kTimestamp = 1114;
inline constexpr uint32_t kTimestamptz = 1184;
inline constexpr uint32_t kNumeric = 1700;
inline constexpr uint32_t kUuid = 2950;
inline constexpr uint32_t kJsonb = 3802;
}  // namespace pgoid

// One SQLite value, ready to bind.
struct SqliteValue {
  enum class Kind { kNull, kInteger, kReal, kText, kBlob };
  Kind kind = Kind::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string bytes;  // kText (UTF-8) or kBlob

  static SqliteValue Null() { return {}; }
  static SqliteValue Integer(int64_t v) { return {Kind::kInteger, v, 0, {}}; }
  static SqliteValue Real(double v) { return {Kind::kReal, 0, v, {}}; }
  static SqliteValue Text(std::string v) { return {Kind::kText, 0, 0, std::move(v)}; }
  static SqliteValue Blob(std::string v) { return {Kind::kBlob, 0, 0, std::move(v)}; }
};

// Converts one value of a column of type `type_oid`. `datum` must be kNull or kText (an
// unchanged TOAST value has no value to convert: InvalidArgument).
[[nodiscard]] Result<SqliteValue> PgTextToSqlite(uint32_t type_oid, const pgchange::Datum& datum);

// As above, for a column whose SQLite representation of time is declared in [mapping]
// (`unit`, not kAuto): a timestamp or timestamptz becomes the instant as a number in that unit,
// as the application stores it: integer seconds, milliseconds or microseconds (a real when the
// instant has a finer fraction than the unit), or a real Julian day number. 'infinity' has no
// such number: InvalidArgument. Other types, NULL and kAuto: as above.
[[nodiscard]] Result<SqliteValue> PgTextToSqlite(uint32_t type_oid, const pgchange::Datum& datum,
                                                 TimeUnit unit);

// Binds `value` to parameter `index` (1-based) of `stmt`.
[[nodiscard]] Status BindSqliteValue(SqliteStatement& stmt, int index, const SqliteValue& value);

}  // namespace sqlift
