#include "capture/wal/btree_page.h"

#include <fmt/format.h>

#include "capture/wal/bytes.h"

namespace sqlift::wal {
namespace {

// The largest payload SQLite writes (SQLITE_MAX_LENGTH's hard limit).
constexpr uint64_t kMaxPayload = 0x7fffffff;

bool KnownType(uint32_t t) {
  return t == 2 || t == 5 || t == 10 || t == 13;
}

}  // namespace

uint32_t LocalPayloadSize(uint64_t p, uint32_t u, bool table_leaf) {
  uint64_t x = table_leaf ? u - 35 : (u - 12) * 64 / 255 - 23;
  if (p <= x) return static_cast<uint32_t>(p);
  uint64_t m = (u - 12) * 32 / 255 - 23;
  uint64_t k = m + (p - m) % (u - 4);
  return static_cast<uint32_t>(k <= x ? k : m);
}

Status BtreePage::Corrupt(uint32_t offset, std::string_view what) const {
  return Status::Corruption(fmt::format("page {} offset {}: {}", page_number_, offset, what));
}

Result<BtreePage> BtreePage::Parse(std::string_view page, uint32_t page_number,
                                   const PageGeometry& g) {
  BtreePage p;
  p.page_number_ = page_number;
  if (page.size() != g.page_size || g.usable_size > g.page_size || g.usable_size < 480) {
    return p.Corrupt(0, fmt::format("{} bytes, expected a page of {} ({} usable)", page.size(),
                                    g.page_size, g.usable_size));
  }
  p.page_ = page.substr(0, g.usable_size);
  uint32_t h = page_number == 1 ? kDatabaseHeaderSize : 0;
  uint32_t type = Byte(page, h);
  if (!KnownType(type)) return p.Corrupt(h, fmt::format("not a b-tree page (type {})", type));
  p.type_ = static_cast<PageType>(type);
  uint32_t header_size = p.is_leaf() ? 8 : 12;
  p.cell_count_ = static_cast<int>(Get16(page, h + 3));
  p.pointers_ = h + header_size;
  if (p.pointers_ + 2 * static_cast<uint32_t>(p.cell_count_) > g.usable_size) {
    return p.Corrupt(h + 3, fmt::format("{} cells do not fit", p.cell_count_));
  }
  if (!p.is_leaf()) {
    p.right_child_ = Get32(page, h + 8);
    if (p.right_child_ < 2) return p.Corrupt(h + 8, fmt::format("right child {}", p.right_child_));
  }
  return p;
}

Result<Cell> BtreePage::CellAt(int i) const {
  if (i < 0 || i >= cell_count_) return Corrupt(pointers_, fmt::format("no cell {}", i));
  uint32_t first = pointers_ + 2 * static_cast<uint32_t>(cell_count_);
  Cell cell;
  cell.offset = Get16(page_, pointers_ + 2 * static_cast<uint32_t>(i));
  if (cell.offset < first || cell.offset >= page_.size()) {
    return Corrupt(pointers_ + 2 * i,
                   fmt::format("cell {} at offset {} is outside the cell area", i, cell.offset));
  }
  uint32_t at = cell.offset;
  if (!is_leaf()) {
    if (at + 4 > page_.size()) return Corrupt(at, "left child pointer runs off the page");
    cell.left_child = Get32(page_, at);
    if (cell.left_child < 2) return Corrupt(at, fmt::format("left child {}", cell.left_child));
    at += 4;
  }
  if (type_ == PageType::kTableInterior) {
    std::optional<Varint> key = ReadVarint(page_, at);
    if (!key) return Corrupt(at, "rowid varint runs off the page");
    cell.rowid = static_cast<int64_t>(key->value);
    return cell;
  }
  SQLIFT_RETURN_IF_ERROR(ReadPayloadPart(at, &cell));
  return cell;
}

std::optional<BtreePage::LeafCell> BtreePage::TableLeafCell(int i) const {
  if (type_ != PageType::kTableLeaf || i < 0 || i >= cell_count_) return std::nullopt;
  const uint32_t first = pointers_ + 2 * static_cast<uint32_t>(cell_count_);
  const uint32_t offset = Get16(page_, pointers_ + 2 * static_cast<uint32_t>(i));
  if (offset < first || offset >= page_.size()) return std::nullopt;
  std::optional<Varint> size = ReadVarint(page_, offset);
  if (!size || size->value > kMaxPayload) return std::nullopt;
  std::optional<Varint> rowid = ReadVarint(page_, offset + size->length);
  if (!rowid) return std::nullopt;
  LeafCell cell{static_cast<int64_t>(rowid->value), false, {}};
  // LocalPayloadSize keeps a table leaf's payload whole up to usable_size - 35 bytes.
  const uint64_t end = offset + size->length + rowid->length + size->value;
  if (size->value > page_.size() - 35) return cell;
  if (end > page_.size()) return std::nullopt;
  cell.local = true;
  cell.bytes = page_.substr(offset, static_cast<size_t>(end - offset));
  return cell;
}

// The payload size (and, on a table leaf, the rowid), the local payload and the pointer to
// the first overflow page.
Status BtreePage::ReadPayloadPart(uint32_t at, Cell* cell) const {
  std::optional<Varint> size = ReadVarint(page_, at);
  if (!size) return Corrupt(at, "payload size varint runs off the page");
  if (size->value > kMaxPayload)
    return Corrupt(at, fmt::format("payload of {} bytes", size->value));
  cell->payload_size = size->value;
  at += static_cast<uint32_t>(size->length);
  if (type_ == PageType::kTableLeaf) {
    std::optional<Varint> rowid = ReadVarint(page_, at);
    if (!rowid) return Corrupt(at, "rowid varint runs off the page");
    cell->rowid = static_cast<int64_t>(rowid->value);
    at += static_cast<uint32_t>(rowid->length);
  }
  uint32_t usable = static_cast<uint32_t>(page_.size());
  uint32_t local = LocalPayloadSize(cell->payload_size, usable, type_ == PageType::kTableLeaf);
  bool overflows = local < cell->payload_size;
  if (static_cast<uint64_t>(at) + local + (overflows ? 4 : 0) > usable) {
    return Corrupt(at, fmt::format("{} bytes of local payload run off the page", local));
  }
  cell->local = page_.substr(at, local);
  if (overflows) {
    cell->first_overflow = Get32(page_, at + local);
    if (cell->first_overflow < 2) {
      return Corrupt(at + local, fmt::format("overflow page {}", cell->first_overflow));
    }
  }
  return Status::OK();
}

}  // namespace sqlift::wal
