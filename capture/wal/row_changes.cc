#include "capture/wal/row_changes.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "capture/wal/diff_scratch.h"

namespace sqlift::wal {
namespace {

// Page numbers, sorted and each once, so the work (and any error) is deterministic.
using PageSet = std::vector<uint32_t>;

bool Has(const PageSet& set, uint32_t page) {
  return std::binary_search(set.begin(), set.end(), page);
}

void Normalize(PageSet* set) {
  std::sort(set->begin(), set->end());
  set->erase(std::unique(set->begin(), set->end()), set->end());
}

// A row as its page holds it; the record is decoded only when the row changed.
struct StoredRow {
  int64_t rowid = 0;
  uint32_t page = 0;
  int cell = 0;
  std::string payload;
};

Result<std::vector<Value>> Values(const StoredRow& row, TextEncoding encoding,
                                  size_t count = SIZE_MAX) {
  Result<std::vector<Value>> values = DecodeRecordPrefix(row.payload, encoding, count);
  if (!values.ok()) return values.status().With(fmt::format("page {} cell {}", row.page, row.cell));
  return values;
}

// A row's identity within its table: the rowid (big-endian, sign bit flipped, so keys sort
// as rowids do), or the WITHOUT ROWID key fields.
Result<std::string> KeyOf(const TreeInfo& tree, const StoredRow& row, TextEncoding encoding) {
  std::string key;
  if (tree.key_fields == 0) {
    uint64_t k = static_cast<uint64_t>(row.rowid) ^ (uint64_t{1} << 63);
    for (int shift = 56; shift >= 0; shift -= 8)
      key += static_cast<char>(k >> shift);
    return key;
  }
  SQLIFT_ASSIGN_OR_RETURN(std::vector<Value> values,
                          Values(row, encoding, static_cast<size_t>(tree.key_fields)));
  for (const Value& v : values) {  // type, number and length in fixed widths, then the bytes
    uint64_t fixed[] = {static_cast<uint64_t>(v.type), static_cast<uint64_t>(v.integer),
                        std::bit_cast<uint64_t>(v.real), v.bytes.size()};
    key.append(reinterpret_cast<const char*>(fixed), sizeof fixed);
    key += v.bytes;
  }
  return key;
}

using RowKey = std::pair<std::string, std::string>;  // table, key
using Rows = std::map<RowKey, StoredRow>;

// One transaction's diff; see row_changes.h for the method.
class TransactionDiff {
 public:
  TransactionDiff(const DecodeContext& before, const DecodeContext& after, PageSet written,
                  const std::map<uint32_t, TreeInfo>& trees_before,
                  const std::map<uint32_t, TreeInfo>& trees_after, PageMap& map,
                  DiffScratch& scratch)
      : before_(before),
        after_(after),
        written_(std::move(written)),
        trees_before_(trees_before),
        trees_after_(trees_after),
        map_(map),
        s_(scratch) {
    s_.Clear();
  }

  Result<std::vector<RowChange>> Run() {
    Normalize(&written_);
    SQLIFT_RETURN_IF_ERROR(IndexAfterChildren());
    PageSet touched = written_;
    for (uint32_t p : written_) {
      const PageEntry* e = map_.Find(p);
      if (e && e->overflow()) touched.push_back(e->owner);
    }
    Normalize(&touched);
    PageSet departed;
    SQLIFT_RETURN_IF_ERROR(CollectDeparted(&departed));
    for (uint32_t p : touched)
      Resolve(p);  // while the map still describes `before`
    for (uint32_t p : touched)
      FindUnchanged(p);
    for (uint32_t p : touched)
      SQLIFT_RETURN_IF_ERROR(ReadBefore(p));
    for (uint32_t p : departed)
      SQLIFT_RETURN_IF_ERROR(ReadBefore(p));
    for (uint32_t p : s_.forget)
      map_.Erase(p);
    for (uint32_t p : touched)
      SQLIFT_RETURN_IF_ERROR(ReadAfter(p));
    ForgetDroppedTables();
    RenumberMovedRoots();
    return Diff();
  }

