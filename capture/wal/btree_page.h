// BtreePage: one b-tree page of an SQLite database, parsed far enough to list its cells
// (https://www.sqlite.org/fileformat2.html#b_tree_pages): the page header (types 2, 5, 10,
// 13), the cell pointer array and each cell's parts. Every offset is checked against the
// page's usable size; malformed bytes give Corruption naming the page and the offset.
//
// A BtreePage views the page bytes it was parsed from; they must outlive it and not change.
// Thread safety: a value; const methods may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "capture/wal/db_header.h"
#include "common/base/result.h"

namespace sqlift::wal {

enum class PageType : uint8_t {
  kIndexInterior = 2,
  kTableInterior = 5,
  kIndexLeaf = 10,
  kTableLeaf = 13,
};

struct Cell {
  uint32_t offset = 0;          // where the cell starts in its page
  uint32_t left_child = 0;      // interior pages: the subtree left of this cell
  int64_t rowid = 0;            // table pages: the row's key (interior: the divider)
  uint64_t payload_size = 0;    // table leaf and index cells: the whole payload
  std::string_view local;       // the part of the payload stored on this page
  uint32_t first_overflow = 0;  // first overflow page, 0 when the payload is all local
};

// How many bytes of a payload of `payload_size` bytes stay on the page (the spec's X, M and
// K: all of it up to X; else K = M + (P - M) % (U - 4) when K <= X; else M).
uint32_t LocalPayloadSize(uint64_t payload_size, uint32_t usable_size, bool table_leaf);

class BtreePage {
 public:
  // Parses `page` (page_size bytes) as b-tree page `page_number`; page 1's header follows
  // the 100-byte database header.
  [[nodiscard]] static Result<BtreePage> Parse(std::string_view page, uint32_t page_number,
                                               const PageGeometry& geometry);

  PageType type() const { return type_; }
  bool is_leaf() const { return type_ == PageType::kIndexLeaf || type_ == PageType::kTableLeaf; }
  bool is_table() const {
    return type_ == PageType::kTableLeaf || type_ == PageType::kTableInterior;
  }
  uint32_t page_number() const { return page_number_; }
  int cell_count() const { return cell_count_; }
  uint32_t right_child() const { return right_child_; }  // interior pages only
  std::string_view usable() const { return page_; }      // the page's usable bytes

  // Cell i (0 <= i < cell_count()) in key order.
  [[nodiscard]] Result<Cell> CellAt(int i) const;

  // A table leaf's cell i, read no further than its key and, when its payload is all on this
  // page, its bytes (the two varints and the payload): what tells two cells apart cheaply.
  // nullopt for any other page or a cell CellAt would reject.
  struct LeafCell {
    int64_t rowid = 0;
    bool local = false;      // the payload is all on this page
    std::string_view bytes;  // when local: the whole cell
  };
  std::optional<LeafCell> TableLeafCell(int i) const;

 private:
  BtreePage() = default;
  [[nodiscard]] Status Corrupt(uint32_t offset, std::string_view what) const;
  [[nodiscard]] Status ReadPayloadPart(uint32_t at, Cell* cell) const;

  std::string_view page_;  // the usable part of the page
  uint32_t page_number_ = 0;
  PageType type_ = PageType::kTableLeaf;
  int cell_count_ = 0;
  uint32_t pointers_ = 0;  // offset of the cell pointer array
  uint32_t right_child_ = 0;
};

}  // namespace sqlift::wal
