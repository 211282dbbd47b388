// MatchUnchangedCells: the cells two versions of one table leaf page share byte for byte, so
// that a transaction's diff (row_changes.h) reads only the rows it changed.
//
// A cell counts as unchanged when the other version of the page has a cell with the same
// rowid and the same payload, and neither overflows (an overflow chain can be rewritten
// behind the same local bytes). Both versions must be rowid leaves with strictly ascending
// rowids (as SQLite keeps them), so a rowid names one cell on each side.
//
// Thread safety: a pure function of the pages.
#pragma once

#include <vector>

#include "capture/wal/btree_page.h"

namespace sqlift::wal {

struct UnchangedCells {
  std::vector<bool> before;  // by cell index of the older version
  std::vector<bool> after;   // by cell index of the newer version
};

// InvalidArgument when either page is not a table leaf, a cell does not parse or the rowids
// do not ascend (the diff then reads every cell, and reports what is wrong).
[[nodiscard]] Result<UnchangedCells> MatchUnchangedCells(const BtreePage& before,
                                                         const BtreePage& after);

}  // namespace sqlift::wal