 private:
  // For each written page that parses as an interior page after the transaction, its
  // children: candidate parents for Resolve (trusted only once the parent resolves).
  Status IndexAfterChildren() {
    for (uint32_t p : written_) {
      if (p > after_.page_count) continue;
      Result<BtreePage> page = LoadPage(after_, p);
      if (!page.ok() || page->is_leaf()) continue;
      Result<std::vector<uint32_t>> children = Children(*page);
      if (!children.ok()) continue;
      for (uint32_t c : *children)
        s_.parents_after.emplace_back(c, p);
    }
    std::sort(s_.parents_after.begin(), s_.parents_after.end());
    return Status::OK();
  }

  // Where page p sits after the transaction, or nullopt when it is in no b-tree.
  std::optional<PageEntry> Resolve(uint32_t p) {
    if (const auto* known = s_.resolved.Find(p)) return *known;
    if (p > after_.page_count) return std::nullopt;
    if (trees_after_.count(p)) return s_.resolved[p] = PageEntry{p, 0, 0};
    {
      char& busy = s_.resolving[p];
      if (busy) return std::nullopt;  // a cycle: not reachable
      busy = 1;
    }
    std::optional<PageEntry> found;
    // The parents of p, in page order (parents_after is sorted; Resolve leaves it as it is).
    auto q = std::lower_bound(s_.parents_after.begin(), s_.parents_after.end(),
                              std::pair<uint32_t, uint32_t>{p, 0});
    for (; q != s_.parents_after.end() && q->first == p; ++q) {
      if (auto r = Resolve(q->second)) {
        found = PageEntry{r->root, q->second, 0};
        break;
      }
    }
    const PageEntry* e = map_.Find(p);
    if (!found && e && !e->overflow() && e->parent != 0 && !Has(written_, e->parent)) {
      const uint32_t parent = e->parent;  // the entry's address is not kept across the call
      if (auto r = Resolve(parent)) found = PageEntry{r->root, parent, 0};
    }
    s_.resolving[p] = 0;
    return s_.resolved[p] = found;
  }

  // Pages that were in a b-tree before and are in none after, though not written: below a
  // written interior page that no longer points at them, or a dropped tree's root.
  Status CollectDeparted(PageSet* out) {
    std::vector<uint32_t>& todo = s_.todo;
    for (uint32_t p : written_) {
      const PageEntry* e = map_.Find(p);
      if (!e || e->overflow()) continue;
      SQLIFT_RETURN_IF_ERROR(BeforeChildren(p, &todo, Resolve(p) ? p : 0));
    }
    for (const auto& [root, tree] : trees_before_) {
      // A root that is still a root resolves at once; only the others may have departed.
      if (root > after_.page_count || !trees_after_.count(root)) todo.push_back(root);
    }
    while (!todo.empty()) {
      uint32_t c = todo.back();
      todo.pop_back();
      const PageEntry* e = map_.Find(c);
      if (Has(written_, c) || s_.departed.Contains(c) || !e || e->overflow() || Resolve(c)) {
        continue;
      }
      s_.departed[c] = 1;
      out->push_back(c);
      SQLIFT_RETURN_IF_ERROR(BeforeChildren(c, &todo));
    }
    std::sort(out->begin(), out->end());
    return Status::OK();
  }

  // The children page p had before, to look at. With `kept_by` (p itself, when p is in a
  // b-tree after the transaction) those that are still its children are left out: such a child
  // resolves through p, so it has not departed (an interior page has hundreds of children and
  // the transaction usually changed one or two).
  Status BeforeChildren(uint32_t p, std::vector<uint32_t>* out, uint32_t kept_by = 0) {
    SQLIFT_ASSIGN_OR_RETURN(BtreePage page, LoadPage(before_, p));
    SQLIFT_ASSIGN_OR_RETURN(std::vector<uint32_t> children, Children(page));
    for (uint32_t c : children) {
      if (kept_by != 0 && c <= after_.page_count &&
          std::binary_search(s_.parents_after.begin(), s_.parents_after.end(),
                             std::pair<uint32_t, uint32_t>{c, kept_by})) {
        continue;
      }
      out->push_back(c);
    }
    return Status::OK();
  }

