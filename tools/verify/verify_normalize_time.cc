// Timestamps for `sqlift verify` (apply/verify_normalize.h): ISO text, as PgTextOf spells a
// SQLite value and as PostgreSQL prints one with TimeZone UTC and DateStyle ISO, read into
// microseconds since 1970 UTC and printed back in one form.
#include <fmt/format.h>
#include <strings.h>

#include <cmath>
#include <cstdlib>
#include <optional>

#include "apply/translate/value_repr.h"
#include "tools/verify/verify_normalize.h"

namespace sqlift {
namespace {

// Reads exactly `n` digits at s[*i]; nullopt when they are not there.
std::optional<int64_t> Digits(std::string_view s, size_t* i, size_t n) {
  if (*i + n > s.size()) return std::nullopt;
  int64_t v = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  *i += n;
  return v;
}

bool Eat(std::string_view s, size_t* i, char c) {
  if (*i < s.size() && s[*i] == c) return ++*i, true;
  return false;
}

// HH:MM[:SS[.fff]] at s[*i] → seconds and microseconds (rounded as timestamp_in rounds).
bool ReadTime(std::string_view s, size_t* i, int64_t* secs, int64_t* micros) {
  std::optional<int64_t> h = Digits(s, i, 2), m;
  if (!h || !Eat(s, i, ':') || !(m = Digits(s, i, 2))) return false;
  *secs = *h * 3600 + *m * 60;
  if (!Eat(s, i, ':')) return true;
  std::optional<int64_t> sec = Digits(s, i, 2);
  if (!sec) return false;
  *secs += *sec;
  if (*i < s.size() && s[*i] == '.') {
    size_t end = *i + 1;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9')
      ++end;
    std::string frac(s.substr(*i, end - *i));
    *micros = static_cast<int64_t>(std::rint(std::strtod(frac.c_str(), nullptr) * 1e6));
    *i = end;
  }
  return true;
}

// Z, or ±hh[[:]mm[[:]ss]] → seconds east of UTC.
bool ReadOffset(std::string_view s, size_t* i, int64_t* offset) {
  if (Eat(s, i, 'Z') || Eat(s, i, 'z')) return true;
  if (*i >= s.size() || (s[*i] != '+' && s[*i] != '-')) return true;  // none: UTC
  int64_t sign = s[(*i)++] == '-' ? -1 : 1;
  std::optional<int64_t> h = Digits(s, i, 2);
  if (!h) return false;
  *offset = *h * 3600;
  for (int64_t unit : {60, 1}) {  // [:]mm, then [:]ss
    size_t at = *i;
    Eat(s, i, ':');
    std::optional<int64_t> part = Digits(s, i, 2);
    if (!part) {
      *i = at;  // a lone ':' is left for the caller to refuse
      break;
    }
    *offset += *part * unit;
  }
  *offset *= sign;
  return true;
}

std::optional<int64_t> UnixMicros(std::string_view s, bool use_offset) {
  size_t i = 0;
  std::optional<int64_t> y = Digits(s, &i, 4), mo, d;
  if (!y || !Eat(s, &i, '-') || !(mo = Digits(s, &i, 2)) || !Eat(s, &i, '-') ||
      !(d = Digits(s, &i, 2))) {
    return std::nullopt;
  }
  int64_t secs = 0, micros = 0, offset = 0;
  if (i + 1 < s.size() && (s[i] == ' ' || s[i] == 'T' || s[i] == 't') && s[i + 1] >= '0' &&
      s[i + 1] <= '9') {
    ++i;
    if (!ReadTime(s, &i, &secs, &micros)) return std::nullopt;
  }
  while (i < s.size() && s[i] == ' ')
    ++i;
  if (!ReadOffset(s, &i, &offset) || i != s.size()) return std::nullopt;
  if (!use_offset) offset = 0;
  return ((DaysFromCivil(*y, *mo, *d) * 86400) + secs - offset) * 1'000'000 + micros;
}

}  // namespace

std::string CanonicalTimestamp(std::string_view text, bool use_offset) {
  size_t b = text.find_first_not_of(' '), e = text.find_last_not_of(' ');
  std::string_view s = b == std::string_view::npos ? text : text.substr(b, e - b + 1);
  if (strncasecmp(s.data(), "infinity", 8) == 0 && s.size() == 8) return "infinity";
  if (strncasecmp(s.data(), "-infinity", 9) == 0 && s.size() == 9) return "-infinity";
  std::optional<int64_t> us = UnixMicros(s, use_offset);
  if (!us) return std::string(text);
  int64_t day = *us >= 0 ? *us / 86'400'000'000 : -((-*us + 86'399'999'999) / 86'400'000'000);
  int64_t rest = *us - day * 86'400'000'000, y, m, d;
  CivilFromDays(day, &y, &m, &d);
  int64_t secs = rest / 1'000'000, micros = rest % 1'000'000;
  std::string out = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", y, m, d, secs / 3600,
                                secs / 60 % 60, secs % 60);
  if (micros) {
    std::string f = fmt::format("{:06}", micros);
    out += "." + f.substr(0, f.find_last_not_of('0') + 1);
  }
  return out;
}

}  // namespace sqlift
