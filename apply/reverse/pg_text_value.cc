#include "apply/reverse/pg_text_value.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "apply/translate/value_repr.h"

namespace sqlift {

namespace {

// A value as an error message shows it: quoted, long ones cut.
std::string Show(std::string_view text) {
  constexpr size_t kMax = 64;
  if (text.size() <= kMax) return fmt::format("'{}'", text);
  return fmt::format("'{}...' ({} bytes)", text.substr(0, kMax), text.size());
}

Status Malformed(std::string_view type, std::string_view text, std::string_view why = "") {
  return Status::InvalidArgument(
      fmt::format("invalid {} value {}{}{}", type, Show(text), why.empty() ? "" : ": ", why));
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Result<SqliteValue> ParseInteger(std::string_view type, std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return Malformed(type, text);
  return SqliteValue::Integer(v);
}

Result<SqliteValue> ParseBool(std::string_view text) {
  if (text == "t") return SqliteValue::Integer(1);
  if (text == "f") return SqliteValue::Integer(0);
  return Malformed("bool", text, "expected 't' or 'f'");
}

Result<SqliteValue> ParseFloat(std::string_view type, std::string_view text) {
  // SQLite turns a bound NaN into NULL; the text keeps the value.
  if (text == "NaN") return SqliteValue::Text(std::string(text));
  if (text == "Infinity") return SqliteValue::Real(HUGE_VAL);
  if (text == "-Infinity") return SqliteValue::Real(-HUGE_VAL);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return Malformed(type, text);
  }
  return SqliteValue::Real(v);
}

// PostgreSQL's numeric output: [-]digits[.digits], or NaN / Infinity / -Infinity.
Result<SqliteValue> CheckNumeric(std::string_view text) {
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
    return SqliteValue::Text(std::string(text));
  }
  std::string_view s = text;
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  size_t dot = s.find('.');
  bool ok = dot == std::string_view::npos
                ? AllDigits(s)
                : AllDigits(s.substr(0, dot)) && AllDigits(s.substr(dot + 1));
  if (!ok) return Malformed("numeric", text);
  return SqliteValue::Text(std::string(text));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<SqliteValue> ParseBytea(std::string_view text) {
  if (text.substr(0, 2) != "\\x") return Malformed("bytea", text, "expected hex form '\\x...'");
  std::string_view hex = text.substr(2);
  if (hex.size() % 2 != 0) return Malformed("bytea", text, "odd number of hex digits");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return Malformed("bytea", text, "not a hex digit");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return SqliteValue::Blob(std::move(out));
}

// "YYYY-MM-DD HH:MM:SS[.f{1,6}]" (the year may have more than four digits).
bool IsIsoTimestamp(std::string_view s) {
  size_t dash = s.find('-');
  if (dash == std::string_view::npos || dash < 4 || !AllDigits(s.substr(0, dash))) return false;
  std::string_view rest = s.substr(dash);  // "-MM-DD HH:MM:SS[.f]"
  static constexpr std::string_view kShape = "-00-00 00:00:00";
  if (rest.size() < kShape.size()) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    bool digit = rest[i] >= '0' && rest[i] <= '9';
    if (kShape[i] == '0' ? !digit : rest[i] != kShape[i]) return false;
  }
  std::string_view frac = rest.substr(kShape.size());
  if (frac.empty()) return true;
  return frac[0] == '.' && frac.size() <= 7 && AllDigits(frac.substr(1));
}

Result<SqliteValue> ParseTimestamptz(std::string_view text) {
  if (text == "infinity" || text == "-infinity") return SqliteValue::Text(std::string(text));
  constexpr std::string_view kUtc = "+00";
  if (text.size() > kUtc.size() && text.substr(text.size() - kUtc.size()) == kUtc) {
    std::string_view local = text.substr(0, text.size() - kUtc.size());
    if (IsIsoTimestamp(local)) return SqliteValue::Text(std::string(local));
  }
  return Malformed("timestamptz", text,
                   "expected 'YYYY-MM-DD HH:MM:SS[.ffffff]+00' (the reader's session must run "
                   "with TimeZone=UTC, DateStyle=ISO)");
}

}  // namespace

