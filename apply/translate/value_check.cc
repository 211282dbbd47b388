// WhyValueDoesNotFit: whether PostgreSQL takes a SQLite value in a column of a mapped type.
// Deliberately strict: a value that PostgreSQL would change (round, reinterpret) counts as
// not fitting, because the design forbids silent truncation.
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <regex>

#include "apply/translate/type_mapping.h"
#include "apply/translate/value_repr.h"
#include "common/base/parse.h"
#include "common/base/text.h"

namespace sqlift {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

size_t SkipSpaces(const std::string& s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    ++i;
  return i;
}

// Reads exactly n digits at *i into *out.
bool FixedDigits(const std::string& s, size_t* i, int n, int* out) {
  if (s.size() - *i < static_cast<size_t>(n)) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

bool Expect(const std::string& s, size_t* i, char c) {
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

// [space][+-]digits[space]
bool IsIntegerText(const std::string& s) {
  size_t i = SkipSpaces(s, 0);
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = i;
  while (i < s.size() && IsDigit(s[i]))
    ++i;
  return i > digits && SkipSpaces(s, i) == s.size();
}

using K = PgType::Kind;
using Why = std::optional<std::string>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Why TextProblem(std::string_view s, std::string_view what) {
  if (s.find('\0') != std::string_view::npos) return fmt::format("{} holds a NUL byte", what);
  if (!IsValidUtf8(s)) return fmt::format("{} is not valid UTF-8", what);
  return std::nullopt;
}

// Integer range of a PostgreSQL integer type.
std::pair<int64_t, int64_t> Range(K kind) {
  if (kind == K::kSmallint) return {-32768, 32767};
  if (kind == K::kInteger) return {INT32_MIN, INT32_MAX};
  return {INT64_MIN, INT64_MAX};
}

Why CheckInteger(const wire::Value& v, const PgType& t) {
  auto [lo, hi] = Range(t.kind);
  int64_t x = 0;
  if (v.has_integer()) {
    x = v.integer();
  } else if (v.has_real()) {
    double d = v.real();
    if (!std::isfinite(d) || d != std::floor(d)) return "a fractional or non-finite number";
    if (d < -9.2e18 || d > 9.2e18) return "out of range";
    x = static_cast<int64_t>(d);
  } else if (v.has_text()) {
    if (!IsIntegerText(v.text())) return "text that is not an integer";
    std::string s = v.text();
    size_t b = s.find_first_of("+-0123456789");
    const char* p = s.data() + b + (s[b] == '+' ? 1 : 0);
    auto r = std::from_chars(p, s.data() + s.size(), x);
    if (r.ec != std::errc()) return "out of range";
  } else {
    return "a blob";
  }
  if (x < lo || x > hi) return fmt::format("out of range for {}", t.sql);
  return std::nullopt;
}

// Digits before and after the point of a decimal number in text ("-0012.3400e1" → 3, 1).
bool DecimalDigits(const std::string& s, int* int_digits, int* frac_digits) {
  // [space][+-]digits[.digits][(e|E)[+-]1..6 digits][space], at least one digit overall.
  size_t i = SkipSpaces(s, 0);
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t int_begin = i;
  while (i < s.size() && IsDigit(s[i]))
    ++i;
  std::string digits = s.substr(int_begin, i - int_begin);
  long point = static_cast<long>(digits.size());
  if (i < s.size() && s[i] == '.') {
    size_t frac_begin = ++i;
    while (i < s.size() && IsDigit(s[i]))
      ++i;
    digits += s.substr(frac_begin, i - frac_begin);
  }
  if (digits.empty()) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t exp_begin = ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = i;
    while (i < s.size() && IsDigit(s[i]))
      ++i;
    if (i == exp_digits || i - exp_digits > 6) return false;
    std::string_view exponent(s.data() + exp_begin, i - exp_begin);
    if (exponent.front() == '+') exponent.remove_prefix(1);
    Result<int64_t> shift = ParseInt64(exponent, "exponent");  // at most 6 digits
    if (!shift.ok()) return false;
    point += static_cast<long>(*shift);
  }
  if (SkipSpaces(s, i) != s.size()) return false;
  size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) return *int_digits = *frac_digits = 0, true;
  digits.erase(0, lead), point -= static_cast<long>(lead);
  digits.erase(digits.find_last_not_of('0') + 1);
  *int_digits = static_cast<int>(std::max(0L, point));
  *frac_digits = static_cast<int>(std::max(0L, static_cast<long>(digits.size()) - point));
  return true;
}

Why CheckNumeric(const wire::Value& v, const PgType& t) {
  std::string s;
  if (v.has_integer()) {
    s = std::to_string(v.integer());
  } else if (v.has_real()) {
    if (!std::isfinite(v.real())) {
      return t.precision ? Why("a non-finite number in a constrained numeric") : std::nullopt;
    }
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v.real());  // shortest round-trip form
    s.assign(buf, r.ptr);
  } else if (v.has_text()) {
    s = v.text();
  } else {
    return "a blob";
  }
  int int_digits = 0, frac_digits = 0;
  if (!DecimalDigits(s, &int_digits, &frac_digits)) return "text that is not a number";
  if (t.precision == 0) return std::nullopt;
  if (int_digits > t.precision - t.scale) return fmt::format("too large for {}", t.sql);
  if (frac_digits > t.scale) {
    return fmt::format("{} decimal places; {} would round it", frac_digits, t.sql);
  }
  return std::nullopt;
}

