// Binary COPY: each value in its type's send form (see value_encoder.h).
#include <fmt/format.h>

#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "apply/translate/value_encoder.h"
#include "apply/translate/value_encoder_internal.h"
#include "apply/translate/value_repr.h"
#include "common/base/text.h"
#include "proto/wire/chunk_rows.h"

// Each value goes out in its type's send/recv form (PostgreSQL's utils/adt/*.c), read from the
// SQLite value the way the text spelling above reads it, so that both formats store the same
// datum: floats parse the text the text format would send (same rounding), fractions of a
// second round as timestamp_in rounds them, numerics keep the display scale numeric_in would.
// Values are checked (WhyValueDoesNotFit) first, so the parsers here only meet text the
// checks accepted.
namespace sqlift {
namespace {

using encoding::Bool;
using encoding::Numberish;
using encoding::Spell;
using K = PgType::Kind;

constexpr int64_t kPgEpochDays = 10957;  // 2000-01-01, PostgreSQL's epoch, in unix days
constexpr int64_t kMicros = 1'000'000;

// The low `bytes` bytes of x, big-endian (network order, as every binary COPY number is).
void PutBig(uint64_t x, int bytes, std::string* out) {
  uint64_t be = x << (8 * (8 - bytes));
  if constexpr (std::endian::native == std::endian::little) be = __builtin_bswap64(be);
  char b[8];
  std::memcpy(b, &be, 8);
  out->append(b, static_cast<size_t>(bytes));
}

// A field: its length, then its bytes.
void PutField(std::string_view bytes, std::string* out) {
  PutBig(static_cast<uint32_t>(bytes.size()), 4, out);
  out->append(bytes);
}

void PutFixed(uint64_t x, int bytes, std::string* out) {
  PutBig(static_cast<uint32_t>(bytes), 4, out);
  PutBig(x, bytes, out);
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back()))
    s.remove_suffix(1);
  return s;
}

int Digits(std::string_view s, size_t at, int n) {
  int v = 0;
  for (int k = 0; k < n; ++k)
    v = v * 10 + (s[at + static_cast<size_t>(k)] - '0');
  return v;
}

int64_t IntegerOf(const wire::Value& v) {
  if (v.has_integer()) return v.integer();
  if (v.has_real()) return static_cast<int64_t>(v.real());
  std::string_view s = Trim(v.text());
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t x = 0;
  std::from_chars(s.data(), s.data() + s.size(), x);  // checked: an integer in range
  return x;
}

// float8in/float4in: strtod/strtof, with their range errors (an overflow or an underflow to
// zero is refused, not stored as infinity or 0).
template <typename F>
Result<F> ParseFloat(const std::string& text, F (*parse)(const char*, char**)) {
  errno = 0;
  F f = parse(text.c_str(), nullptr);
  if (errno == ERANGE && (f == 0 || std::isinf(f))) {
    return Status::InvalidArgument("out of range for a floating-point column");
  }
  return f;
}

Status PutFloat(const wire::Value& v, const PgType& t, std::string* out) {
  if (t.kind == K::kReal) {  // from the text the text format sends: one rounding, to float
    SQLIFT_ASSIGN_OR_RETURN(float f, ParseFloat<float>(Numberish(v), std::strtof));
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    PutFixed(bits, 4, out);
    return Status::OK();
  }
  double d = v.has_real() ? v.real() : static_cast<double>(v.integer());
  if (v.has_text()) {
    SQLIFT_ASSIGN_OR_RETURN(d, ParseFloat<double>(v.text(), std::strtod));
  }
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  PutFixed(bits, 8, out);
  return Status::OK();
}

// A decimal number as numeric_in reads it: digits without leading or trailing zeros, the
// position of the point, and the display scale (digits written after the point, less the
// exponent).
struct Decimal {
  bool negative = false;
  std::string digits;
  int64_t point = 0;
  int64_t dscale = 0;
};

