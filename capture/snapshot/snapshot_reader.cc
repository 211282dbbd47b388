#include "capture/snapshot/snapshot_reader.h"

#include <fmt/format.h>

#include "capture/outbox/outbox.h"
#include "capture/snapshot/wal_barrier.h"
#include "capture/snapshot/wire_value.h"
#include "capture/wal/wal_progress.h"

namespace sqlift {
namespace {

// SELECT of the visible columns in key order. The ORDER BY matches an index SQLite already
// has (the rowid, or the primary key's), so it costs no sort.
std::string SelectSql(const TableSchema& t) {
  std::vector<std::string> cols, order;
  for (const ColumnSchema& c : t.columns) {
    if (!c.hidden) cols.push_back(QuoteSqliteIdentifier(c.name));
  }
  for (uint32_t i : t.PrimaryKeyColumns())
    order.push_back(QuoteSqliteIdentifier(t.columns[i].name));
  if (order.empty()) order.push_back("rowid");
  return fmt::format("SELECT {} FROM main.{} ORDER BY {}", fmt::join(cols, ", "),
                     QuoteSqliteIdentifier(t.name), fmt::join(order, ", "));
}

// Overwrites `row` with the current row of `stmt`. Setting a value of the kind it already
// holds reuses its string's memory (protobuf assigns into it).
void FillRow(sqlite3_stmt* stmt, int ncols, wire::Row* row) {
  if (row->values_size() != ncols) {
    row->clear_values();
    for (int c = 0; c < ncols; ++c)
      row->add_values();
  }
  for (int c = 0; c < ncols; ++c)
    SqliteValueToWire(sqlite3_column_value(stmt, c), row->mutable_values(c));
}

}  // namespace

Result<SnapshotOptions> SnapshotOptionsFor(const std::string& sqlite_path,
                                           const std::string& state_dir, std::string_view who) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(sqlite_path, SqliteDb::Mode::kReadOnly));
  SQLIFT_ASSIGN_OR_RETURN(std::string mode, outbox::ReadCaptureMode(db->handle()));
  SnapshotOptions o;
  if (mode != outbox::kCaptureModeWal) return o;
  if (state_dir.empty()) {
    return Status::FailedPrecondition(fmt::format(
        "{} is captured in wal mode: {} needs [state] dir, where the capture agent publishes "
        "how far it has logged the WAL",
        sqlite_path, who));
  }
  o.wal_progress_path = wal::WalProgressPath(state_dir);
  return o;
}

Result<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(const std::string& path,
                                                             const SnapshotOptions& options) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadOnly));
  std::unique_ptr<SnapshotReader> reader(new SnapshotReader(std::move(db)));
  SQLIFT_RETURN_IF_ERROR(reader->Begin(options).With("open snapshot of " + path));
  return reader;
}

Status SnapshotReader::Begin(const SnapshotOptions& options) {
  if (options.wal_progress_path.empty()) return BeginAtOutbox();
  WalBarrierOptions barrier{db_->path(), options.wal_progress_path, options.barrier_timeout};
  SQLIFT_ASSIGN_OR_RETURN(uint64_t seq, RunWalBarrier(barrier, [this] { return BeginRead(); }));
  snapshot_seq_ = static_cast<int64_t>(seq);
  return Status::OK();
}

// BEGIN and the first read, which fixes the snapshot.
Status SnapshotReader::BeginRead() {
  SQLIFT_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  open_ = true;
  return db_->QueryInt64("SELECT count(*) FROM sqlite_schema").status();
}

Status SnapshotReader::BeginAtOutbox() {
  SQLIFT_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  open_ = true;
  // The first read fixes the snapshot; it must also tell whether an outbox exists, because
  // sqlite_sequence only exists once some AUTOINCREMENT table has been created.
  SQLIFT_ASSIGN_OR_RETURN(
      int64_t has_seq,
      db_->QueryInt64("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'"));
  if (has_seq == 0) return Status::OK();
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt,
                          db_->Prepare("SELECT seq FROM sqlite_sequence WHERE name = ?1"));
  SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, "_sqlift_outbox"));
  SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (row) snapshot_seq_ = stmt.ColumnInt64(0);
  return Status::OK();
}

SnapshotReader::~SnapshotReader() {
  if (open_) (void)db_->Exec("ROLLBACK");  // a read transaction: nothing to lose
}

Result<int64_t> SnapshotReader::CountRows(const TableSchema& t) {
  return db_->QueryInt64("SELECT count(*) FROM main." + QuoteSqliteIdentifier(t.name));
}

