#include "capture/wal/db_header.h"

#include <fmt/format.h>

#include "capture/wal/bytes.h"

namespace sqlift::wal {
namespace {

constexpr std::string_view kMagic("SQLite format 3\0", 16);

Result<uint32_t> PageSize(std::string_view b) {
  uint32_t raw = Get16(b, 16);
  uint32_t size = raw == 1 ? 65536 : raw;
  if (size < 512 || size > 65536 || (size & (size - 1)) != 0) {
    return Status::Corruption(fmt::format("database header: bad page size {} at offset 16", raw));
  }
  return size;
}

Status CheckFractions(std::string_view b) {
  if (Byte(b, 21) != 64 || Byte(b, 22) != 32 || Byte(b, 23) != 32) {
    return Status::Corruption(
        fmt::format("database header: payload fractions {}/{}/{} at offset 21, not 64/32/32",
                    Byte(b, 21), Byte(b, 22), Byte(b, 23)));
  }
  return Status::OK();
}

}  // namespace

Result<DatabaseHeader> ParseDatabaseHeader(std::string_view b) {
  if (b.size() < kDatabaseHeaderSize || b.substr(0, 16) != kMagic) {
    return Status::Corruption("database header: not an SQLite 3 database (page 1, offset 0)");
  }
  SQLIFT_ASSIGN_OR_RETURN(uint32_t page_size, PageSize(b));
  DatabaseHeader h;
  h.reserved_bytes = Byte(b, 20);
  if (page_size - h.reserved_bytes < 480) {
    return Status::Corruption(
        fmt::format("database header: {} reserved bytes at offset 20 leave under 480 usable",
                    h.reserved_bytes));
  }
  h.geometry = {page_size, page_size - h.reserved_bytes};
  SQLIFT_RETURN_IF_ERROR(CheckFractions(b));
  uint32_t encoding = Get32(b, 56);
  if (encoding > 3) {
    return Status::Corruption(
        fmt::format("database header: text encoding {} at offset 56", encoding));
  }
  h.encoding = static_cast<TextEncoding>(encoding);
  h.page_count = Get32(b, 28);
  h.schema_format = Get32(b, 44);
  h.largest_root = Get32(b, 52);
  h.incremental_vacuum = Get32(b, 64) != 0;
  return h;
}

}  // namespace sqlift::wal