  // The cells of touched page p that hold the same row byte for byte before and after, in
  // the same table: neither side reads them, since the diff would find them equal. Only for
  // rowid leaves with ascending rowids on both sides (so a rowid is one cell), cells without
  // overflow (a chain can change behind the same local bytes). Anything unexpected leaves
  // every cell to the full read, which reports it.
  void FindUnchanged(uint32_t p) {
    const PageEntry* e = map_.Find(p);
    std::optional<PageEntry> where = Resolve(p);
    if (!e || e->overflow() || !where) return;
    auto tb = trees_before_.find(e->root);
    auto ta = trees_after_.find(where->root);
    if (tb == trees_before_.end() || ta == trees_after_.end() || !tb->second.rows ||
        !ta->second.rows || tb->second.table != ta->second.table) {
      return;
    }
    Result<BtreePage> before = LoadPage(before_, p);
    Result<BtreePage> after = LoadPage(after_, p);
    if (!before.ok() || !after.ok()) return;
    Result<UnchangedCells> same = MatchUnchangedCells(*before, *after);
    if (same.ok()) s_.unchanged[p] = std::move(same).value();
  }

  // Which cells of page p to leave out of the side `before` (or after).
  const std::vector<bool>* Unchanged(uint32_t p, bool before) const {
    const UnchangedCells* same = s_.unchanged.Find(p);
    if (!same) return nullptr;
    return before ? &same->before : &same->after;
  }

  // The rows page p held before (if it was a page of a table), and its map entries to forget.
  Status ReadBefore(uint32_t p) {
    const PageEntry* e = map_.Find(p);
    s_.forget.push_back(p);
    if (!e || e->overflow()) return Status::OK();
    auto tree = trees_before_.find(e->root);
    if (tree == trees_before_.end()) {
      return Status::Internal(fmt::format("page {}: mapped to unknown root {}", p, e->root));
    }
    SQLIFT_ASSIGN_OR_RETURN(BtreePage page, LoadPage(before_, p));
    std::vector<StoredRow> rows;
    std::vector<uint32_t> chain;
    SQLIFT_RETURN_IF_ERROR(
        ReadCells(before_, page, Unchanged(p, true), tree->second.rows, &rows, &chain));
    s_.forget.insert(s_.forget.end(), chain.begin(), chain.end());
    if (!tree->second.rows) return Status::OK();
    return Keep(tree->second, std::move(rows), before_.encoding, &before_rows_);
  }

  // The rows page p holds after, if it is in a b-tree; maps it, its children and overflow.
  Status ReadAfter(uint32_t p) {
    std::optional<PageEntry> where = Resolve(p);
    if (!where) return Status::OK();
    const TreeInfo& tree = trees_after_.at(where->root);
    SQLIFT_ASSIGN_OR_RETURN(BtreePage page, LoadPage(after_, p));
    Set(p, *where);
    SQLIFT_ASSIGN_OR_RETURN(std::vector<uint32_t> children, Children(page));
    for (uint32_t c : children) {
      if (c > after_.page_count) {  // the map is sized by page number: never past the end
        return Status::Corruption(fmt::format("page {}: child page {} is past the database's {}", p,
                                              c, after_.page_count));
      }
      if (!Has(written_, c)) Set(c, PageEntry{where->root, p, 0});
    }
    std::vector<StoredRow> rows;
    std::vector<uint32_t> chain;
    SQLIFT_RETURN_IF_ERROR(ReadCells(after_, page, Unchanged(p, false), tree.rows, &rows, &chain));
    for (uint32_t o : chain)
      map_.Set(o, PageEntry{where->root, 0, p});
    if (!tree.rows) return Status::OK();
    return Keep(tree, std::move(rows), after_.encoding, &after_rows_);
  }