Status SnapshotReader::ReadTable(const TableSchema& t, size_t chunk_rows, const ChunkSink& sink) {
  if (!open_) return Status::FailedPrecondition("snapshot reader is closed");
  chunk_rows = std::max<size_t>(chunk_rows, 1);
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, db_->Prepare(SelectSql(t)));
  std::vector<wire::Row> chunk;
  chunk.reserve(std::min<size_t>(chunk_rows, 1 << 16));
  size_t filled = 0;  // rows of `chunk` holding this chunk's values
  const int ncols = stmt.ColumnCount();
  for (;;) {
    Result<bool> more = stmt.Step();
    if (!more.ok()) return more.status().With("read table " + t.name);
    if (*more) {
      if (filled == chunk.size()) chunk.emplace_back();
      FillRow(stmt.handle(), ncols, &chunk[filled++]);
    }
    if (filled == chunk_rows || (!*more && filled > 0)) {
      chunk.resize(filled);
      SQLIFT_RETURN_IF_ERROR(sink(std::move(chunk)));
      // Rows the sink left in `chunk` are refilled in place: their messages and strings keep
      // their memory, which spares the allocator most of a copy's work. A moved-from vector
      // is empty, so rows the sink took are simply made anew.
      filled = 0;
    }
    if (!*more) return Status::OK();
  }
}

Status SnapshotReader::ScanTable(const TableSchema& t, const RowScan& row) {
  if (!open_) return Status::FailedPrecondition("snapshot reader is closed");
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, db_->Prepare(SelectSql(t)));
  const int ncols = stmt.ColumnCount();
  for (;;) {
    Result<bool> more = stmt.Step();
    if (!more.ok()) return more.status().With("read table " + t.name);
    if (!*more) return Status::OK();
    SQLIFT_RETURN_IF_ERROR(row(stmt.handle(), ncols));
  }
}

Status SnapshotReader::ReadKeys(const TableSchema& t, const std::vector<wire::Row>& keys,
                                const std::function<Status(const wire::Row& row)>& sink) {
  if (!open_) return Status::FailedPrecondition("snapshot reader is closed");
  const std::vector<uint32_t> pk = t.PrimaryKeyColumns();
  if (pk.empty()) return Status::InvalidArgument("read keys of " + t.name + ": no primary key");
  std::vector<std::string> cols, where;
  for (const ColumnSchema& c : t.columns) {
    if (!c.hidden) cols.push_back(QuoteSqliteIdentifier(c.name));
  }
  for (size_t j = 0; j < pk.size(); ++j)
    where.push_back(fmt::format("{} IS ?{}", QuoteSqliteIdentifier(t.columns[pk[j]].name), j + 1));
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement stmt,
      db_->Prepare(fmt::format("SELECT {} FROM main.{} WHERE {}", fmt::join(cols, ", "),
                               QuoteSqliteIdentifier(t.name), fmt::join(where, " AND "))));
  wire::Row row;
  for (const wire::Row& key : keys) {
    if (key.values_size() != static_cast<int>(pk.size())) {
      return Status::InvalidArgument(
          fmt::format("read keys of {}: a key of {} values, the key "
                      "has {}",
                      t.name, key.values_size(), pk.size()));
    }
    for (int j = 0; j < key.values_size(); ++j) {
      SQLIFT_RETURN_IF_ERROR(BindWire(stmt, j + 1, key.values(j)));
    }
    Result<bool> more = stmt.Step();
    if (!more.ok()) return more.status().With("read keys of " + t.name);
    if (*more) {
      FillRow(stmt.handle(), stmt.ColumnCount(), &row);
      SQLIFT_RETURN_IF_ERROR(sink(row));
    }
    SQLIFT_RETURN_IF_ERROR(stmt.Reset());
  }
  return Status::OK();
}

Status SnapshotReader::Close() {
  if (!open_) return Status::OK();
  open_ = false;
  return db_->Exec("COMMIT").With("close snapshot of " + db_->path());
}

wire::TableShape SnapshotReader::ShapeOf(const TableSchema& t) {
  wire::TableShape shape;
  shape.set_name(t.name);
  std::vector<int> visible_index(t.columns.size(), -1);
  int n = 0;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (t.columns[i].hidden) continue;
    visible_index[i] = n++;
    shape.add_columns(t.columns[i].name);
    shape.add_declared_types(t.columns[i].declared_type);
  }
  for (uint32_t i : t.PrimaryKeyColumns()) {
    if (visible_index[i] >= 0) shape.add_pk_columns(static_cast<uint32_t>(visible_index[i]));
  }
  return shape;
}

}  // namespace sqlift
