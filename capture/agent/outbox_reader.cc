#include "capture/agent/outbox_reader.h"

#include <fmt/format.h>

#include "capture/outbox/outbox.h"
#include "common/base/crash_point.h"

namespace sqlift {

Result<std::unique_ptr<OutboxReader>> OutboxReader::Open(const std::string& path) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWrite));
  SQLIFT_RETURN_IF_ERROR(outbox::CheckTables(db->handle()));
  std::unique_ptr<OutboxReader> reader(new OutboxReader(std::move(db)));
  SQLIFT_RETURN_IF_ERROR(reader->Prepare());
  return reader;
}

Status OutboxReader::Prepare() {
  auto make = [&](const char* sql, std::unique_ptr<SqliteStatement>* out) -> Status {
    SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, db_->Prepare(sql));
    *out = std::make_unique<SqliteStatement>(std::move(stmt));
    return Status::OK();
  };
  SQLIFT_RETURN_IF_ERROR(
      make("SELECT seq, committed_at, kind, payload FROM _sqlift_outbox "
           "WHERE seq > ?1 ORDER BY seq LIMIT ?2",
           &read_));
  SQLIFT_RETURN_IF_ERROR(make("DELETE FROM _sqlift_outbox WHERE seq <= ?1", &delete_));
  SQLIFT_RETURN_IF_ERROR(
      make("INSERT INTO _sqlift_state(key, value) VALUES (?1, ?2) "
           "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
           &set_trimmed_));
  return make("SELECT value FROM _sqlift_state WHERE key = ?1", &get_trimmed_);
}

Result<std::vector<OutboxRow>> OutboxReader::ReadAfter(uint64_t after, size_t max_rows,
                                                       size_t max_bytes) {
  std::vector<OutboxRow> rows;
  SQLIFT_RETURN_IF_ERROR(read_->BindInt64(1, static_cast<int64_t>(after)));
  SQLIFT_RETURN_IF_ERROR(read_->BindInt64(2, static_cast<int64_t>(max_rows)));
  // One statement is one read transaction in autocommit mode: a consistent prefix.
  size_t bytes = 0;
  Status st;
  for (;;) {
    Result<bool> row = read_->Step();
    if (!row.ok()) {
      st = row.status();
      break;
    }
    if (!*row) break;
    OutboxRow r;
    r.seq = static_cast<uint64_t>(read_->ColumnInt64(0));
    r.committed_at_us = read_->ColumnInt64(1);
    r.kind = read_->ColumnInt64(2);
    r.payload = std::string(read_->ColumnBlob(3));
    bytes += r.payload.size();
    rows.push_back(std::move(r));
    if (bytes >= max_bytes) break;
  }
  SQLIFT_RETURN_IF_ERROR(read_->Reset());
  if (!st.ok()) return st.With(fmt::format("read outbox after seq {}", after));
  return rows;
}

Status OutboxReader::Trim(uint64_t up_to) {
  SQLIFT_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  Status st = delete_->BindInt64(1, static_cast<int64_t>(up_to));
  if (st.ok()) st = delete_->Run();
  (void)delete_->Reset();
  if (st.ok()) st = set_trimmed_->BindText(1, outbox::kStateTrimmedSeq);
  if (st.ok()) st = set_trimmed_->BindInt64(2, static_cast<int64_t>(up_to));
  if (st.ok()) st = set_trimmed_->Run();
  (void)set_trimmed_->Reset();
  CrashPoint("mid_trim");
  if (st.ok()) st = db_->Exec("COMMIT");
  if (!st.ok()) {
    (void)db_->Exec("ROLLBACK");
    return st.With(fmt::format("trim outbox up to seq {}", up_to));
  }
  return Status::OK();
}

Result<uint64_t> OutboxReader::TrimmedSeq() {
  SQLIFT_RETURN_IF_ERROR(get_trimmed_->BindText(1, outbox::kStateTrimmedSeq));
  Result<bool> row = get_trimmed_->Step();
  uint64_t value = row.ok() && *row ? static_cast<uint64_t>(get_trimmed_->ColumnInt64(0)) : 0;
  SQLIFT_RETURN_IF_ERROR(get_trimmed_->Reset());
  if (!row.ok()) return row.status().With("read trimmed seq");
  return value;
}

Result<int64_t> OutboxReader::DataVersion() {
  return db_->QueryInt64("PRAGMA data_version");
}

Result<int64_t> OutboxReader::SchemaVersion() {
  return db_->QueryInt64("PRAGMA schema_version");
}

}  // namespace sqlift
