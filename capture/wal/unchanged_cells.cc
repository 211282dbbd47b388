#include "capture/wal/unchanged_cells.h"

namespace sqlift::wal {
namespace {

// The cells of a table leaf, checked to ascend by rowid.
Result<std::vector<BtreePage::LeafCell>> AscendingCells(const BtreePage& page) {
  if (page.type() != PageType::kTableLeaf) {
    return Status::InvalidArgument("not a table leaf page");
  }
  std::vector<BtreePage::LeafCell> cells;
  cells.reserve(static_cast<size_t>(page.cell_count()));
  for (int i = 0; i < page.cell_count(); ++i) {
    std::optional<BtreePage::LeafCell> cell = page.TableLeafCell(i);
    if (!cell) return Status::InvalidArgument("a cell does not parse");
    if (!cells.empty() && cells.back().rowid >= cell->rowid) {
      return Status::InvalidArgument("rowids do not ascend");
    }
    cells.push_back(*cell);
  }
  return cells;
}

bool Same(const BtreePage::LeafCell& a, const BtreePage::LeafCell& b) {
  return a.local && b.local && a.bytes == b.bytes;
}

// Asks for every cache line of the page at once: the older version of a page a transaction
// touched was usually last read long ago, and its cells are read in no useful order.
void Prefetch(std::string_view page) {
  for (size_t at = 0; at < page.size(); at += 64)
    __builtin_prefetch(page.data() + at);
}

}  // namespace

Result<UnchangedCells> MatchUnchangedCells(const BtreePage& before, const BtreePage& after) {
  Prefetch(before.usable());
  Prefetch(after.usable());
  SQLIFT_ASSIGN_OR_RETURN(std::vector<BtreePage::LeafCell> b, AscendingCells(before));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<BtreePage::LeafCell> a, AscendingCells(after));
  UnchangedCells out{std::vector<bool>(b.size()), std::vector<bool>(a.size())};
  for (size_t i = 0, j = 0; i < b.size() && j < a.size();) {
    if (b[i].rowid < a[j].rowid) {
      ++i;
    } else if (a[j].rowid < b[i].rowid) {
      ++j;
    } else {
      out.before[i] = out.after[j] = Same(b[i], a[j]);
      ++i, ++j;
    }
  }
  return out;
}

}  // namespace sqlift::wal
