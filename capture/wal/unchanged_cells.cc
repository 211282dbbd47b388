#include "capture/wal/unchanged_cells.h"

namespace sqlift::wal {
namespace {

// The cells of a table leaf, checked to ascend by rowid.
Result<std::vector<Cell>> AscendingCells(const BtreePage& page) {
  if (page.type() != PageType::kTableLeaf) {
    return Status::InvalidArgument("not a table leaf page");
  }
  std::vector<Cell> cells;
  cells.reserve(static_cast<size_t>(page.cell_count()));
  for (int i = 0; i < page.cell_count(); ++i) {
    SQLIFT_ASSIGN_OR_RETURN(Cell cell, page.CellAt(i));
    if (!cells.empty() && cells.back().rowid >= cell.rowid) {
      return Status::InvalidArgument("rowids do not ascend");
    }
    cells.push_back(cell);
  }
  return cells;
}

bool Same(const Cell& a, const Cell& b) {
  return a.first_overflow == 0 && b.first_overflow == 0 && a.local == b.local;
}

}  // namespace

Result<UnchangedCells> MatchUnchangedCells(const BtreePage& before, const BtreePage& after) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<Cell> b, AscendingCells(before));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<Cell> a, AscendingCells(after));
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
