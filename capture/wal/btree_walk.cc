#include "capture/wal/btree_walk.h"

#include <fmt/format.h>

#include <unordered_set>

namespace sqlift::wal {
namespace {

// SQLite's cursors stop at this depth (BTCURSOR_MAX_DEPTH); a deeper tree is corrupt.
constexpr int kMaxDepth = 20;

class Walker {
 public:
  Walker(const DecodeContext& ctx, const EntryVisitor& visit, const PageVisitor& on_page)
      : ctx_(ctx), visit_(visit), on_page_(on_page) {}

  Status Walk(uint32_t page_number, int depth, std::optional<bool> table) {
    if (depth > kMaxDepth) return Bad(page_number, "b-tree deeper than SQLite allows");
    if (!seen_.insert(page_number).second) return Bad(page_number, "page reached twice");
    SQLIFT_ASSIGN_OR_RETURN(BtreePage page, LoadPage(ctx_, page_number));
    if (table && *table != page.is_table())
      return Bad(page_number, "page of the other b-tree kind");
    if (on_page_) on_page_(page_number, page);
    for (int i = 0; i < page.cell_count(); ++i) {
      SQLIFT_ASSIGN_OR_RETURN(Cell cell, page.CellAt(i));
      if (!page.is_leaf())
        SQLIFT_RETURN_IF_ERROR(Walk(cell.left_child, depth + 1, page.is_table()));
      if (page.is_leaf() || !page.is_table()) SQLIFT_RETURN_IF_ERROR(Emit(page, i));
    }
    if (page.is_leaf()) return Status::OK();
    return Walk(page.right_child(), depth + 1, page.is_table());
  }

 private:
  Status Emit(const BtreePage& page, int i) {
    SQLIFT_ASSIGN_OR_RETURN(BtreeEntry entry, DecodeEntry(ctx_, page, i));
    return visit_(std::move(entry));
  }
  static Status Bad(uint32_t page_number, std::string_view what) {
    return Status::Corruption(fmt::format("page {}: {}", page_number, what));
  }

  const DecodeContext& ctx_;
  const EntryVisitor& visit_;
  const PageVisitor& on_page_;
  std::unordered_set<uint32_t> seen_;
};

}  // namespace

Result<BtreePage> LoadPage(const DecodeContext& ctx, uint32_t page_number) {
  if (page_number < 1 || page_number > ctx.page_count) {
    return Status::Corruption(
        fmt::format("page {} is outside the database's {} pages", page_number, ctx.page_count));
  }
  SQLIFT_ASSIGN_OR_RETURN(std::string_view bytes, ctx.get_page(page_number));
  return BtreePage::Parse(bytes, page_number, ctx.geometry);
}

Result<BtreeEntry> DecodeEntry(const DecodeContext& ctx, const BtreePage& page, int i,
                               std::vector<uint32_t>* chain) {
  SQLIFT_ASSIGN_OR_RETURN(Cell cell, page.CellAt(i));
  if (page.type() == PageType::kTableInterior) {
    return Status::InvalidArgument(fmt::format(
        "page {} cell {}: a table's interior cell holds no row", page.page_number(), i));
  }
  SQLIFT_ASSIGN_OR_RETURN(std::string payload, ReadPayload(cell, page.page_number(), ctx.geometry,
                                                           ctx.get_page, ctx.page_count, chain));
  Result<std::vector<Value>> values = DecodeRecord(payload, ctx.encoding);
  if (!values.ok()) {
    return values.status().With(
        fmt::format("page {} cell {} at offset {}", page.page_number(), i, cell.offset));
  }
  return BtreeEntry{page.page_number(), cell.rowid, std::move(values).value()};
}

Status WalkBtree(const DecodeContext& ctx, uint32_t root, const EntryVisitor& visit,
                 const PageVisitor& on_page) {
  return Walker(ctx, visit, on_page).Walk(root, 0, std::nullopt);
}

}  // namespace sqlift::wal
