#include "tools/verify/verify_normalize.h"

#include <fmt/format.h>
#include <strings.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "apply/translate/value_encoder.h"

namespace sqlift {
namespace {

using K = PgType::Kind;

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\n\r\f\v");
  return s.substr(b, e - b + 1);
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

std::string CanonicalInteger(std::string_view text) {
  std::string_view s = Trim(text);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t n = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::string(text);
  return std::to_string(n);
}

// Special values as float8in/float4in accept them, any case, spelled as float8out does.
std::optional<std::string> SpecialFloat(std::string_view s) {
  auto is = [&](const char* w) {
    return s.size() == strlen(w) && strncasecmp(s.data(), w, s.size()) == 0;
  };
  if (is("nan") || is("+nan") || is("-nan")) return "NaN";
  if (is("infinity") || is("+infinity") || is("inf") || is("+inf")) return "Infinity";
  if (is("-infinity") || is("-inf")) return "-Infinity";
  return std::nullopt;
}

// Shortest round-trip text of the double (kDouble) or float (kReal) the text reads as, as
// float8in/float4in read it (strtod/strtof).
std::string CanonicalFloat(std::string_view text, bool single) {
  std::string s(Trim(text));
  if (std::optional<std::string> special = SpecialFloat(s)) return *special;
  char* end = nullptr;
  char buf[64];
  std::to_chars_result r;
  if (single) {
    float f = std::strtof(s.c_str(), &end);
    r = std::to_chars(buf, buf + sizeof buf, f);
  } else {
    double d = std::strtod(s.c_str(), &end);
    r = std::to_chars(buf, buf + sizeof buf, d);
  }
  if (s.empty() || end != s.c_str() + s.size()) return std::string(text);
  std::string out(buf, r.ptr);
  return out == "-0" ? "0" : out;  // float8out writes -0 as "-0"; equal as numbers
}

std::string CanonicalDate(std::string_view text) {
  std::string_view s = Trim(text);
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::string(text);
  return std::string(s);
}

// "{ab-cd}" / "ABCD..." → 32 lowercase hex digits.
std::string CanonicalUuid(std::string_view text) {
  std::string out;
  for (char c : Trim(text)) {
    if (c == '-' || c == '{' || c == '}') continue;
    out += static_cast<char>(c >= 'A' && c <= 'F' ? c + ('a' - 'A') : c);
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// The value as SQLite holds it, for reports of values PostgreSQL would refuse.
std::string SqliteRendering(const wire::Value& v) {
  if (v.has_integer()) return std::to_string(v.integer());
  if (v.has_real()) return SqliteRealText(v.real());
  if (v.has_blob()) return "x'" + Hex(v.blob()) + "'";
  return "'" + v.text() + "'";
}

}  // namespace

std::string CanonicalNumeric(std::string_view text) {
  std::string_view s = Trim(text);
  if (std::optional<std::string> special = SpecialFloat(s)) return *special;
  bool negative = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string digits;  // every mantissa digit; the value is 0.digits * 10^point
  int64_t point = 0;
  bool seen_point = false, any = false;
  for (; i < s.size(); ++i) {
    if (IsDigit(s[i])) {
      digits += s[i], any = true;
      if (!seen_point) ++point;
    } else if (s[i] == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any) return std::string(text);
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    int64_t exp = 0;
    std::string_view e = s.substr(i + 1);
    if (!e.empty() && e[0] == '+') e.remove_prefix(1);
    auto r = std::from_chars(e.data(), e.data() + e.size(), exp);
    if (r.ec != std::errc() || r.ptr != e.data() + e.size() || std::llabs(exp) > 100000) {
      return std::string(text);
    }
    point += exp;
    i = s.size();
  }
  if (i != s.size()) return std::string(text);
  size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) return "0";
  digits.erase(0, lead), point -= static_cast<int64_t>(lead);
  digits.erase(digits.find_last_not_of('0') + 1);
  auto n = static_cast<int64_t>(digits.size());
  std::string out = negative ? "-" : "";
  if (point <= 0) return out + "0." + std::string(static_cast<size_t>(-point), '0') + digits;
  if (point >= n) return out + digits + std::string(static_cast<size_t>(point - n), '0');
  return out + digits.substr(0, static_cast<size_t>(point)) + "." +
         digits.substr(static_cast<size_t>(point));
}

std::string Canonical(std::string_view text, const PgType& t) {
  switch (t.kind) {
    case K::kBigint:
    case K::kInteger:
    case K::kSmallint:
      return CanonicalInteger(text);
    case K::kDouble:
      return CanonicalFloat(text, false);
    case K::kReal:
      return CanonicalFloat(text, true);
    case K::kNumeric:
      return CanonicalNumeric(text);
    case K::kTimestamptz:
      return CanonicalTimestamp(text, true);
    case K::kTimestamp:
      return CanonicalTimestamp(text, false);
    case K::kDate:
      return CanonicalDate(text);
    case K::kUuid:
      return CanonicalUuid(text);
    case K::kJson:
    case K::kJsonb:
      return CanonicalJson(text);
    default:  // boolean (t/f both ways), bytea (\x lowercase hex both ways), text, others
      return std::string(text);
  }
}

CanonicalValue CanonicalFromSqlite(const wire::Value& v, const PgType& t) {
  if (v.kind_case() == wire::Value::KIND_NOT_SET || v.has_null()) return {};
  Result<std::string> text = PgTextOf(v, t);
  if (!text.ok()) {
    return {CanonicalValue::Kind::kUnfit,
            std::string(text.status().message()) + ": " + SqliteRendering(v)};
  }
  return {CanonicalValue::Kind::kValue, Canonical(*text, t)};
}

std::string CanonicalFromPg(std::string_view text, const PgType& t) {
  return Canonical(text, t);
}

}  // namespace sqlift