  // The payloads of a page's cells (none for a table's interior page) but those `skip` marks
  // (cells without overflow), and their chains. Without `keep` (a tree whose rows are not
  // reported) only the chains: a cell whose payload is all on the page is not copied.
  static Status ReadCells(const DecodeContext& ctx, const BtreePage& page,
                          const std::vector<bool>* skip, bool keep, std::vector<StoredRow>* rows,
                          std::vector<uint32_t>* chain) {
    if (page.type() == PageType::kTableInterior) return Status::OK();
    for (int i = 0; i < page.cell_count(); ++i) {
      if (skip && (*skip)[static_cast<size_t>(i)]) continue;
      SQLIFT_ASSIGN_OR_RETURN(Cell cell, page.CellAt(i));
      if (!keep && cell.first_overflow == 0) continue;
      SQLIFT_ASSIGN_OR_RETURN(
          std::string payload,
          ReadPayload(cell, page.page_number(), ctx.geometry, ctx.get_page, ctx.page_count, chain));
      if (keep) rows->push_back({cell.rowid, page.page_number(), i, std::move(payload)});
    }
    return Status::OK();
  }

  static Status Keep(const TreeInfo& tree, std::vector<StoredRow> rows, TextEncoding encoding,
                     Rows* out) {
    for (StoredRow& row : rows) {
      SQLIFT_ASSIGN_OR_RETURN(std::string key, KeyOf(tree, row, encoding));
      (*out)[{tree.table, std::move(key)}] = std::move(row);
    }
    return Status::OK();
  }

  void Set(uint32_t page, PageEntry e) {
    map_.Set(page, e);
    s_.fresh.push_back(page);
  }

  // auto_vacuum moves a root page into the slot a dropped tree freed: every page of the moved
  // tree, written or not, now belongs to the tree under its new root number.
  void RenumberMovedRoots() {
    if (&trees_before_ == &trees_after_) return;   // the schema's pages were not written
    std::unordered_map<uint32_t, uint32_t> moved;  // old root -> new root
    for (const auto& [old_root, tree] : trees_before_) {
      for (const auto& [new_root, now] : trees_after_) {
        if (now.table == tree.table && new_root != old_root) moved[old_root] = new_root;
      }
    }
    if (moved.empty()) return;
    map_.RenumberRoots(moved, std::unordered_set<uint32_t>(s_.fresh.begin(), s_.fresh.end()));
  }

  // A table the schema no longer has was dropped: DDL, which the caller reads from the
  // schema, not a deletion of each of its rows.
  void ForgetDroppedTables() {
    if (&trees_before_ == &trees_after_) return;
    std::set<std::string> tables;
    for (const auto& [root, tree] : trees_after_) {
      if (tree.rows) tables.insert(tree.table);
    }
    std::erase_if(before_rows_, [&](const auto& row) { return !tables.count(row.first.first); });
  }

  // Rows only before are deleted, only after inserted; a row whose record bytes differ is
  // updated, unless its values decode the same.
  Result<std::vector<RowChange>> Diff() {
    std::vector<RowChange> out;
    auto b = before_rows_.begin();
    auto a = after_rows_.begin();
    while (b != before_rows_.end() || a != after_rows_.end()) {
      if (a == after_rows_.end() || (b != before_rows_.end() && b->first < a->first)) {
        SQLIFT_ASSIGN_OR_RETURN(std::vector<Value> values, Values(b->second, before_.encoding));
        out.push_back(
            {RowChange::Kind::kDelete, b->first.first, b->second.rowid, std::move(values), {}});
        ++b;
      } else if (b == before_rows_.end() || a->first < b->first) {
        SQLIFT_ASSIGN_OR_RETURN(std::vector<Value> values, Values(a->second, after_.encoding));
        out.push_back(
            {RowChange::Kind::kInsert, a->first.first, a->second.rowid, {}, std::move(values)});
        ++a;
      } else {
        if (b->second.payload != a->second.payload) SQLIFT_RETURN_IF_ERROR(Update(b, a, &out));
        ++a, ++b;
      }
    }
    return out;
  }

