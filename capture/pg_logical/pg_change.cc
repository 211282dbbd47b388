// LSN text forms (see pg_change.h).
#include "capture/pg_logical/pg_change.h"

#include <cinttypes>
#include <cstdio>

namespace sqlift::pgchange {

bool ParseLsn(const std::string& text, Lsn* out) {
  size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= text.size()) return false;
  uint64_t hi = 0, lo = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == slash) continue;
    char c = text[i];
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                     : -1;
    if (d < 0) return false;
    uint64_t& part = i < slash ? hi : lo;
    if (part > 0x0FFFFFFFu) return false;  // more than 8 hex digits
    part = part * 16 + static_cast<uint64_t>(d);
  }
  *out = (hi << 32) | lo;
  return true;
}

std::string FormatLsn(Lsn lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%" PRIX64 "/%" PRIX64, lsn >> 32, lsn & 0xFFFFFFFFu);
  return buf;
}

}  // namespace sqlift::pgchange
