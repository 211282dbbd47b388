// SnapshotReader: one consistent read of a SQLite database at a known outbox position
// (design invariant 5), for `sqlift copy` and for the snapshot inside replication.
//
//   SQLIFT_ASSIGN_OR_RETURN(auto reader, SnapshotReader::Open(path));
//   int64_t s = reader->snapshot_seq();             // streaming resumes at s + 1
//   SQLIFT_ASSIGN_OR_RETURN(auto tables, ReadSchema(reader->db()));  // same snapshot
//   SQLIFT_RETURN_IF_ERROR(reader->ReadTable(t, 10000, [&](const std::vector<wire::Row>& rows) {
//     ...; return Status::OK(); }));
//   SQLIFT_RETURN_IF_ERROR(reader->Close());
//
// Open() opens its own read-only connection, BEGINs a read transaction and reads S (the outbox
// high-water mark in sqlite_sequence, 0 when there is no outbox: copy works on any SQLite
// file) as the transaction's first read, which is what fixes the snapshot. Everything read
// until Close() sees that one state: exactly the effects of seqs <= S. In WAL mode writers
// go on meanwhile and are not blocked; in rollback-journal mode the read lock makes writers
// wait until Close() (the reader cannot avoid that; `init` switches databases to WAL).
//
// In wal capture mode there is no outbox: the capture agent assigns the log seqs. With
// SnapshotOptions.wal_progress_path set, the first read happens inside the WAL barrier
// (wal_barrier.h), which names S from the agent's progress file; writers then wait for the
// agent to catch up (milliseconds) while the snapshot is opened, and not afterwards.
// SnapshotOptionsFor picks the options from the database's capture mode.
//
// Why one reader and not N: separate connections start separate read transactions, which may
// see different states, and Debian's libsqlite3 is built without SQLITE_ENABLE_SNAPSHOT
// (no sqlite3_snapshot_open to share one). Parallel loading therefore fans out after this
// reader, never by opening more readers.
//
// Thread safety: none; one thread uses a reader. Callbacks run on that thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/table_schema.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

// How Open() names S.
struct SnapshotOptions {
  // Non-empty (wal capture mode): S is the log seq the WAL barrier names from the capture
  // agent's progress file at this path. Empty: the outbox's high-water mark.
  std::string wal_progress_path;
  std::chrono::milliseconds barrier_timeout{10'000};
};

// The options for the capture mode `sqlite_path` was initialised with (_sqlift_state
// capture_mode): in wal mode the progress file in `state_dir` ([state] dir), and
// FailedPrecondition naming `who` (the command) when state_dir is empty; in recorder mode, or
// for a database sqlift never initialised, the outbox's high-water mark.
[[nodiscard]] Result<SnapshotOptions> SnapshotOptionsFor(const std::string& sqlite_path,
                                                         const std::string& state_dir,
                                                         std::string_view who);

class SnapshotReader {
 public:
  // The sink may keep the rows by moving them away. Rows it leaves in the vector are reused
  // (overwritten) for the next chunk, so it must not keep pointers into them.
  using ChunkSink = std::function<Status(std::vector<wire::Row>&& rows)>;

  [[nodiscard]] static Result<std::unique_ptr<SnapshotReader>> Open(
      const std::string& path, const SnapshotOptions& options = {});
  ~SnapshotReader();  // rolls the read transaction back when Close() was not called
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // S: the highest outbox seq (wal mode: log seq) the snapshot includes.
  int64_t snapshot_seq() const { return snapshot_seq_; }

  // The connection, inside the snapshot's transaction (for ReadSchema); owned by the reader.
  SqliteDb& db() { return *db_; }

  // The number of rows of `table` in the snapshot (for progress and ETA).
  [[nodiscard]] Result<int64_t> CountRows(const TableSchema& table);

  // Streams every row of `table` in primary-key order (rowid order without one), `chunk_rows`
  // rows per call of `sink` (the last chunk may be shorter; an empty table makes no call).
  // Each row holds the visible columns (ShapeOf(table).columns) in order. A sink error stops
  // the read and is returned.
  [[nodiscard]] Status ReadTable(const TableSchema& table, size_t chunk_rows,
                                 const ChunkSink& sink);

  // Steps through every row of `table` as ReadTable does, without making wire values: `row`
  // is called with the statement on each row and the number of its columns (the visible
  // ones, in order), for callers that read SQLite's values themselves (chunk_encoder.h). An
  // error from `row` stops the read and is returned.
  using RowScan = std::function<Status(sqlite3_stmt* stmt, int ncols)>;
  [[nodiscard]] Status ScanTable(const TableSchema& table, const RowScan& row);

  // Streams the rows of `table` whose primary key is one of `keys` (each the key's values in
  // primary-key order, as RowChange.pk carries them), in the order of `keys`; a key with no row
  // gives nothing. The rows are as ReadTable gives them. For comparing only the rows a stretch
  // of the log changed (verify's fast path).
  [[nodiscard]] Status ReadKeys(const TableSchema& table, const std::vector<wire::Row>& keys,
                                const std::function<Status(const wire::Row& row)>& sink);

  // Ends the read transaction (COMMIT). The reader cannot be used afterwards.
  [[nodiscard]] Status Close();

  // The shape rows of `table` are read in: visible (not generated/hidden) columns, the
  // primary key, the declared types.
  static wire::TableShape ShapeOf(const TableSchema& table);

 private:
  explicit SnapshotReader(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Status Begin(const SnapshotOptions& options);
  Status BeginAtOutbox();
  Status BeginRead();

  std::unique_ptr<SqliteDb> db_;
  int64_t snapshot_seq_ = 0;
  bool open_ = false;
};

}  // namespace sqlift