Decimal ParseDecimal(std::string_view s) {
  Decimal d;
  s = Trim(s);
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) d.negative = s[i++] == '-';
  size_t int_begin = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
    ++i;
  d.digits.assign(s.substr(int_begin, i - int_begin));
  int64_t int_len = static_cast<int64_t>(d.digits.size()), frac_len = 0, exp = 0;
  if (i < s.size() && s[i] == '.') {
    size_t frac_begin = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i;
    d.digits.append(s.substr(frac_begin, i - frac_begin));
    frac_len = static_cast<int64_t>(i - frac_begin);
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && s[i] == '+') ++i;
    std::from_chars(s.data() + i, s.data() + s.size(), exp);  // checked: 1 to 6 digits
  }
  d.point = int_len + exp;
  d.dscale = std::max<int64_t>(0, frac_len - exp);
  size_t lead = d.digits.find_first_not_of('0');
  if (lead == std::string::npos) {
    d.digits.clear();
    return d;
  }
  d.digits.erase(0, lead);
  d.point -= static_cast<int64_t>(lead);
  d.digits.erase(d.digits.find_last_not_of('0') + 1);
  return d;
}

// numeric_send's form: ndigits, weight, sign, dscale, then base-10000 digits.
Status PutNumeric(const wire::Value& v, std::string* out) {
  if (v.has_real() && !std::isfinite(v.real())) {  // NaN, +Infinity, -Infinity
    uint16_t sign = std::isnan(v.real()) ? 0xC000 : v.real() > 0 ? 0xD000 : 0xF000;
    PutBig(8, 4, out), PutBig(0, 2, out), PutBig(0, 2, out), PutBig(sign, 2, out);
    PutBig(0, 2, out);
    return Status::OK();
  }
  Decimal d = ParseDecimal(Numberish(v));
  std::string all;  // the digits, aligned to base-10000 groups
  int64_t weight = 0;
  if (!d.digits.empty()) {
    int64_t pad = (4 - ((d.point % 4) + 4) % 4) % 4;  // zeros in front align the point
    all.assign(static_cast<size_t>(pad), '0');
    all += d.digits;
    all.append((4 - all.size() % 4) % 4, '0');
    weight = (d.point + pad) / 4 - 1;
  }
  const size_t groups = all.size() / 4;
  if (groups > 3000 || weight > INT16_MAX || weight < INT16_MIN || d.dscale > 0x3FFF) {
    return Status::InvalidArgument("out of the range of numeric");
  }
  PutBig(8 + 2 * groups, 4, out);
  PutBig(groups, 2, out);
  PutBig(static_cast<uint64_t>(weight), 2, out);
  PutBig(d.negative && groups > 0 ? 0x4000 : 0, 2, out);
  PutBig(static_cast<uint64_t>(d.dscale), 2, out);
  for (size_t k = 0; k < all.size(); k += 4)
    PutBig(static_cast<uint64_t>(Digits(all, k, 4)), 2, out);
  return Status::OK();
}

Status PutDate(const wire::Value& v, std::string* out) {
  const std::string& s = v.text();
  int64_t y = Digits(s, 0, 4);
  if (y == 0) return Status::InvalidArgument("year 0 does not exist");
  PutFixed(static_cast<uint64_t>(DaysFromCivil(y, Digits(s, 5, 2), Digits(s, 8, 2)) - kPgEpochDays),
           4, out);
  return Status::OK();
}

// A timestamp, checked and encoded by one reading: WhyValueDoesNotFit's check of a time is
// InstantOf, and a time column holds the most expensive values to read.
Status PutInstant(const wire::Value& v, const PgType& t, std::string* out) {
  Result<int64_t> micros = InstantOf(v, t);
  if (!micros.ok()) {
    return Status::InvalidArgument(
        fmt::format("{} (column type {})", micros.status().message(), t.sql));
  }
  PutFixed(static_cast<uint64_t>(*micros - kPgEpochDays * 86400 * kMicros), 8, out);
  return Status::OK();
}

