#include "capture/wal/page_store.h"

#include <fmt/format.h>

#include <algorithm>

#include "capture/wal/bytes.h"
#include "capture/wal/page_buffers.h"

namespace sqlift::wal {

Result<PageStore> PageStore::ForDatabaseFile(RandomAccessFile& db_file, uint32_t page_size) {
  SQLIFT_ASSIGN_OR_RETURN(std::string header, db_file.ReadAt(0, kDatabaseHeaderSize));
  uint32_t pages = header.size() == kDatabaseHeaderSize ? Get32(header, 28) : 0;
  return PageStore(db_file, page_size, pages);
}

void PageStore::Apply(const WalTransaction& txn) {
  for (const WalFrame& f : txn.frames)
    wal_pages_[f.page_number] = f.page;
  page_count_ = txn.db_size_pages;
}

void PageStore::Apply(WalTransaction&& txn) {
  for (WalFrame& f : txn.frames) {
    std::string& page = wal_pages_[f.page_number];
    page.swap(f.page);
    PageBuffers::Recycle(std::move(f.page));  // the image this frame replaced, if any
  }
  page_count_ = txn.db_size_pages;
}

Result<std::string_view> PageStore::Get(uint32_t page_number) {
  if (page_number == 0 || page_number > page_count_) {
    return Status::NotFound(fmt::format("page {} of a {}-page database", page_number, page_count_));
  }
  if (auto it = wal_pages_.find(page_number); it != wal_pages_.end())
    return std::string_view(it->second);
  if (auto it = file_pages_.find(page_number); it != file_pages_.end())
    return std::string_view(it->second);
  uint64_t offset = static_cast<uint64_t>(page_number - 1) * page_size_;
  SQLIFT_ASSIGN_OR_RETURN(std::string page, db_file_.ReadAt(offset, page_size_));
  if (page.size() != page_size_) {
    return Status::Corruption(fmt::format("page {}: the database file ends at {} of its bytes",
                                          page_number, page.size()));
  }
  return std::string_view(file_pages_.emplace(page_number, std::move(page)).first->second);
}

namespace {

Result<DecodeContext> MakeContext(PageGetter get, uint32_t page_size, uint32_t page_count) {
  SQLIFT_ASSIGN_OR_RETURN(std::string_view page1, get(1));
  SQLIFT_ASSIGN_OR_RETURN(DatabaseHeader header, ParseDatabaseHeader(page1));
  if (header.geometry.page_size != page_size) {
    return Status::Corruption(fmt::format("database page size {} differs from the WAL's {}",
                                          header.geometry.page_size, page_size));
  }
  return DecodeContext{header.geometry, header.encoding, page_count, std::move(get)};
}

}  // namespace

Result<DecodeContext> PageStore::Context() {
  return MakeContext(Getter(), page_size_, page_count_);
}

TransactionView::TransactionView(PageStore& base, const WalTransaction& txn)
    : base_(base), page_count_(txn.db_size_pages) {
  pages_.reserve(txn.frames.size());
  for (const WalFrame& f : txn.frames)
    pages_.emplace_back(f.page_number, &f.page);
  // By page, and for a page written twice its latest frame (later in WAL order) kept.
  std::stable_sort(pages_.begin(), pages_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  auto last = pages_.begin();
  for (auto it = pages_.begin(); it != pages_.end(); ++it) {
    if (last != pages_.begin() && std::prev(last)->first == it->first) {
      *std::prev(last) = *it;
    } else {
      *last++ = *it;
    }
  }
  pages_.erase(last, pages_.end());
}

Result<std::string_view> TransactionView::Get(uint32_t page_number) {
  if (page_number == 0 || page_number > page_count_) {
    return Status::NotFound(fmt::format("page {} of a {}-page database", page_number, page_count_));
  }
  auto it = std::lower_bound(pages_.begin(), pages_.end(), page_number,
                             [](const auto& entry, uint32_t page) { return entry.first < page; });
  if (it != pages_.end() && it->first == page_number) return std::string_view(*it->second);
  return base_.Get(page_number);
}

Result<DecodeContext> TransactionView::Context() {
  return MakeContext([this](uint32_t n) { return Get(n); }, base_.page_size(), page_count_);
}

std::vector<uint32_t> TransactionView::written() const {
  std::vector<uint32_t> out;
  for (const auto& [page, bytes] : pages_)
    out.push_back(page);
  return out;
}

}  // namespace sqlift::wal
