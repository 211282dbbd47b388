#include "apply/translate/value_repr.h"

#include <fmt/format.h>
#include <strings.h>

#include <cmath>
#include <cstdlib>
#include <optional>

namespace sqlift {
namespace {

using K = PgType::Kind;

// Magnitude bands of numbers in a time column without a declared unit: below 1e11 seconds
// reach year 5138; milliseconds and microseconds start where seconds end (1e11 ms and 1e14 us
// are both 1973-03-03), so each band reads as years 1973..5138 in its unit.
constexpr double kSecondsBelow = 1e11;
constexpr double kMillisBelow = 1e14;
constexpr double kMicrosBelow = 1e17;

constexpr int64_t kMicrosPerDay = 86'400'000'000;
constexpr int64_t kPgEpochMicros = 10957 * kMicrosPerDay;  // 2000-01-01, PostgreSQL's epoch
// SQLite's Julian day of the unix epoch, in milliseconds (2440587.5 days), as its date
// functions count (integer milliseconds).
constexpr int64_t kUnixEpochJulianMs = 210'866'760'000'000;

int64_t FloorDiv(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a - 1) / b) - 1;
}

bool IsTime(const PgType& t) {
  return t.kind == K::kTimestamptz || t.kind == K::kTimestamp;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Exactly `n` digits at s[*i].
std::optional<int64_t> Digits(std::string_view s, size_t* i, size_t n) {
  if (*i + n > s.size()) return std::nullopt;
  int64_t v = 0;
  for (size_t k = 0; k < n; ++k) {
    if (!IsDigit(s[*i + k])) return std::nullopt;
    v = v * 10 + (s[*i + k] - '0');
  }
  *i += n;
  return v;
}

bool Eat(std::string_view s, size_t* i, char c) {
  if (*i < s.size() && s[*i] == c) return ++*i, true;
  return false;
}

bool LeapYear(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// ISO text as it is written down.
struct Iso {
  int64_t local_micros = 0;  // the wall-clock time, as if it were UTC
  int64_t offset_secs = 0;   // east of UTC
  bool zoned = false;
};

// Parses the ISO forms in the header; the reason when it is not one.
Result<Iso> ParseIso(std::string_view s) {
  // Built only when needed: a Status holds its message on the heap, and this runs per value.
  auto bad = [] { return Status::InvalidArgument("not an ISO date and time"); };
  size_t i = 0;
  std::optional<int64_t> y = Digits(s, &i, 4), mo, d;
  if (!y || !Eat(s, &i, '-') || !(mo = Digits(s, &i, 2)) || !Eat(s, &i, '-') ||
      !(d = Digits(s, &i, 2))) {
    return Status::InvalidArgument("not a date in YYYY-MM-DD form");
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (*y == 0) return Status::InvalidArgument("year 0 does not exist");
  if (*mo < 1 || *mo > 12)
    return Status::InvalidArgument(fmt::format("month {} does not exist", *mo));
  int64_t last = kDays[*mo - 1] + (*mo == 2 && LeapYear(*y) ? 1 : 0);
  if (*d < 1 || *d > last) {
    return Status::InvalidArgument(fmt::format("day {} does not exist in {}-{:02}", *d, *y, *mo));
  }
  Iso iso;
  int64_t hh = 0, mm = 0, ss = 0, micros = 0;
  if (i + 1 < s.size() && (s[i] == ' ' || s[i] == 'T') && IsDigit(s[i + 1])) {
    ++i;
    std::optional<int64_t> h = Digits(s, &i, 2), m;
    if (!h || !Eat(s, &i, ':') || !(m = Digits(s, &i, 2))) return bad();
    hh = *h, mm = *m;
    if (Eat(s, &i, ':')) {
      std::optional<int64_t> sec = Digits(s, &i, 2);
      if (!sec) return bad();
      ss = *sec;
      if (i < s.size() && s[i] == '.') {
        size_t end = i + 1;
        while (end < s.size() && IsDigit(s[end]))
          ++end;
        if (end == i + 1 || end - i - 1 > 9) return bad();
        std::string frac(s.substr(i, end - i));  // rounded as timestamp_in rounds it
        micros = static_cast<int64_t>(std::rint(std::strtod(frac.c_str(), nullptr) * 1e6));
        i = end;
      }
    }
  }
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
    ++i;
  int64_t oh = 0, om = 0;
  if (Eat(s, &i, 'Z')) {
    iso.zoned = true;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int64_t sign = s[i++] == '-' ? -1 : 1;
    std::optional<int64_t> h = Digits(s, &i, 2);
    if (!h) return bad();
    oh = *h;
    Eat(s, &i, ':');
    if (i < s.size()) {
      std::optional<int64_t> m = Digits(s, &i, 2);
      if (!m) return bad();
      om = *m;
    }
    iso.zoned = true;
    iso.offset_secs = sign * (oh * 3600 + om * 60);
  }
  if (i != s.size()) return bad();
  if (hh > 23 || mm > 59 || ss > 59)
    return Status::InvalidArgument("a time of day that does not exist");
  if (oh > 15 || om > 59) return Status::InvalidArgument("a time zone offset out of range");
  iso.local_micros =
      DaysFromCivil(*y, *mo, *d) * kMicrosPerDay + (hh * 3600 + mm * 60 + ss) * 1'000'000 + micros;
  return iso;
}

std::string_view UnitWords(TimeUnit u) {
  switch (u) {
    case TimeUnit::kSeconds:
      return "unix seconds";
    case TimeUnit::kMillis:
      return "unix milliseconds";
    case TimeUnit::kMicros:
      return "unix microseconds";
    case TimeUnit::kJulianDay:
      return "a Julian day";
    case TimeUnit::kAuto:
      break;
  }
  return "a time";
}

// A number read in unit `u` → unix microseconds; the reason when it is past years 1..9999
// (checked on the magnitude first, so nothing overflows).
Result<int64_t> NumberMicros(const wire::Value& v, TimeUnit u) {
  const bool integer = v.has_integer();
  const double x = integer ? static_cast<double>(v.integer()) : v.real();
  double seconds = u == TimeUnit::kSeconds  ? x
                   : u == TimeUnit::kMillis ? x / 1e3
                   : u == TimeUnit::kMicros ? x / 1e6
                                            : (x - 2440587.5) * 86400;
  if (std::fabs(seconds) > 4e11) {  // outside 1..9999; the year from whole days, no overflow
    if (std::fabs(seconds) > 1e17) {
      return Status::InvalidArgument(
          fmt::format("read as {}, it is far past year 9999 or before year 1", UnitWords(u)));
    }
    int64_t y, m, d;
    CivilFromDays(static_cast<int64_t>(std::floor(seconds / 86400)), &y, &m, &d);
    return Status::InvalidArgument(
        fmt::format("read as {}, it is year {} (UTC), outside 1..9999", UnitWords(u), y));
  }
  if (u == TimeUnit::kJulianDay) {  // as SQLite counts them: integer milliseconds
    return (std::llround(x * 86'400'000.0) - kUnixEpochJulianMs) * 1000;
  }
  if (integer) {
    int64_t n = v.integer();
    return u == TimeUnit::kSeconds ? n * 1'000'000 : u == TimeUnit::kMillis ? n * 1000 : n;
  }
  if (u == TimeUnit::kSeconds) {  // whole seconds exactly, the fraction rounded to microseconds
    double whole = std::floor(x);
    return static_cast<int64_t>(whole) * 1'000'000 + std::llround((x - whole) * 1e6);
  }
  return std::llround(u == TimeUnit::kMillis ? x * 1e3 : x);
}

// PostgreSQL's AdjustTimestampForTypmod: rounds half away from zero, on its own epoch.
int64_t RoundToPrecision(int64_t unix_micros, int precision) {
  if (precision >= 6 || precision < 0) return unix_micros;
  int64_t scale = 1;
  for (int k = precision; k < 6; ++k)
    scale *= 10;
  int64_t t = unix_micros - kPgEpochMicros, half = scale / 2;
  t = t >= 0 ? (t + half) / scale * scale : -(((-t) + half) / scale * scale);
  return t + kPgEpochMicros;
}

Repr BoolRepr(const wire::Value& v) {
  if (v.has_integer()) return v.integer() == 0 || v.integer() == 1 ? Repr::kBool01 : Repr::kNone;
  if (v.has_real()) return v.real() == 0.0 || v.real() == 1.0 ? Repr::kBool01 : Repr::kNone;
  if (!v.has_text()) return Repr::kNone;
  const std::string& s = v.text();
  auto is = [&](const char* w) { return strcasecmp(s.c_str(), w) == 0; };
  if (is("0") || is("1")) return Repr::kBool01;
  if (is("true") || is("false")) return Repr::kBoolWord;
  if (is("t") || is("f")) return Repr::kBoolLetter;
  return Repr::kNone;
}

// The instant rounded to the column's precision, when it lies in years 1..9999.
Result<int64_t> InstantInRange(int64_t micros, TimeUnit unit, const PgType& t) {
  micros = RoundToPrecision(micros, t.time_precision);
  static const int64_t kFirst = DaysFromCivil(1, 1, 1) * kMicrosPerDay;
  static const int64_t kPastLast = DaysFromCivil(10000, 1, 1) * kMicrosPerDay;
  if (micros < kFirst || micros >= kPastLast) {
    int64_t y, m, d;
    CivilFromDays(FloorDiv(micros, kMicrosPerDay), &y, &m, &d);
    std::string how = unit == TimeUnit::kAuto ? "" : fmt::format("read as {}, ", UnitWords(unit));
    return Status::InvalidArgument(fmt::format("{}it is year {} (UTC), outside 1..9999", how, y));
  }
  return micros;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

TimeUnit UnitOf(const wire::Value& v, const PgType& t) {
  if (t.unit != TimeUnit::kAuto) return t.unit;
  // Integers compare exactly (99999999999999999 is below 1e17, though no double is).
  bool integer = v.has_integer();
  uint64_t n = integer ? (v.integer() < 0 ? 0 - static_cast<uint64_t>(v.integer())
                                          : static_cast<uint64_t>(v.integer()))
                       : 0;
  double a = integer ? 0 : std::fabs(v.real());
  auto below = [&](double limit) { return integer ? n < static_cast<uint64_t>(limit) : a < limit; };
  if (below(kSecondsBelow)) return TimeUnit::kSeconds;
  if (below(kMillisBelow)) return TimeUnit::kMillis;
  if (below(kMicrosBelow)) return TimeUnit::kMicros;
  return TimeUnit::kAuto;
}

Result<int64_t> InstantOf(const wire::Value& v, const PgType& t) {
  int64_t micros = 0;
  TimeUnit unit = TimeUnit::kAuto;
  if (v.has_integer() || v.has_real()) {
    double x = v.has_integer() ? static_cast<double>(v.integer()) : v.real();
    if (!std::isfinite(x)) return Status::InvalidArgument("not finite");
    unit = UnitOf(v, t);
    if (unit == TimeUnit::kAuto) {
      return Status::InvalidArgument(
          "a number too large for unix seconds, milliseconds or microseconds (|v| >= 1e17); "
          "declare its unit in [mapping]");
    }
    SQLIFT_ASSIGN_OR_RETURN(micros, NumberMicros(v, unit));
  } else if (v.has_text()) {
    return InstantOfText(v.text(), t);
  } else {
    return Status::InvalidArgument("not a time");
  }
  return InstantInRange(micros, unit, t);
}

Result<int64_t> InstantOfText(std::string_view text, const PgType& t) {
  SQLIFT_ASSIGN_OR_RETURN(Iso iso, ParseIso(text));
  return InstantInRange(
      iso.local_micros - (t.kind == K::kTimestamptz ? iso.offset_secs * 1'000'000 : 0),
      TimeUnit::kAuto, t);
}

std::string InstantText(int64_t micros, bool zone) {
  int64_t day = FloorDiv(micros, kMicrosPerDay);
  int64_t rest = micros - day * kMicrosPerDay, y, m, d;
  CivilFromDays(day, &y, &m, &d);
  int64_t secs = rest / 1'000'000, frac = rest % 1'000'000;
  std::string out = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", y, m, d, secs / 3600,
                                secs / 60 % 60, secs % 60);
  if (frac) out += fmt::format(".{:06}", frac);
  return zone ? out + "+00" : out;
}

Repr ReprOf(const wire::Value& v, const PgType& t) {
  if (v.kind_case() == wire::Value::KIND_NOT_SET || v.has_null()) return Repr::kNone;
  if (IsTime(t)) {
    if (v.has_text()) {
      Result<Iso> iso = ParseIso(v.text());
      if (!iso.ok()) return Repr::kNone;
      return iso->zoned ? Repr::kIsoZoned : Repr::kIsoLocal;
    }
    if (!v.has_integer() && !v.has_real()) return Repr::kNone;
    switch (UnitOf(v, t)) {
      case TimeUnit::kSeconds:
        return Repr::kUnixSeconds;
      case TimeUnit::kMillis:
        return Repr::kUnixMillis;
      case TimeUnit::kMicros:
        return Repr::kUnixMicros;
      case TimeUnit::kJulianDay:
        return Repr::kJulianDay;
      case TimeUnit::kAuto:
        return Repr::kNone;
    }
  }
  if (t.kind == K::kBoolean) return BoolRepr(v);
  if (t.kind == K::kNumeric) {
    if (v.has_integer()) return Repr::kDecimalInteger;
    if (v.has_real()) return Repr::kDecimalReal;
    if (v.has_text()) return Repr::kDecimalText;
  }
  return Repr::kNone;
}

std::string_view ReprName(Repr r) {
  switch (r) {
    case Repr::kIsoZoned:
      return "ISO text with zone";
    case Repr::kIsoLocal:
      return "ISO text without zone";
    case Repr::kUnixSeconds:
      return "unix seconds";
    case Repr::kUnixMillis:
      return "unix milliseconds";
    case Repr::kUnixMicros:
      return "unix microseconds";
    case Repr::kJulianDay:
      return "Julian day";
    case Repr::kBool01:
      return "0/1";
    case Repr::kBoolWord:
      return "true/false";
    case Repr::kBoolLetter:
      return "t/f";
    case Repr::kDecimalText:
      return "text";
    case Repr::kDecimalInteger:
      return "integer";
    case Repr::kDecimalReal:
      return "real";
    case Repr::kNone:
      break;
  }
  return "other";
}

std::string_view ReprReading(Repr r) {
  switch (r) {
    case Repr::kIsoZoned:
      return "the instant at its offset";
    case Repr::kIsoLocal:
      return "UTC";
    case Repr::kUnixSeconds:
      return "seconds since 1970-01-01 UTC, a real with its fraction";
    case Repr::kUnixMillis:
      return "milliseconds since 1970-01-01 UTC";
    case Repr::kUnixMicros:
      return "microseconds since 1970-01-01 UTC";
    case Repr::kJulianDay:
      return "days since noon UTC, 24 November 4714 BC (SQLite's julianday)";
    case Repr::kBool01:
      return "0 false, 1 true";
    case Repr::kBoolWord:
    case Repr::kBoolLetter:
      return "as written, any case";
    case Repr::kDecimalText:
      return "the digits as written";
    case Repr::kDecimalInteger:
      return "exactly";
    case Repr::kDecimalReal:
      return "the shortest decimal that reads back as the same double";
    case Repr::kNone:
      break;
  }
  return "";
}

}  // namespace sqlift
