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

// The pair of words at p, byte-swapped when their order is not the machine's (loaded at once
// rather than assembled byte by byte: every frame's page is summed).
template <bool kSwap>
void LoadPair(const char* p, uint32_t x[2]) {
  std::memcpy(x, p, 8);
  if (kSwap) x[0] = __builtin_bswap32(x[0]), x[1] = __builtin_bswap32(x[1]);
}

// The format's definition: s0 += x0 + s1; s1 += x1 + s0, per pair, over whole pairs.
template <bool kSwap>
WalChecksum SumWordsSerially(std::string_view bytes, WalChecksum sum) {
  const char* p = bytes.data();
  uint32_t s0 = sum.s0, s1 = sum.s1;
  for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
    uint32_t x[2];
    LoadPair<kSwap>(p + i, x);
    s0 += x[0] + s1;
    s1 += x[1] + s0;
  }
  return {s0, s1};
}

// A pair step is linear in (s0, s1) modulo 2^32: with no words added, it maps (s0, s1) to
// (s0 + s1, s0 + 2 s1), the matrix M = [[1, 1], [1, 2]]; k steps over words x are M^k applied
// to the starting sums plus the k steps over x from (0, 0).
struct Matrix {
  uint32_t a, b, c, d;  // [[a, b], [c, d]]
};

Matrix Times(const Matrix& x, const Matrix& y) {
  return {x.a * y.a + x.b * y.c, x.a * y.b + x.b * y.d, x.c * y.a + x.d * y.c,
          x.c * y.b + x.d * y.d};
}

Matrix PowerOfStep(uint64_t k) {
  Matrix out{1, 0, 0, 1}, m{1, 1, 1, 2};
  for (; k > 0; k >>= 1, m = Times(m, m)) {
    if (k & 1) out = Times(out, m);
  }
  return out;
}

WalChecksum Apply(const Matrix& m, WalChecksum s) {
  return {m.a * s.s0 + m.b * s.s1, m.c * s.s0 + m.d * s.s1};
}

// The same sum, computed as two independent chains over the two halves of the pairs (each
// from (0, 0)) and joined by the matrix above: a page is summed about twice as fast, the
// chain of additions being what bounds the serial loop. Exact: all of it is modulo 2^32.
template <bool kSwap>
WalChecksum SumWords(std::string_view bytes, WalChecksum sum) {
  const size_t half = bytes.size() / 16;  // pairs in each half
  if (half < 8) return SumWordsSerially<kSwap>(bytes, sum);
  const char* p = bytes.data();
  const char* q = p + half * 8;
  uint32_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
  for (size_t i = 0; i < half * 8; i += 8) {
    uint32_t x[2], y[2];
    LoadPair<kSwap>(p + i, x);
    LoadPair<kSwap>(q + i, y);
    a0 += x[0] + a1;
    a1 += x[1] + a0;
    b0 += y[0] + b1;
    b1 += y[1] + b0;
  }
  const Matrix m = PowerOfStep(half);
  WalChecksum s = Apply(m, sum);
  s = {s.s0 + a0, s.s1 + a1};
  s = Apply(m, s);
  s = {s.s0 + b0, s.s1 + b1};
  return SumWordsSerially<kSwap>(bytes.substr(half * 16), s);  // a last odd pair, if any
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
