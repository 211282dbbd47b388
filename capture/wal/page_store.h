// PageStore: the database's pages as of the last committed WAL transaction applied to it:
// each page from its latest applied frame, otherwise from the database file.
//
// The database file is read once per page and cached (until DropFileCache), so it must not
// be checkpointed into while the store is in use (the caller owns that ordering). Views
// returned by Get stay valid until the next Apply or DropFileCache. Thread safety: none; one
// thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "capture/wal/btree_walk.h"
#include "capture/wal/random_access_file.h"
#include "capture/wal/wal_reader.h"

namespace sqlift::wal {

class PageStore {
 public:
  // page_count: the database size before any transaction is applied (the database file's).
  PageStore(RandomAccessFile& db_file, uint32_t page_size, uint32_t page_count)
      : db_file_(db_file), page_size_(page_size), page_count_(page_count) {}

  // The store as the database file alone has it, sized from its header (empty file: 0 pages).
  [[nodiscard]] static Result<PageStore> ForDatabaseFile(RandomAccessFile& db_file,
                                                         uint32_t page_size);

  // Later frames replace earlier ones; the size becomes the transaction's. The second form
  // takes the frames' pages instead of copying them (txn keeps its other fields).
  void Apply(const WalTransaction& txn);
  void Apply(WalTransaction&& txn);
  // Frees the pages cached from the database file; each is read from the file again when
  // next asked for (pages from applied frames are kept: the file does not have them).
  void DropFileCache() { decltype(file_pages_)().swap(file_pages_); }

  [[nodiscard]] Result<std::string_view> Get(uint32_t page_number);
  // Whether the page's image comes from an applied frame (not from the database file).
  bool FromFrames(uint32_t page_number) const { return wal_pages_.count(page_number) > 0; }
  uint32_t page_count() const { return page_count_; }
  PageGetter Getter() {
    return [this](uint32_t n) { return Get(n); };
  }
  // A decoding context over this store, with the geometry and encoding of its page 1.
  [[nodiscard]] Result<DecodeContext> Context();
  uint32_t page_size() const { return page_size_; }

 private:
  RandomAccessFile& db_file_;
  uint32_t page_size_;
  uint32_t page_count_;
  std::unordered_map<uint32_t, std::string> wal_pages_;
  std::unordered_map<uint32_t, std::string> file_pages_;
};

// The database as a PageStore has it plus one transaction's frames (the latest per page),
// leaving the store as it is: the "after" side of a transaction while the store is "before".
// `base` and `txn` must outlive the view. Thread safety: none.
class TransactionView {
 public:
  TransactionView(PageStore& base, const WalTransaction& txn);
  [[nodiscard]] Result<std::string_view> Get(uint32_t page_number);
  [[nodiscard]] Result<DecodeContext> Context();
  // The pages the transaction wrote, each once.
  std::vector<uint32_t> written() const;

 private:
  PageStore& base_;
  uint32_t page_count_;
  // The latest frame's image of each page written, sorted by page (a transaction writes a few).
  std::vector<std::pair<uint32_t, const std::string*>> pages_;
};

}  // namespace sqlift::wal