Result<SqliteValue> PgTextToSqlite(uint32_t type_oid, const pgchange::Datum& datum) {
  switch (datum.kind) {
    case pgchange::Datum::Kind::kNull:
      return SqliteValue::Null();
    case pgchange::Datum::Kind::kUnchanged:
      return Status::InvalidArgument("an unchanged TOAST value has no value to convert");
    case pgchange::Datum::Kind::kText:
      break;
  }
  const std::string& text = datum.text;
  switch (type_oid) {
    case pgoid::kBool:
      return ParseBool(text);
    case pgoid::kInt2:
      return ParseInteger("int2", text);
    case pgoid::kInt4:
      return ParseInteger("int4", text);
    case pgoid::kInt8:
      return ParseInteger("int8", text);
    case pgoid::kOid:
      return ParseInteger("oid", text);
    case pgoid::kFloat4:
      return ParseFloat("float4", text);
    case pgoid::kFloat8:
      return ParseFloat("float8", text);
    case pgoid::kNumeric:
      return CheckNumeric(text);
    case pgoid::kBytea:
      return ParseBytea(text);
    case pgoid::kTimestamptz:
      return ParseTimestamptz(text);
    default:  // timestamp, date, time, json(b), uuid, text, varchar, bpchar, unknown types
      return SqliteValue::Text(text);
  }
}

Result<SqliteValue> PgTextToSqlite(uint32_t type_oid, const pgchange::Datum& datum, TimeUnit unit) {
  const bool time = type_oid == pgoid::kTimestamptz || type_oid == pgoid::kTimestamp;
  if (unit == TimeUnit::kAuto || !time || datum.kind != pgchange::Datum::Kind::kText) {
    return PgTextToSqlite(type_oid, datum);
  }
  wire::Value text;
  text.set_text(datum.text);
  PgType as = PgType::Of(PgType::Kind::kTimestamptz);
  Result<int64_t> micros = InstantOf(text, as);
  if (!micros.ok()) {
    return Malformed(type_oid == pgoid::kTimestamp ? "timestamp" : "timestamptz", datum.text,
                     "not an instant a number can hold");
  }
  const int64_t m = *micros;
  switch (unit) {
    case TimeUnit::kSeconds:
      if (m % 1000000 == 0) return SqliteValue::Integer(m / 1000000);
      return SqliteValue::Real(static_cast<double>(m) / 1e6);
    case TimeUnit::kMillis:
      if (m % 1000 == 0) return SqliteValue::Integer(m / 1000);
      return SqliteValue::Real(static_cast<double>(m) / 1e3);
    case TimeUnit::kMicros:
      return SqliteValue::Integer(m);
    case TimeUnit::kJulianDay:
      return SqliteValue::Real(static_cast<double>(m) / 86400e6 + 2440587.5);
    case TimeUnit::kAuto:
      break;
  }
  return PgTextToSqlite(type_oid, datum);
}

Status BindSqliteValue(SqliteStatement& stmt, int index, const SqliteValue& value) {
  switch (value.kind) {
    case SqliteValue::Kind::kNull:
      return stmt.BindNull(index);
    case SqliteValue::Kind::kInteger:
      return stmt.BindInt64(index, value.integer);
    case SqliteValue::Kind::kReal:
      return stmt.BindDouble(index, value.real);
    case SqliteValue::Kind::kText:
      return stmt.BindText(index, value.bytes);
    case SqliteValue::Kind::kBlob:
      return stmt.BindBlob(index, value.bytes);
  }
  return Status::Internal("bind: unknown SqliteValue kind");
}

}  // namespace sqlift
