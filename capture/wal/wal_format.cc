#include "capture/wal/wal_format.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>

#include "capture/wal/bytes.h"

namespace sqlift::wal {
namespace {

bool ValidPageSize(uint32_t size) {
  return size >= 512 && size <= 65536 && (size & (size - 1)) == 0;
}

// The checksum over whole pairs of words, each loaded at once and byte-swapped when its order
// is not the machine's (rather than assembled byte by byte: every frame's page is summed).
template <bool kSwap>
WalChecksum SumWords(std::string_view bytes, WalChecksum sum) {
  const char* p = bytes.data();
  uint32_t s0 = sum.s0, s1 = sum.s1;
  for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
    uint32_t x[2];
    std::memcpy(x, p + i, 8);
    if (kSwap) x[0] = __builtin_bswap32(x[0]), x[1] = __builtin_bswap32(x[1]);
    s0 += x[0] + s1;
    s1 += x[1] + s0;
  }
  return {s0, s1};
}

}  // namespace

WalChecksum WalChecksumBytes(std::string_view bytes, bool big_endian_words, WalChecksum sum) {
  const bool swap = big_endian_words != (std::endian::native == std::endian::big);
  return swap ? SumWords<true>(bytes, sum) : SumWords<false>(bytes, sum);
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
