#include "capture/wal/page_map.h"

#include <fmt/format.h>

#include <algorithm>

namespace sqlift::wal {
namespace {

bool IsInternal(const std::string& name) {
  return name.rfind("sqlite_", 0) == 0;
}

Result<std::pair<uint32_t, TreeInfo>> TreeOf(const DecodeContext& ctx, const BtreeEntry& e,
                                             const KeyFieldsFn& key_fields) {
  const std::vector<Value>& v = e.values;
  uint32_t root = static_cast<uint32_t>(v[3].integer);
  TreeInfo info{v[1].bytes, false, 0};
  if (v[0].bytes != "table" || IsInternal(info.table)) return std::make_pair(root, info);
  SQLIFT_ASSIGN_OR_RETURN(BtreePage page, LoadPage(ctx, root));
  info.rows = true;
  if (!page.is_table()) {
    SQLIFT_ASSIGN_OR_RETURN(info.key_fields, key_fields(info.table));
    if (info.key_fields < 1) return Status::InvalidArgument("WITHOUT ROWID table without a key");
  }
  return std::make_pair(root, info);
}

}  // namespace

Result<std::map<uint32_t, TreeInfo>> ReadTrees(const DecodeContext& ctx,
                                               const KeyFieldsFn& key_fields) {
  std::map<uint32_t, TreeInfo> trees{{1, TreeInfo{"sqlite_schema", false, 0}}};
  SQLIFT_RETURN_IF_ERROR(WalkBtree(ctx, 1, [&](BtreeEntry&& e) -> Status {
    const std::vector<Value>& v = e.values;
    if (v.size() != 5 || v[0].type != Value::Type::kText || v[1].type != Value::Type::kText) {
      return Status::Corruption(fmt::format("sqlite_schema row {} is malformed", e.rowid));
    }
    if (v[3].type != Value::Type::kInteger || v[3].integer <= 0) return Status::OK();  // a view
    if (v[3].integer > ctx.page_count) {
      return Status::Corruption(
          fmt::format("{}: root page {} is past the database's end", v[1].bytes, v[3].integer));
    }
    SQLIFT_ASSIGN_OR_RETURN(auto tree, TreeOf(ctx, e, key_fields));
    trees[tree.first] = std::move(tree.second);
    return Status::OK();
  }));
  return trees;
}

Result<std::vector<uint32_t>> Children(const BtreePage& page) {
  std::vector<uint32_t> out;
  if (page.is_leaf()) return out;
  for (int i = 0; i < page.cell_count(); ++i) {
    SQLIFT_ASSIGN_OR_RETURN(Cell cell, page.CellAt(i));
    out.push_back(cell.left_child);
  }
  out.push_back(page.right_child());
  return out;
}

Status PageMap::MapCells(const DecodeContext& ctx, const BtreePage& page, uint32_t root,
                         std::vector<BtreeEntry>* entries) {
  if (page.type() == PageType::kTableInterior) return Status::OK();
  std::vector<uint32_t> chain;
  for (int i = 0; i < page.cell_count(); ++i) {
    SQLIFT_ASSIGN_OR_RETURN(BtreeEntry entry, DecodeEntry(ctx, page, i, &chain));
    if (entries) entries->push_back(std::move(entry));
  }
  for (uint32_t o : chain)
    Set(o, PageEntry{root, 0, page.page_number()});
  return Status::OK();
}

Status PageMap::AddTree(const DecodeContext& ctx, uint32_t root) {
  std::vector<std::pair<uint32_t, uint32_t>> stack{{root, 0}};  // page, parent
  int visited = 0;
  while (!stack.empty()) {
    auto [number, parent] = stack.back();
    stack.pop_back();
    if (++visited > static_cast<int>(ctx.page_count)) {
      return Status::Corruption(fmt::format("b-tree at page {} has a cycle", root));
    }
    SQLIFT_ASSIGN_OR_RETURN(BtreePage page, LoadPage(ctx, number));
    Set(number, PageEntry{root, parent, 0});
    SQLIFT_RETURN_IF_ERROR(MapCells(ctx, page, root, nullptr));
    SQLIFT_ASSIGN_OR_RETURN(std::vector<uint32_t> children, Children(page));
    for (uint32_t c : children)
      stack.push_back({c, number});
  }
  return Status::OK();
}

void PageMap::RenumberRoots(const std::unordered_map<uint32_t, uint32_t>& moved,
                            const std::unordered_set<uint32_t>& keep) {
  for (uint32_t page = 0; page < pages_.size(); ++page) {
    PageEntry& entry = pages_[page];
    if (entry.root == 0) continue;
    auto it = moved.find(entry.root);
    if (it != moved.end() && !keep.count(page)) entry.root = it->second;
  }
}

void PageMap::Set(uint32_t page, PageEntry e) {
  if (page >= pages_.size()) pages_.resize(std::max<size_t>(page + 1, pages_.size() * 3 / 2));
  if (pages_[page].root == 0) ++size_;
  pages_[page] = e;
}

void PageMap::Erase(uint32_t page) {
  if (page >= pages_.size() || pages_[page].root == 0) return;
  pages_[page] = PageEntry{};
  --size_;
}

bool PageMap::operator==(const PageMap& o) const {
  if (size_ != o.size_) return false;
  const size_t n = std::max(pages_.size(), o.pages_.size());
  for (size_t page = 0; page < n; ++page) {
    const PageEntry none;
    const PageEntry& a = page < pages_.size() ? pages_[page] : none;
    const PageEntry& b = page < o.pages_.size() ? o.pages_[page] : none;
    if (!(a == b)) return false;
  }
  return true;
}

}  // namespace sqlift::wal
