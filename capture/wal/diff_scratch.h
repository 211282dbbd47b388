// DiffScratch: the bookkeeping of one transaction's diff (row_changes.cc), kept by the
// RowChangeDecoder between transactions so that its memory is reused: a transaction touches a
// few pages, but an interior page among them brings hundreds of children to look at.
//
// Internal to capture/wal. Ownership: the decoder's; each diff clears it first. Thread
// safety: none.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "capture/wal/page_map.h"
#include "capture/wal/page_table.h"
#include "capture/wal/unchanged_cells.h"

namespace sqlift::wal {

struct DiffScratch {
  // (child, parent) of the interior pages written, sorted: candidate parents for Resolve.
  std::vector<std::pair<uint32_t, uint32_t>> parents_after;
  PageTable<std::optional<PageEntry>> resolved;
  PageTable<char> resolving;  // 1 while being resolved
  PageTable<char> departed;
  PageTable<UnchangedCells> unchanged;  // by touched page
  std::vector<uint32_t> forget;
  std::vector<uint32_t> fresh;  // entries set for the state after the transaction
  std::vector<uint32_t> todo;

  void Clear() {
    parents_after.clear();
    resolved.Clear();
    resolving.Clear();
    departed.Clear();
    unchanged.Clear();
    forget.clear();
    fresh.clear();
    todo.clear();
  }
};

}  // namespace sqlift::wal