  Status Update(Rows::iterator b, Rows::iterator a, std::vector<RowChange>* out) {
    SQLIFT_ASSIGN_OR_RETURN(std::vector<Value> old_values, Values(b->second, before_.encoding));
    SQLIFT_ASSIGN_OR_RETURN(std::vector<Value> new_values, Values(a->second, after_.encoding));
    if (old_values == new_values) return Status::OK();
    out->push_back({RowChange::Kind::kUpdate, a->first.first, a->second.rowid,
                    std::move(old_values), std::move(new_values)});
    return Status::OK();
  }

  const DecodeContext& before_;
  const DecodeContext& after_;
  PageSet written_;
  const std::map<uint32_t, TreeInfo>& trees_before_;
  const std::map<uint32_t, TreeInfo>& trees_after_;
  PageMap& map_;
  DiffScratch& s_;
  Rows before_rows_, after_rows_;
};

// Whether page 1 differs past the database header: a transaction that only grows the
// database rewrites page 1 for the header's page count, leaving sqlite_schema's cells alone.
bool SchemaRootChanged(const DecodeContext& before, const DecodeContext& after) {
  Result<std::string_view> b = before.get_page(1), a = after.get_page(1);
  if (!b.ok() || !a.ok() || b->size() != a->size() || b->size() < kDatabaseHeaderSize) {
    return true;
  }
  return b->substr(kDatabaseHeaderSize) != a->substr(kDatabaseHeaderSize);
}

// Whether the transaction wrote sqlite_schema's b-tree: a page of it other than page 1, or
// page 1's b-tree part.
bool SchemaTouched(const PageMap& map, const std::vector<uint32_t>& written,
                   const DecodeContext& before, const DecodeContext& after) {
  bool root = false;
  for (uint32_t p : written) {
    const PageEntry* e = map.Find(p);
    if (p == 1) {
      root = true;
    } else if (e && e->root == 1) {
      return true;
    }
  }
  return root && SchemaRootChanged(before, after);
}

}  // namespace

RowChangeDecoder::RowChangeDecoder(KeyFieldsFn key_fields)
    : key_fields_(std::move(key_fields)), scratch_(std::make_unique<DiffScratch>()) {}

RowChangeDecoder::~RowChangeDecoder() = default;

Result<std::unique_ptr<RowChangeDecoder>> RowChangeDecoder::Create(const DecodeContext& ctx,
                                                                   KeyFieldsFn key_fields) {
  std::unique_ptr<RowChangeDecoder> d(new RowChangeDecoder(std::move(key_fields)));
  SQLIFT_ASSIGN_OR_RETURN(d->trees_, ReadTrees(ctx, d->key_fields_));
  for (const auto& [root, tree] : d->trees_)
    SQLIFT_RETURN_IF_ERROR(d->map_.AddTree(ctx, root));
  return d;
}

Result<std::vector<RowChange>> RowChangeDecoder::Decode(const DecodeContext& before,
                                                        const DecodeContext& after,
                                                        const std::vector<uint32_t>& written) {
  // The trees are read again only when the schema's cells were written (the same map
  // otherwise, which the diff takes as "no tree moved or went").
  std::optional<std::map<uint32_t, TreeInfo>> changed;
  if (SchemaTouched(map_, written, before, after)) {
    SQLIFT_ASSIGN_OR_RETURN(changed, ReadTrees(after, key_fields_));
  }
  PageSet pages(written.begin(), written.end());
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RowChange> changes,
                          TransactionDiff(before, after, std::move(pages), trees_,
                                          changed ? *changed : trees_, map_, *scratch_)
                              .Run());
  if (changed) trees_ = std::move(*changed);
  return changes;
}

}  // namespace sqlift::wal
