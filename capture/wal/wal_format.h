// The SQLite WAL file format (https://www.sqlite.org/fileformat2.html#walformat): the 32-byte
// header, the 24-byte frame header, and the cumulative checksum that chains them.
//
// All fields are stored big-endian. The checksum reads its input as 32-bit words in the byte
// order the magic number selects (0x377f0682: little-endian, 0x377f0683: big-endian) and is
// carried from the header through every frame (its 8 first header bytes, then its page).
//
// Thread safety: pure functions and values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/result.h"

namespace sqlift::wal {

inline constexpr size_t kWalHeaderSize = 32;
inline constexpr size_t kWalFrameHeaderSize = 24;
inline constexpr uint32_t kWalMagicLittleEndian = 0x377f0682;
inline constexpr uint32_t kWalMagicBigEndian = 0x377f0683;
inline constexpr uint32_t kWalFormatVersion = 3007000;

struct WalChecksum {
  uint32_t s0 = 0;
  uint32_t s1 = 0;
  bool operator==(const WalChecksum&) const = default;
};

// Continues `sum` over `bytes`, whose size must be a multiple of 8, read as pairs of 32-bit
// words: s0 += x[i] + s1; s1 += x[i+1] + s0 (unsigned, wrapping).
WalChecksum WalChecksumBytes(std::string_view bytes, bool big_endian_words, WalChecksum sum);

struct WalHeader {
  uint32_t magic = 0;
  uint32_t version = 0;
  uint32_t page_size = 0;
  uint32_t checkpoint_seq = 0;
  uint32_t salt1 = 0;
  uint32_t salt2 = 0;
  WalChecksum checksum;  // over the first 24 bytes; the chain starts here

  bool big_endian_checksum() const { return (magic & 1) != 0; }
  // Same WAL generation: a restarted WAL has new salts and a new checkpoint sequence.
  bool SameGeneration(const WalHeader& o) const {
    return magic == o.magic && page_size == o.page_size && checkpoint_seq == o.checkpoint_seq &&
           salt1 == o.salt1 && salt2 == o.salt2 && checksum == o.checksum;
  }
};

// Parses and checks the first 32 bytes of a WAL: magic, version 3007000, a power-of-two page
// size from 512 to 65536 and the header checksum. Corruption naming the field otherwise
// (SQLite then treats the whole WAL as empty).
[[nodiscard]] Result<WalHeader> ParseWalHeader(std::string_view bytes);

struct WalFrameHeader {
  uint32_t page_number = 0;
  uint32_t db_size_after_commit = 0;  // nonzero only on a transaction's commit frame
  uint32_t salt1 = 0;
  uint32_t salt2 = 0;
  WalChecksum checksum;

  bool is_commit() const { return db_size_after_commit != 0; }
};

// The 24 bytes of a frame header, unchecked (`bytes` holds at least 24 bytes).
WalFrameHeader ParseWalFrameHeader(std::string_view bytes);

// The checksum a frame must carry: `prev` continued over the frame header's first 8 bytes
// and then its page.
WalChecksum FrameChecksum(std::string_view frame_header, std::string_view page,
                          bool big_endian_words, WalChecksum prev);

}  // namespace sqlift::wal
