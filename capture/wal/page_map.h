// PageMap: which b-tree each page of the database belongs to, and where in it: built once by
// walking every b-tree, then kept current per transaction from the pages the transaction
// wrote (RowChangeDecoder does that), so no table is walked again.
//
// A b-tree page records its root and its parent; an overflow page records the page whose
// cell owns it (an overflow page can be rewritten without its owner: SQLite overwrites a
// same-size row in place). Trees are described by the schema (sqlite_schema, page 1).
//
// Thread safety: none; owned by one RowChangeDecoder.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "capture/wal/btree_walk.h"

namespace sqlift::wal {

// One b-tree the schema names.
struct TreeInfo {
  std::string table;   // the table it stores (an index's tree: the index's own name)
  bool rows = false;   // an application table whose rows are reported
  int key_fields = 0;  // WITHOUT ROWID: leading record fields forming the key; 0: rowid
};

// The number of primary key columns of a WITHOUT ROWID table.
using KeyFieldsFn = std::function<Result<int>(const std::string& table)>;

// The b-trees of the database as `ctx` shows it, by root page: sqlite_schema (root 1),
// tables and indexes. Tables named sqlite_* report no rows.
[[nodiscard]] Result<std::map<uint32_t, TreeInfo>> ReadTrees(const DecodeContext& ctx,
                                                             const KeyFieldsFn& key_fields);

struct PageEntry {
  uint32_t root = 0;
  uint32_t parent = 0;  // 0 for a root
  uint32_t owner = 0;   // overflow pages: the b-tree page whose cell owns it (parent is 0)
  bool overflow() const { return owner != 0; }
  bool operator==(const PageEntry&) const = default;
};

class PageMap {
 public:
  // Maps every page of the tree at `root` (walks it whole).
  [[nodiscard]] Status AddTree(const DecodeContext& ctx, uint32_t root);
  // The overflow pages of every cell of `page` (a b-tree page number `page_number` of the
  // tree at `root`) become owned by it. Returns the cells' entries when `entries` is set.
  [[nodiscard]] Status MapCells(const DecodeContext& ctx, const BtreePage& page, uint32_t root,
                                std::vector<BtreeEntry>* entries);

  const PageEntry* Find(uint32_t page) const {
    return page < pages_.size() && pages_[page].root != 0 ? &pages_[page] : nullptr;
  }
  // `e.root` is a page number (never 0).
  void Set(uint32_t page, PageEntry e);
  void Erase(uint32_t page);
  // Entries of trees whose root moved (old -> new) take the new root; `keep` are left as set.
  void RenumberRoots(const std::unordered_map<uint32_t, uint32_t>& moved,
                     const std::unordered_set<uint32_t>& keep);
  size_t size() const { return size_; }
  // The same pages with the same entries.
  bool operator==(const PageMap& o) const;

 private:
  // By page number (a database's pages are numbered densely from 1); root 0: no entry.
  std::vector<PageEntry> pages_;
  size_t size_ = 0;
};

// The children of an interior page (left children in order, then the right child).
[[nodiscard]] Result<std::vector<uint32_t>> Children(const BtreePage& page);

}  // namespace sqlift::wal
