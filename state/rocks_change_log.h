// Internal to sqlift_state and its tests: the RocksDB ChangeLog, its meta-family key layout,
// the mapping of rocksdb::Status to ours, and an Open that takes a rocksdb::Env so tests can
// put a failing file system under the real log. Everyone else uses OpenRocksChangeLog
// (state/change_log.h). The format is described in state/README.md; keep the two in step.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/status.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "state/change_log.h"
#include "state/keys.h"

namespace sqlift::state::internal {

// Meta family keys. Positions and byte values live under distinct prefixes, so no position
// name can collide with a meta key; the other keys have neither prefix.
inline constexpr std::string_view kMetaPositionPrefix = "pos/";         // + name -> fixed64 BE
inline constexpr std::string_view kMetaBytesPrefix = "kv/";             // + key  -> bytes as given
inline constexpr std::string_view kMetaFormatKey = "format";            // fixed64 BE format version
inline constexpr std::string_view kMetaLogCountKey = "stat/log_count";  // fixed64 BE
inline constexpr std::string_view kMetaLogBytesKey = "stat/log_bytes";  // fixed64 BE
inline constexpr uint64_t kFormatVersion = 1;

inline std::string MetaPositionKey(std::string_view name) {
  return std::string(kMetaPositionPrefix) + std::string(name);
}
inline std::string MetaBytesKey(std::string_view key) {
  return std::string(kMetaBytesPrefix) + std::string(key);
}
inline std::string EncodeFixed64(uint64_t value) {
  std::string out;
  PutFixed64BE(&out, value);
  return out;
}

// Maps a RocksDB status to ours, keeping RocksDB's message (Corruption -> kCorruption,
// IOError -> kIOError, Busy/TimedOut/TryAgain -> kUnavailable, ...).
Status FromRocks(const rocksdb::Status& s);

// OpenRocksChangeLog with `env` for every file RocksDB touches; nullptr means the default
// Env. `env` must outlive the returned log.
[[nodiscard]] Result<std::unique_ptr<ChangeLog>> OpenRocksChangeLogWithEnv(
    const std::string& dir, const RocksChangeLogOptions& options, rocksdb::Env* env);

// The ChangeLog over an open DB; built only by OpenRocksChangeLogWithEnv (rocks_open.cc), the
// methods are in rocks_change_log.cc. Owns the DB and its column family handles.
//
// Thread safety: RocksDB is thread-safe. write_mu_ serializes writes, so that the contiguity
// check, the write and the cached logged_seq/count/bytes move as one, and so that no write can
// be acknowledged after one has failed. Scan, GetPosition and GetMeta take no lock.
class RocksChangeLog final : public ChangeLog {
 public:
  // `handles[i]` is the family `names[i]`; both must include log and meta.
  RocksChangeLog(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
                 const std::vector<std::string>& names);
  ~RocksChangeLog() override;

  // Checks the format version and loads logged_seq and the log counters; called once, right
  // after open.
  // read_only: do not write the format version of a store that has none.
  [[nodiscard]] Status Load(bool read_only = false);

  using ChangeLog::Append;
  Status Append(const std::vector<LogRecord>& records, const std::vector<RouteRecord>& routes,
                const std::vector<MetaRecord>& meta) override;
  Result<std::vector<RouteRecord>> Routes() override;
  Result<uint64_t> GetPosition(std::string_view name) override;
  Status SetPosition(std::string_view name, uint64_t value) override;
  Result<std::string> GetMeta(std::string_view key) override;
  Status PutMeta(std::string_view key, std::string_view value) override;
  Status Scan(uint64_t first, uint64_t last,
              const std::function<Status(uint64_t seq, std::string_view value)>& fn) override;
  Status TrimBefore(uint64_t seq) override;
  Result<LogStats> Stats() override;
  Status CatchUp() override;

 private:
  // Stamps a new store with kFormatVersion, or refuses one stamped with another version.
  Status CheckFormat();
  // Reads the stored counters, or counts the log when they were never written.
  Status LoadCounters();
  // Counts the records below the key `*upper` (all records when null) and their bytes.
  Status CountRecords(const std::string* upper, uint64_t* count, uint64_t* bytes);
  // Adds the puts of `records` to `batch` and works out the counters after them. Requires
  // write_mu_.
  Status BuildAppend(const std::vector<LogRecord>& records, rocksdb::WriteBatch* batch,
                     uint64_t* count, uint64_t* bytes);
  // Reads a fixed64 meta value; nullopt when absent.
  Result<std::optional<uint64_t>> GetFixedMeta(const std::string& key);
  // The size of the stored value of `seq`; nullopt when absent.
  Result<std::optional<size_t>> StoredSize(uint64_t seq);
  // Adds the counter updates to `batch`.
  Status PutCounters(rocksdb::WriteBatch* batch, uint64_t count, uint64_t bytes);
  // Writes `batch` synced, or refuses after an earlier failure. Requires write_mu_.
  Status WriteLocked(rocksdb::WriteBatch* batch);
  // Puts one meta key, synced.
  Status PutMetaKey(const std::string& key, std::string_view value);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed before db_ closes
  rocksdb::ColumnFamilyHandle* log_ = nullptr;         // points into handles_
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;        // points into handles_
  rocksdb::ColumnFamilyHandle* route_ = nullptr;       // points into handles_

  std::mutex write_mu_;
  uint64_t logged_seq_ = 0;  // guarded by write_mu_; equal to the stored pos/logged_seq
  uint64_t count_ = 0;       // guarded by write_mu_; records in log, as stored
  uint64_t bytes_ = 0;       // guarded by write_mu_; their value bytes, as stored
  Status write_failure_;     // guarded by write_mu_; the first failed write, sticky
};

}  // namespace sqlift::state::internal
