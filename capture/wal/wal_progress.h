// The capture agent's WAL progress file (wal capture mode): after every drain (but at most
// every 50 ms while the application writes; a drain that finds nothing new always publishes)
// the agent publishes how far it has decoded and logged the -wal file, so that other
// processes can name the log seq of an SQLite state (capture/snapshot/wal_barrier.h) and show
// the agent's lag.
//
// One versioned text line, rewritten whole each time:
//   sqlift-wal-progress 1 <salt1> <salt2> <frames> <logged_seq> <written_at_us>
// salt1/salt2 name the WAL generation (the WAL header's salts), frames is the number of frames
// decoded (a position just after a commit frame, WalPosition.frames) and logged_seq is the
// log's logged seq once every transaction of those frames is logged.
//
// The file is a hint, not the agent's state: written to a temporary file and renamed (a
// reader sees the old line or the new one, never a mix), without fsync. After a crash the
// agent rewrites it with its next drain.
//
// Thread safety: functions of the file system; one writer (the agent) per file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/base/result.h"

namespace sqlift::wal {

struct WalProgress {
  uint32_t salt1 = 0;
  uint32_t salt2 = 0;
  uint64_t frames = 0;
  uint64_t logged_seq = 0;
  int64_t written_at_us = 0;  // unix microseconds when the agent wrote it
  bool operator==(const WalProgress&) const = default;
};

// state_dir + "/wal-progress"
std::string WalProgressPath(const std::string& state_dir);

// Writes `p` to `path` atomically (temporary file + rename), without fsync.
[[nodiscard]] Status WriteWalProgress(const std::string& path, const WalProgress& p);

// The progress at `path`; nullopt when the file does not exist. Corruption naming the file
// when its line is not the format above.
[[nodiscard]] Result<std::optional<WalProgress>> ReadWalProgress(const std::string& path);

}  // namespace sqlift::wal
