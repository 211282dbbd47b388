// Reading the entries of a whole b-tree, or of one page, as decoded rows.
//
// A table b-tree (rowid table) keeps its rows in its leaves, keyed by rowid; its interior
// cells only divide. An index b-tree (an index, or a WITHOUT ROWID table whose entries are
// its rows) keeps entries in interior cells too: each sits between its left child's entries
// and the next cell's. WalkBtree visits them all in key order.
//
// Thread safety: functions of their arguments; the getter is called from the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "capture/wal/btree_page.h"
#include "capture/wal/payload.h"
#include "capture/wal/record.h"

namespace sqlift::wal {

// What decoding needs besides the pages: their geometry, the text encoding and the
// database size in pages (no page number past it is followed).
struct DecodeContext {
  PageGeometry geometry;
  TextEncoding encoding = TextEncoding::kUtf8;
  uint32_t page_count = 0;
  PageGetter get_page;
};

struct BtreeEntry {
  uint32_t page_number = 0;  // the page holding the cell
  int64_t rowid = 0;         // table b-trees only
  std::vector<Value> values;
};

using EntryVisitor = std::function<Status(BtreeEntry&&)>;
using PageVisitor = std::function<void(uint32_t page_number, const BtreePage& page)>;

// The entry of cell i of `page` (a leaf of a table b-tree, or any index b-tree page); its
// overflow page numbers are appended to `chain` when set.
[[nodiscard]] Result<BtreeEntry> DecodeEntry(const DecodeContext& ctx, const BtreePage& page, int i,
                                             std::vector<uint32_t>* chain = nullptr);

// Visits every entry of the b-tree rooted at `root` in key order, and, if on_page is set,
// every page of the tree. Corruption naming the page when a page is malformed, is reached
// twice, is of the other kind of b-tree, or the tree is deeper than SQLite allows.
[[nodiscard]] Status WalkBtree(const DecodeContext& ctx, uint32_t root, const EntryVisitor& visit,
                               const PageVisitor& on_page = nullptr);

// Parses page `page_number` from the context's getter.
[[nodiscard]] Result<BtreePage> LoadPage(const DecodeContext& ctx, uint32_t page_number);

}  // namespace sqlift::wal
