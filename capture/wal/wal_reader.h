// Reads the committed transactions of an SQLite WAL file, incrementally.
//
// A transaction is a run of frames ending in a commit frame (one whose header gives the
// database size). A frame counts only if its salts match the header's, its page number is
// not 0 and its checksum continues the chain from the header through every earlier frame,
// as SQLite's own recovery decides. The first frame that fails ends the valid log: nothing
// after it is yielded, and the scan says where and why it stopped. Valid frames not (yet)
// followed by a commit frame are a transaction still being written; they are not yielded.
//
// A scan resumes from a WalPosition (always on a commit boundary). If the WAL was restarted
// since (new header: SQLite checkpointed and reset it), the frames the caller had not read
// are gone from the WAL, so the scan yields nothing and reports kRestarted: the caller must
// repair that gap (from the database file) before reading on from `next`.
//
// Thread safety: ScanWal is a function of the file's bytes; one scan per file at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/wal/random_access_file.h"
#include "capture/wal/wal_format.h"

namespace sqlift::wal {

// Where a scan stands: just after a commit frame (or at the start) of one WAL generation.
struct WalPosition {
  WalHeader header;      // identifies the generation (salts, checkpoint sequence)
  uint64_t frames = 0;   // frames before this position: the next frame's index
  WalChecksum checksum;  // the chain's value after those frames (the header's when 0)
  // Not the reader's: kept with the position by the capture agent (wal_source.h), the value
  // of the wal-index's nBackfillAttempted that was already stale, left over from an earlier
  // generation, when the position was reached (0: none).
  uint32_t stale_attempt = 0;
};

struct WalFrame {
  uint64_t index = 0;  // 0-based frame number in the WAL
  uint32_t page_number = 0;
  std::string page;  // page_size bytes
};

struct WalTransaction {
  std::vector<WalFrame> frames;  // in WAL order; a page may appear more than once
  uint32_t db_size_pages = 0;    // the database size after this commit
  WalPosition end;               // the position just after its commit frame
};

enum class WalContinuity {
  kStart,      // no position given: read from the WAL's first frame
  kContinues,  // same WAL generation as the position; transactions follow it directly
  kRestarted,  // the WAL was reset or cut since the position: a gap to repair; nothing read
  kNoLog,      // no valid WAL header (absent, empty, or being written): nothing to read
};

enum class WalStop {
  kEndOfFile,       // the file ends right after a commit frame
  kUncommitted,     // valid frames follow, but no commit frame yet
  kTornFrame,       // the file ends inside a frame
  kSaltMismatch,    // a frame of an older generation, or one being rewritten
  kZeroPageNumber,  // a frame for page 0
  kBadChecksum,     // the checksum chain breaks here
  kLimit,           // max_transactions reached; more may follow
  kNotRead,         // continuity is kRestarted or kNoLog
};

struct WalScan {
  WalContinuity continuity = WalContinuity::kStart;
  std::vector<WalTransaction> transactions;
  WalPosition next;  // where the next scan resumes
  WalStop stop = WalStop::kNotRead;
  uint64_t stop_frame = 0;  // the frame at which the valid, committed log ended
  std::string stop_reason;  // "frame 17 (page 5): checksum mismatch"
};

const char* WalStopName(WalStop stop);

// Scans `file` from `from` (or from its first frame) and returns at most max_transactions
// committed transactions. IOError when the file cannot be read (retry from `from`).
[[nodiscard]] Result<WalScan> ScanWal(RandomAccessFile& file,
                                      const std::optional<WalPosition>& from,
                                      size_t max_transactions = SIZE_MAX);

}  // namespace sqlift::wal
