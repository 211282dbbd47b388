#include "capture/wal/wal_format.h"

#include <fmt/format.h>

#include "capture/wal/bytes.h"

namespace sqlift::wal {
namespace {

uint32_t Word(std::string_view s, size_t i, bool big_endian) {
  if (big_endian) return Get32(s, i);
  return Byte(s, i + 3) << 24 | Byte(s, i + 2) << 16 | Byte(s, i + 1) << 8 | Byte(s, i);
}

bool ValidPageSize(uint32_t size) {
  return size >= 512 && size <= 65536 && (size & (size - 1)) == 0;
}

}  // namespace

WalChecksum WalChecksumBytes(std::string_view bytes, bool big_endian_words, WalChecksum sum) {
  for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
    sum.s0 += Word(bytes, i, big_endian_words) + sum.s1;
    sum.s1 += Word(bytes, i + 4, big_endian_words) + sum.s0;
  }
  return sum;
}

Result<WalHeader> ParseWalHeader(std::string_view bytes) {
  if (bytes.size() < kWalHeaderSize) {
    return Status::Corruption(fmt::format("WAL header: {} of 32 bytes", bytes.size()));
  }
  WalHeader h{Get32(bytes, 0),
              Get32(bytes, 4),
              Get32(bytes, 8),
              Get32(bytes, 12),
              Get32(bytes, 16),
              Get32(bytes, 20),
              {Get32(bytes, 24), Get32(bytes, 28)}};
  if (h.magic != kWalMagicLittleEndian && h.magic != kWalMagicBigEndian) {
    return Status::Corruption(fmt::format("WAL header: bad magic {:#010x}", h.magic));
  }
  if (h.version != kWalFormatVersion) {
    return Status::Corruption(fmt::format("WAL header: unknown format version {}", h.version));
  }
  if (!ValidPageSize(h.page_size)) {
    return Status::Corruption(fmt::format("WAL header: bad page size {}", h.page_size));
  }
  WalChecksum sum = WalChecksumBytes(bytes.substr(0, 24), h.big_endian_checksum(), {});
  if (sum != h.checksum) return Status::Corruption("WAL header: checksum mismatch");
  return h;
}

WalFrameHeader ParseWalFrameHeader(std::string_view b) {
  return {Get32(b, 0), Get32(b, 4), Get32(b, 8), Get32(b, 12), {Get32(b, 16), Get32(b, 20)}};
}

WalChecksum FrameChecksum(std::string_view frame_header, std::string_view page,
                          bool big_endian_words, WalChecksum prev) {
  WalChecksum sum = WalChecksumBytes(frame_header.substr(0, 8), big_endian_words, prev);
  return WalChecksumBytes(page, big_endian_words, sum);
}

}  // namespace sqlift::wal