int HexValue(char c) {
  return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

void PutUuid(const std::string& s, std::string* out) {
  std::string bytes;
  for (size_t i = 0; i + 1 < s.size();) {
    if (s[i] == '-') {
      ++i;
      continue;
    }
    bytes.push_back(static_cast<char>(HexValue(s[i]) << 4 | HexValue(s[i + 1])));
    i += 2;
  }
  PutField(bytes, out);
}

// Text-like types: the value's bytes, numbers spelled as the text format spells them.
void PutText(const wire::Value& v, const PgType& t, std::string* out) {
  if (v.has_text()) return PutField(v.text(), out);
  if (v.has_blob()) return PutField(v.blob(), out);
  PutField(Spell(v, t), out);
}

Status PutBinary(const wire::Value& v, const PgType& t, std::string* out) {
  switch (t.kind) {
    case K::kBigint:
      return PutFixed(static_cast<uint64_t>(IntegerOf(v)), 8, out), Status::OK();
    case K::kInteger:
      return PutFixed(static_cast<uint32_t>(IntegerOf(v)), 4, out), Status::OK();
    case K::kSmallint:
      return PutFixed(static_cast<uint16_t>(IntegerOf(v)), 2, out), Status::OK();
    case K::kDouble:
    case K::kReal:
      return PutFloat(v, t, out);
    case K::kNumeric:
      return PutNumeric(v, out);
    case K::kBoolean:
      return PutFixed(Bool(v) == "t" ? 1 : 0, 1, out), Status::OK();
    case K::kTimestamptz:
    case K::kTimestamp:
      return PutInstant(v, t, out);
    case K::kDate:
      return PutDate(v, out);
    case K::kBytea:
      return PutField(v.has_blob() ? v.blob() : v.text(), out), Status::OK();
    case K::kJsonb: {
      std::string text = Spell(v, t);
      PutBig(static_cast<uint32_t>(text.size() + 1), 4, out);
      out->push_back('\1');  // jsonb_recv's version byte
      out->append(text);
      return Status::OK();
    }
    case K::kUuid:
      return PutUuid(v.text(), out), Status::OK();
    case K::kText:
    case K::kVarchar:
    case K::kJson:
      return PutText(v, t, out), Status::OK();
    case K::kOther:
      break;
  }
  return Status::Internal("no binary form for " + t.sql);
}

}  // namespace

bool HasBinaryForm(const PgType& t) {
  return t.kind != K::kOther;
}

Status AppendBinaryField(const wire::Value& v, const PgType& t, std::string* out) {
  if (v.kind_case() == wire::Value::KIND_NOT_SET || v.has_null()) {
    PutBig(0xFFFFFFFF, 4, out);  // length -1: NULL
    return Status::OK();
  }
  if (t.kind == K::kTimestamptz || t.kind == K::kTimestamp) return PutInstant(v, t, out);
  if (std::optional<std::string> why = WhyValueDoesNotFit(v, t)) {
    return Status::InvalidArgument(*why + " (column type " + t.sql + ")");
  }
  const size_t start = out->size();
  Status st = PutBinary(v, t, out);
  if (!st.ok()) out->resize(start);
  return st;
}

bool AppendBinaryFieldFast(const proto::ValueRef& v, const PgType& t, std::string* out) {
  using Kind = proto::ValueRef::Kind;
  if (v.kind == Kind::kNull) {
    PutBig(0xFFFFFFFF, 4, out);
    return true;
  }
  switch (t.kind) {
    case K::kBigint:
      if (v.kind != Kind::kInteger) return false;
      PutFixed(static_cast<uint64_t>(v.integer), 8, out);
      return true;
    case K::kInteger:
      if (v.kind != Kind::kInteger || v.integer < INT32_MIN || v.integer > INT32_MAX) return false;
      PutFixed(static_cast<uint32_t>(v.integer), 4, out);
      return true;
    case K::kSmallint:
      if (v.kind != Kind::kInteger || v.integer < INT16_MIN || v.integer > INT16_MAX) return false;
      PutFixed(static_cast<uint16_t>(v.integer), 2, out);
      return true;
    case K::kDouble: {
      if (v.kind != Kind::kInteger && v.kind != Kind::kReal) return false;
      const double d = v.kind == Kind::kReal ? v.real : static_cast<double>(v.integer);
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      PutFixed(bits, 8, out);
      return true;
    }
    case K::kText:  // not varchar: its length is counted on the other path
      if (v.kind != Kind::kText && v.kind != Kind::kBlob) return false;
      if (v.bytes.find('\0') != std::string_view::npos || !IsValidUtf8(v.bytes)) return false;
      PutField(v.bytes, out);
      return true;
    case K::kBytea:
      if (v.kind != Kind::kText && v.kind != Kind::kBlob) return false;
      PutField(v.bytes, out);
      return true;
    case K::kTimestamptz:
    case K::kTimestamp: {
      if (v.kind != Kind::kText) return false;
      Result<int64_t> micros = InstantOfText(v.bytes, t);
      if (!micros.ok()) return false;
      PutFixed(static_cast<uint64_t>(*micros - kPgEpochDays * 86400 * kMicros), 8, out);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace sqlift
