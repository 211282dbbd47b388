// FaultyFile: a RandomAccessFile over bytes in memory that fails on purpose: the n-th read
// returns IOError, or every read past a byte offset is cut short (a write not yet complete).
//
// Thread safety: none; one per test.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "capture/wal/random_access_file.h"

namespace sqlift::wal::testing {

class FaultyFile : public RandomAccessFile {
 public:
  explicit FaultyFile(std::string bytes) : file_(std::move(bytes)) {}

  void FailReadNumber(int n) { fail_read_ = n; }
  void VisibleBytes(uint64_t limit) { visible_ = limit; }
  int reads() const { return reads_; }

  [[nodiscard]] Result<std::string> ReadAt(uint64_t offset, size_t n) override {
    if (++reads_ == fail_read_) return Status::IOError("injected read failure");
    if (visible_ && offset + n > *visible_) n = offset < *visible_ ? *visible_ - offset : 0;
    return file_.ReadAt(offset, n);
  }

 private:
  StringFile file_;
  int reads_ = 0;
  int fail_read_ = -1;
  std::optional<uint64_t> visible_;
};

}  // namespace sqlift::wal::testing
