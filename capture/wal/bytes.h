// Big-endian integers and SQLite varints read from a byte string, bounds checked. SQLite's
// database, WAL and record formats store every multi-byte integer big-endian.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sqlift::wal {

inline uint32_t Byte(std::string_view s, size_t i) {
  return static_cast<uint8_t>(s[i]);
}

// The caller has checked that s holds at least i + 2 (or i + 4) bytes.
inline uint32_t Get16(std::string_view s, size_t i) {
  return Byte(s, i) << 8 | Byte(s, i + 1);
}
inline uint32_t Get32(std::string_view s, size_t i) {
  return Byte(s, i) << 24 | Byte(s, i + 1) << 16 | Byte(s, i + 2) << 8 | Byte(s, i + 3);
}

struct Varint {
  uint64_t value = 0;
  size_t length = 0;  // 1 to 9 bytes
};

// The SQLite varint at s[i]: up to eight bytes of seven bits each (high bit set: more
// follows), then a ninth byte of eight bits. nullopt when it runs past the end of s.
inline std::optional<Varint> ReadVarint(std::string_view s, size_t i) {
  uint64_t v = 0;
  for (size_t n = 0; n < 9; ++n) {
    if (i + n >= s.size()) return std::nullopt;
    uint32_t b = Byte(s, i + n);
    if (n == 8) return Varint{v << 8 | b, 9};
    v = v << 7 | (b & 0x7f);
    if ((b & 0x80) == 0) return Varint{v, n + 1};
  }
  return std::nullopt;  // not reached
}

}  // namespace sqlift::wal
