// WalBuilder: writes WAL files byte by byte for tests, with the header and frame checksums
// SQLite would write, so a test can make any valid log and then damage it on purpose.
//
// Thread safety: none; one builder per test.
#pragma once

#include <cstdint>
#include <string>

#include "capture/wal/wal_format.h"

namespace sqlift::wal::testing {

class WalBuilder {
 public:
  WalBuilder(uint32_t page_size, bool big_endian, uint32_t salt1, uint32_t salt2,
             uint32_t checkpoint_seq = 0);

  // Appends a frame for `page_number` whose page is `fill` repeated; db_size != 0 commits.
  void AddFrame(uint32_t page_number, uint32_t db_size, char fill);
  void AddFrame(uint32_t page_number, uint32_t db_size, const std::string& page);

  const std::string& bytes() const { return bytes_; }
  uint32_t page_size() const { return page_size_; }
  size_t frame_size() const { return kWalFrameHeaderSize + page_size_; }
  // Byte offset of frame `index` in bytes().
  size_t FrameOffset(uint64_t index) const { return kWalHeaderSize + index * frame_size(); }

 private:
  uint32_t page_size_;
  bool big_endian_;
  uint32_t salt1_, salt2_;
  WalChecksum sum_;
  std::string bytes_;
};

}  // namespace sqlift::wal::testing
