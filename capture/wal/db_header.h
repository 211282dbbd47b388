// The fields of the 100-byte SQLite database header that decoding pages needs
// (https://www.sqlite.org/fileformat2.html#the_database_header).
//
// Thread safety: pure functions and values.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/base/result.h"

namespace sqlift::wal {

inline constexpr size_t kDatabaseHeaderSize = 100;

// Offset 56. kUnset only in a database that has never held a schema.
enum class TextEncoding : uint32_t { kUnset = 0, kUtf8 = 1, kUtf16le = 2, kUtf16be = 3 };

// The page size and the part of each page b-trees may use (the rest is reserved at the end
// of every page, e.g. for an encryption extension's nonce).
struct PageGeometry {
  uint32_t page_size = 0;
  uint32_t usable_size = 0;  // page_size - reserved bytes; at least 480
};

struct DatabaseHeader {
  PageGeometry geometry;
  uint32_t reserved_bytes = 0;  // offset 20
  TextEncoding encoding = TextEncoding::kUnset;
  uint32_t page_count = 0;          // offset 28 (may be stale in files from old writers)
  uint32_t schema_format = 0;       // offset 44
  uint32_t largest_root = 0;        // offset 52: nonzero when auto_vacuum is on
  bool incremental_vacuum = false;  // offset 64
};

// Parses the header at the start of page 1 (at least 100 bytes). Corruption naming the field
// when the magic string, page size (1 meaning 65536), reserved bytes, payload fractions
// (64, 32, 32) or text encoding is not one SQLite writes.
[[nodiscard]] Result<DatabaseHeader> ParseDatabaseHeader(std::string_view page1);

}  // namespace sqlift::wal