Why CheckDouble(const wire::Value& v) {
  if (v.has_integer() || v.has_real()) return std::nullopt;
  if (!v.has_text()) return "a blob";
  std::string s = Lower(v.text());
  for (const char* special : {"nan", "infinity", "-infinity", "+infinity", "inf", "-inf"}) {
    if (s == special) return std::nullopt;
  }
  int a = 0, b = 0;
  if (!DecimalDigits(s, &a, &b)) return "text that is not a number";
  return std::nullopt;
}

Why CheckBoolean(const wire::Value& v) {
  if (v.has_integer() && (v.integer() == 0 || v.integer() == 1)) return std::nullopt;
  if (v.has_real() && (v.real() == 0.0 || v.real() == 1.0)) return std::nullopt;
  if (v.has_text()) {
    std::string s = Lower(v.text());
    for (const char* ok : {"0", "1", "true", "false", "t", "f"}) {
      if (s == ok) return std::nullopt;
    }
  }
  return "not 0/1/true/false/t/f";
}

Why CheckText(const wire::Value& v, const PgType& t) {
  if (v.has_integer() || v.has_real()) return std::nullopt;
  const std::string& s = v.has_text() ? v.text() : v.blob();
  if (Why w = TextProblem(s, v.has_text() ? "text" : "a blob")) return w;
  if (t.kind == K::kVarchar) {
    size_t chars = 0;
    for (unsigned char c : s)
      chars += (c & 0xC0) != 0x80;
    if (chars > static_cast<size_t>(t.length)) {
      return fmt::format("{} characters, longer than {}", chars, t.sql);
    }
  }
  return std::nullopt;
}

Why CheckJson(const wire::Value& v, const PgType& t) {
  if (v.has_integer()) return std::nullopt;
  if (v.has_real()) return std::isfinite(v.real()) ? Why() : Why("a non-finite number");
  const std::string& s = v.has_text() ? v.text() : v.blob();
  if (Why w = TextProblem(s, "the text")) return w;
  Why w = WhyNotJson(s);
  if (w && t.kind == K::kJson && w->find("\\u0000") != std::string::npos) return std::nullopt;
  return w;
}

Why CheckUuid(const wire::Value& v) {
  static const std::regex kUuid(
      R"([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})");
  if (v.has_text() && std::regex_match(v.text(), kUuid)) return std::nullopt;
  return "not a UUID";
}

bool LeapYear(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// 'YYYY-MM-DD' with a real calendar date.
Why CheckDateText(const std::string& s, size_t* used) {
  size_t i = 0;
  int y = 0, mo = 0, d = 0;
  if (!FixedDigits(s, &i, 4, &y) || !Expect(s, &i, '-') || !FixedDigits(s, &i, 2, &mo) ||
      !Expect(s, &i, '-') || !FixedDigits(s, &i, 2, &d)) {
    return "not a date in YYYY-MM-DD form";
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12) return fmt::format("month {} does not exist", mo);
  int last = kDays[mo - 1] + (mo == 2 && LeapYear(y) ? 1 : 0);
  if (d < 1 || d > last) return fmt::format("day {} does not exist in {}-{:02}", d, y, mo);
  *used = i;
  return std::nullopt;
}

Why CheckTime(const wire::Value& v, const PgType& t) {
  if (t.kind != K::kDate) {  // one reading of times for every path: apply/value_repr.h
    Result<int64_t> instant = InstantOf(v, t);
    return instant.ok() ? Why() : Why(std::string(instant.status().message()));
  }
  if (!v.has_text()) return "not a date in YYYY-MM-DD form";
  size_t used = 0;
  if (Why w = CheckDateText(v.text(), &used)) return w;
  if (v.text().compare(0, 4, "0000") == 0) return "year 0 does not exist";
  return used == v.text().size() ? Why() : Why("a date with more after it");
}

}  // namespace

std::optional<std::string> WhyValueDoesNotFit(const wire::Value& v, const PgType& t) {
  if (v.kind_case() == wire::Value::KIND_NOT_SET || v.has_null()) return std::nullopt;
  switch (t.kind) {
    case K::kBigint:
    case K::kInteger:
    case K::kSmallint:
      return CheckInteger(v, t);
    case K::kNumeric:
      return CheckNumeric(v, t);
    case K::kDouble:
    case K::kReal:
      return CheckDouble(v);
    case K::kBoolean:
      return CheckBoolean(v);
    case K::kText:
    case K::kVarchar:
      return CheckText(v, t);
    case K::kTimestamptz:
    case K::kTimestamp:
    case K::kDate:
      return CheckTime(v, t);
    case K::kBytea:
      return v.has_text() || v.has_blob() ? Why() : Why("a number in a bytea column");
    case K::kJsonb:
    case K::kJson:
      return CheckJson(v, t);
    case K::kUuid:
      return CheckUuid(v);
    case K::kOther:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace sqlift
