// OutboxReader: the capture agent's own connection to the application's database. It reads
// outbox rows in seq order and trims the ones already in the durable log.
//
// Reads run in one read transaction each, so a batch is a consistent prefix of the commit
// order; Trim is one short write transaction (the only write lock the agent ever takes).
// Owns its connection. Thread safety: none; one thread uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {

struct OutboxRow {
  uint64_t seq = 0;
  int64_t committed_at_us = 0;
  int64_t kind = 0;
  std::string payload;
};

class OutboxReader {
 public:
  // Fails with FailedPrecondition when the database has no outbox (`sqlift init` not run).
  [[nodiscard]] static Result<std::unique_ptr<OutboxReader>> Open(const std::string& path);

  // Rows with seq > `after`, in seq order: at most `max_rows`, and stopping once `max_bytes`
  // of payload are read (always at least one row when any is there).
  [[nodiscard]] Result<std::vector<OutboxRow>> ReadAfter(uint64_t after, size_t max_rows,
                                                         size_t max_bytes);

  // Deletes the rows with seq <= up_to and records up_to as the trimmed seq, atomically.
  [[nodiscard]] Status Trim(uint64_t up_to);

  // The highest seq ever trimmed (0 when none): what an agent has made durable elsewhere.
  [[nodiscard]] Result<uint64_t> TrimmedSeq();

  // PRAGMA data_version: changes when another connection commits.
  [[nodiscard]] Result<int64_t> DataVersion();
  // PRAGMA schema_version: changes with every schema change.
  [[nodiscard]] Result<int64_t> SchemaVersion();

  SqliteDb& db() { return *db_; }

 private:
  explicit OutboxReader(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  [[nodiscard]] Status Prepare();

  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<SqliteStatement> read_;
  std::unique_ptr<SqliteStatement> delete_;
  std::unique_ptr<SqliteStatement> set_trimmed_;
  std::unique_ptr<SqliteStatement> get_trimmed_;
};

}  // namespace sqlift
