#include "apply/pg_identifier.h"

#include <cstdint>

namespace sqlift {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not well formed
// (overlong forms, surrogates and code points past U+10FFFF are rejected, as PostgreSQL does).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b = byte(i);
  if (b < 0x80) return 1;
  size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
  if (len == 0 || b > 0xF4 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  uint8_t b1 = byte(i + 1);
  if (b == 0xE0 && b1 < 0xA0) return 0;   // overlong
  if (b == 0xED && b1 >= 0xA0) return 0;  // surrogate
  if (b == 0xF0 && b1 < 0x90) return 0;   // overlong
  if (b == 0xF4 && b1 >= 0x90) return 0;  // past U+10FFFF
  return len;
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuoteQualified(std::string_view schema, std::string_view name) {
  return QuoteIdentifier(schema) + "." + QuoteIdentifier(name);
}

Status CheckIdentifier(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("empty identifier");
  if (name.size() > kMaxPgIdentifierBytes) {
    return Status::InvalidArgument("identifier " + QuoteIdentifier(name) + " is " +
                                   std::to_string(name.size()) + " bytes; PostgreSQL keeps " +
                                   std::to_string(kMaxPgIdentifierBytes));
  }
  for (size_t i = 0; i < name.size();) {
    if (name[i] == '\0') return Status::InvalidArgument("identifier contains a NUL byte");
    size_t len = Utf8SequenceLength(name, i);
    if (len == 0) {
      return Status::InvalidArgument("identifier is not valid UTF-8 at byte " + std::to_string(i));
    }
    i += len;
  }
  return Status::OK();
}

}  // namespace sqlift
