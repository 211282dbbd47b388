#include "apply/translate/value_encoder.h"

#include <fmt/format.h>
#include <strings.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "apply/translate/value_encoder_internal.h"
#include "apply/translate/value_repr.h"
#include "common/base/text.h"

namespace sqlift {
namespace {

using K = PgType::Kind;

// Shortest text that reads back as the same double; NaN/±Infinity as float8in and numeric_in
// spell them.
std::string ShortestReal(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

bool IsOneOf(std::string_view s, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    if (s.size() == std::strlen(w) && strncasecmp(s.data(), w, s.size()) == 0) return true;
  }
  return false;
}

}  // namespace

namespace encoding {

std::string Bool(const wire::Value& v) {
  if (v.has_integer()) return v.integer() ? "t" : "f";
  if (v.has_real()) return v.real() != 0.0 ? "t" : "f";
  return IsOneOf(v.text(), {"1", "true", "t"}) ? "t" : "f";
}

std::string Numberish(const wire::Value& v) {
  if (v.has_integer()) return std::to_string(v.integer());
  if (v.has_real()) return ShortestReal(v.real());
  return v.has_text() ? v.text() : v.blob();
}

std::string Spell(const wire::Value& v, const PgType& t) {
  switch (t.kind) {
    case K::kBigint:
    case K::kInteger:
    case K::kSmallint:
      if (v.has_real()) return std::to_string(static_cast<int64_t>(v.real()));
      return Numberish(v);
    case K::kBoolean:
      return Bool(v);
    case K::kText:
    case K::kVarchar:
      if (v.has_real()) return SqliteRealText(v.real());
      return Numberish(v);
    case K::kTimestamptz:
    case K::kTimestamp:  // checked: InstantOf succeeds
      return InstantText(*InstantOf(v, t), t.kind == K::kTimestamptz);
    case K::kBytea:
      return Hex(v.has_blob() ? v.blob() : v.text());
    case K::kOther:
      return v.has_blob() ? Hex(v.blob()) : Numberish(v);
    default:  // numeric, double, real, date, json, jsonb, uuid: the checked value as it is
      return Numberish(v);
  }
}

}  // namespace encoding

using encoding::Spell;

std::string SqliteRealText(double d) {
  if (std::isinf(d)) return d > 0 ? "Inf" : "-Inf";
  if (std::isnan(d)) return "NaN";  // SQLite stores NaN as NULL; kept for completeness
  std::string s = fmt::format("{:.15g}", d);
  if (s.find_first_of(".ei") != std::string::npos) {
    size_t e = s.find('e');
    if (e != std::string::npos && s.rfind('.', e) == std::string::npos) s.insert(e, ".0");
    return s;
  }
  return s + ".0";
}

Result<std::string> PgTextOf(const wire::Value& v, const PgType& t) {
  if (std::optional<std::string> why = WhyValueDoesNotFit(v, t)) {
    return Status::InvalidArgument(*why + " (column type " + t.sql + ")");
  }
  std::string text = Spell(v, t);
  // Checked for every type, including overrides sqlift does not know: PostgreSQL refuses both.
  if (text.find('\0') != std::string::npos) return Status::InvalidArgument("holds a NUL byte");
  if (!IsValidUtf8(text)) return Status::InvalidArgument("not valid UTF-8");
  return text;
}

Status AppendCopyField(const wire::Value& v, const PgType& t, std::string* out) {
  if (v.kind_case() == wire::Value::KIND_NOT_SET || v.has_null()) {
    out->append("\\N");
    return Status::OK();
  }
  SQLIFT_ASSIGN_OR_RETURN(std::string text, PgTextOf(v, t));
  AppendCopyEscaped(text, out);
  return Status::OK();
}

void AppendCopyEscaped(std::string_view text, std::string* out) {
  out->reserve(out->size() + text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        out->push_back(c);
    }
  }
}

}  // namespace sqlift
