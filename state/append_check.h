// Internal: the argument checks every ChangeLog implementation shares, so that the RocksDB log
// and the in-memory fake accept and refuse exactly the same calls (state/change_log.h).
//
// Thread safety: pure functions.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "state/change_log.h"
#include "state/keys.h"

namespace sqlift::state::internal {

// What an Append of `records` is doing, for error context: "append seq 7 to log",
// "append seqs 7..9 to log".
inline std::string AppendWhat(const std::vector<LogRecord>& records) {
  if (records.empty()) return "append nothing to log";
  if (records.size() == 1) return fmt::format("append seq {} to log", records.front().seq);
  return fmt::format("append seqs {}..{} to log", records.front().seq, records.back().seq);
}

// Checks `records` against a log whose position is `logged_seq` (the rules are in
// ChangeLog::Append) and returns the position after the append. InvalidArgument otherwise,
// naming the expected and the offending seq.
inline Result<uint64_t> CheckAppend(uint64_t logged_seq, const std::vector<LogRecord>& records) {
  if (records.empty()) return logged_seq;
  const uint64_t first = records.front().seq;
  if (first == 0) return Status::InvalidArgument("seq 0 is not a seq (seqs start at 1)");
  if (first - 1 > logged_seq) {
    return Status::InvalidArgument(fmt::format("gap after logged seq {}: expected seq {}, got {}",
                                               logged_seq, logged_seq + 1, first));
  }
  for (size_t i = 1; i < records.size(); ++i) {
    const uint64_t prev = records[i - 1].seq;
    if (prev == UINT64_MAX || records[i].seq != prev + 1) {
      return Status::InvalidArgument(
          fmt::format("records not contiguous: expected seq {}, got {}", prev + 1, records[i].seq));
    }
  }
  return std::max(logged_seq, records.back().seq);
}

inline Status CheckPositionName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("empty position name");
  return Status::OK();
}

// SetPosition may move every position but logged_seq, which only Append moves.
inline Status CheckSettablePosition(std::string_view name) {
  SQLIFT_RETURN_IF_ERROR(CheckPositionName(name));
  if (name == kMetaLoggedSeq) {
    return Status::InvalidArgument(
        fmt::format("position {} is moved only by Append", kMetaLoggedSeq));
  }
  return Status::OK();
}

inline Status CheckMetaKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("empty meta key");
  return Status::OK();
}

// The answer to every write after `first_failure`, until the log is reopened.
inline Status RefusingWrites(const Status& first_failure) {
  return Status::IOError(fmt::format("an earlier write failed ({}); refusing writes until reopened",
                                     first_failure.ToString()));
}

}  // namespace sqlift::state::internal
