// The shadow log: the application's sampled read queries (capture/shadow_sampler.h), which
// `sqlift shadow` replays on SQLite and PostgreSQL. Defined here once: the line format, the
// writer and the reader.
//
// Format: one JSON object per line, in the order the statements ran on their connection:
//   {"at_us":1763771162451443,"sql":"SELECT * FROM rooms WHERE id = 7"}
//   {"at_us":1763771162452001,"sql_hex":"53454c454354202778ff27"}
// at_us: when the statement started, unix microseconds. sql: the statement as SQLite expanded
// it (sqlite3_expanded_sql: bound values inlined in SQLite's literal forms, text as '..' with
// '' doubled, blobs as x'..', reals with 15 significant digits), JSON-escaped (common/json).
// The escape for text that is not UTF-8 (a bound text value may hold any bytes; JSON strings
// cannot): the key is sql_hex instead, and its value is every byte of the SQL as two
// lowercase hex digits, so the text round-trips exactly (SetShadowText). This spelling is
// older than common/json's {"text_hex": ..} and stays, because logs already written and
// scripts read it; the reader also takes "sql": {"text_hex": ..}. Readers ignore keys they do
// not know.
//
// The file is appended to (several connections or processes may share one; each write is of
// whole lines) and created with mode 0600: bound values are application data. Lines are not
// synced: a crash may lose the last buffered lines or leave the last one torn, which the
// reader tolerates (see ShadowLogContents).
//
// Thread safety: ShadowLogWriter is safe to use from several threads; the functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "common/json/json.h"

namespace sqlift {

struct ShadowEntry {
  int64_t at_us = 0;
  std::string sql;  // bytes as SQLite gave them (any bytes but NUL)

  bool operator==(const ShadowEntry&) const = default;
};

// The shadow formats' spelling of text that may not be UTF-8 (this log and `sqlift shadow
// --json`, docs/shadow.md): "key": the text when common/json's rule keeps it a string, else
// "key_hex": every byte as two lowercase hex digits.
void SetShadowText(Json* object, const std::string& key, std::string_view text);

// The line for `e`, with its '\n'.
std::string FormatShadowLine(const ShadowEntry& e);

// One line (without '\n') back into an entry; InvalidArgument naming what is wrong.
[[nodiscard]] Result<ShadowEntry> ParseShadowLine(std::string_view line);

// Appends lines to a log file through a buffer written out when it passes `flush_bytes`, on
// Flush() and on destruction. The file never grows past `max_bytes` (its size at Open counts):
// an entry that would take it past is refused (kFull), and so is every later one.
class ShadowLogWriter {
 public:
  enum class Append { kAppended, kFull, kFailed };

  [[nodiscard]] static Result<std::unique_ptr<ShadowLogWriter>> Open(const std::string& path,
                                                                     uint64_t max_bytes,
                                                                     size_t flush_bytes = 64 << 10);
  ~ShadowLogWriter();  // Flush(); a failure is lost (call Flush() to see it)
  ShadowLogWriter(const ShadowLogWriter&) = delete;
  ShadowLogWriter& operator=(const ShadowLogWriter&) = delete;

  // kFailed once a write has failed (the error is kept: Flush() returns it).
  Append Add(const ShadowEntry& e);
  // Writes the buffer out. The first write error is returned from here on.
  [[nodiscard]] Status Flush();
  // The file's size with the buffer written out.
  uint64_t bytes() const;
  const std::string& path() const { return path_; }

 private:
  ShadowLogWriter(int fd, std::string path, uint64_t size, uint64_t max_bytes, size_t flush_bytes)
      : fd_(fd), path_(std::move(path)), size_(size), max_(max_bytes), flush_(flush_bytes) {}
  Status WriteLocked();

  const int fd_;
  const std::string path_;
  mutable std::mutex mu_;
  std::string buffer_;  // guarded by mu_, as are the three below
  uint64_t size_;       // file size + buffer size
  bool full_ = false;
  Status error_;
  const uint64_t max_;
  const size_t flush_;
};

// What a log holds. A last line without its '\n' that does not parse is a write cut short by a
// crash: torn_tail, not an error. Other lines that do not parse (a log appended to by a process
// that died mid-write, then by another) are counted and skipped, never silently.
struct ShadowLogContents {
  std::vector<ShadowEntry> entries;  // in file order
  bool torn_tail = false;
  int64_t malformed_lines = 0;
  int64_t first_malformed_line = 0;  // 1-based; 0 when none
  std::string first_malformed_reason;
  bool truncated = false;  // `limit` entries were read and more follow
};

// Reads the log at `path`; at most `limit` entries when limit > 0. NotFound when there is no
// such file.
[[nodiscard]] Result<ShadowLogContents> ReadShadowLog(const std::string& path, size_t limit = 0);

}  // namespace sqlift
