// SqliteSnapshotSource: one read transaction, cut into chunks on a reading thread (see header).
#include "capture/snapshot/sqlite_snapshot_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include "capture/snapshot/chunk_encoder.h"
#include "capture/snapshot/snapshot_reader.h"
#include "common/sqlite/sqlite_schema.h"
#include "proto/wire/frame_codec.h"

namespace sqlift {

// The state one snapshot's reading thread shares with the shipper's thread, under `mu`.
struct SqliteSnapshotSource::Run {
  std::mutex mu;
  std::condition_variable cv;  // the reader waits here for room in `ready_chunks`
  std::deque<EncodedChunk> ready_chunks;
  Status error;       // the read failed: handed out once by TryNext
  bool done = false;  // the reader pushed the last chunk or failed
  bool stop = false;  // End(): the reader must give up
  std::thread thread;
  std::function<void()> notify;
};

namespace {

bool Excluded(const std::set<std::string>& excluded, const std::string& name) {
  for (const std::string& e : excluded) {
    if (strcasecmp(e.c_str(), name.c_str()) == 0) return true;
  }
  return false;
}

// Cuts the rows of the tables into numbered chunks, encodes each as its frame and hands it to
// `push`.
class Chunker {
 public:
  Chunker(const SqliteSnapshotOptions& o, uint64_t s, std::vector<std::string> schema_sql,
          std::function<Status(EncodedChunk&&)> push)
      : o_(o), s_(s), schema_sql_(std::move(schema_sql)), push_(std::move(push)) {}

  Status Table(SnapshotReader& reader, const TableSchema& t, bool last_table) {
    SQLIFT_ASSIGN_OR_RETURN(int64_t total, reader.CountRows(t));
    shape_ = SnapshotReader::ShapeOf(t);
    total_ = static_cast<uint64_t>(total);
    SQLIFT_RETURN_IF_ERROR(reader.ScanTable(t, [&](sqlite3_stmt* stmt, int ncols) {
      encoder_.AddRow(stmt, ncols);
      if (encoder_.rows() >= o_.chunk_rows || encoder_.approx_bytes() >= o_.chunk_bytes) {
        return Flush(false, false);
      }
      return Status::OK();
    }));
    // A table whose rows ended exactly on a chunk boundary: its end goes in an empty chunk.
    return Flush(true, last_table);
  }

  // The schema alone, as chunk 0: the applier creates the tables while the first rows are
  // read. A database without tables sends only this chunk, as the last.
  Status Schema(bool last) {
    shape_.Clear();
    return Flush(last, last, /*with_table=*/false);
  }

 private:
  // Every field but the rows, which the encoder holds.
  Status Flush(bool last_in_table, bool last_chunk, bool with_table = true) {
    wire::SnapshotChunk header;
    header.set_snapshot_seq(s_);
    if (with_table) *header.mutable_table() = shape_;
    header.set_table_rows_total_hint(total_);
    header.set_chunk_no(next_++);
    header.set_last_in_table(last_in_table);
    header.set_last_chunk(last_chunk);
    if (header.chunk_no() == 0) {
      for (const std::string& sql : schema_sql_)
        header.add_schema_sql(sql);
    }
    EncodedChunk chunk{encoder_.Finish(header), header.chunk_no(), last_chunk};
    return push_(std::move(chunk));
  }

  const SqliteSnapshotOptions& o_;
  const uint64_t s_;
  std::vector<std::string> schema_sql_;
  std::function<Status(EncodedChunk&&)> push_;
  wire::TableShape shape_;
  uint64_t total_ = 0;
  ChunkEncoder encoder_;
  uint64_t next_ = 0;
};

// Reads every table into chunks; runs on the snapshot's thread.
Status ReadAll(const SqliteSnapshotOptions& o, SnapshotReader& reader,
               const std::vector<TableSchema>& tables, std::vector<std::string> schema_sql,
               const std::shared_ptr<SqliteSnapshotSource::Run>& run) {
  auto push = [&](EncodedChunk&& chunk) -> Status {
    std::unique_lock lock(run->mu);
    run->cv.wait(lock, [&] { return run->stop || run->ready_chunks.size() < o.read_ahead; });
    if (run->stop) return Status::Aborted("snapshot ended");
    run->ready_chunks.push_back(std::move(chunk));
    lock.unlock();
    run->notify();
    return Status::OK();
  };
  Chunker chunker(o, static_cast<uint64_t>(reader.snapshot_seq()), std::move(schema_sql), push);
  SQLIFT_RETURN_IF_ERROR(chunker.Schema(/*last=*/tables.empty()));
  for (size_t i = 0; i < tables.size(); ++i) {
    SQLIFT_RETURN_IF_ERROR(
        chunker.Table(reader, tables[i], i + 1 == tables.size()).With("table " + tables[i].name));
  }
  return Status::OK();
}

// The applier loads the tables in the order they are sent: parents first, so that an existing
// target schema whose foreign keys are not deferrable takes every row.
std::vector<TableSchema> InParentsFirstOrder(std::vector<TableSchema> tables) {
  std::vector<TableSchema> out;
  for (size_t i : ParentsFirst(tables))
    out.push_back(std::move(tables[i]));
  return out;
}

}  // namespace

Result<uint64_t> SqliteSnapshotSource::Begin(std::function<void()> ready) {
  End();
  SnapshotOptions so;
  so.wal_progress_path = options_.progress_path;
  SQLIFT_ASSIGN_OR_RETURN(std::shared_ptr<SnapshotReader> reader,
                          SnapshotReader::Open(options_.sqlite_path, so));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> all, ReadSchema(reader->db()));
  std::vector<TableSchema> tables;
  std::vector<std::string> schema_sql, index_sql;
  for (TableSchema& t : all) {
    if (Excluded(options_.exclude_tables, t.name)) continue;
    schema_sql.push_back(t.create_sql);
    for (const IndexSchema& idx : t.indexes) {
      if (!idx.create_sql.empty()) index_sql.push_back(idx.create_sql);
    }
    tables.push_back(std::move(t));
  }
  schema_sql.insert(schema_sql.end(), index_sql.begin(), index_sql.end());
  tables = InParentsFirstOrder(std::move(tables));
  const uint64_t s = static_cast<uint64_t>(reader->snapshot_seq());
  spdlog::info("snapshot at seq {}: {} tables", s, tables.size());
  auto run = std::make_shared<Run>();
  run->notify = std::move(ready);
  run->thread = std::thread([o = options_, run, reader, tables = std::move(tables),
                             schema_sql = std::move(schema_sql)]() mutable {
    Status st = ReadAll(o, *reader, tables, std::move(schema_sql), run);
    if (st.ok()) st = reader->Close();
    reader.reset();  // the read transaction ends here, not when the source is destroyed
    {
      std::lock_guard lock(run->mu);
      if (!st.ok() && !run->stop) run->error = st.With("snapshot read");
      run->done = true;
    }
    run->notify();
  });
  run_ = std::move(run);
  return s;
}

Result<bool> SqliteSnapshotSource::TryNextFrame(size_t max_frame_bytes, EncodedChunk* out) {
  if (!run_) return Status::FailedPrecondition("no snapshot in progress");
  std::lock_guard lock(run_->mu);
  if (!run_->ready_chunks.empty()) {
    EncodedChunk& next = run_->ready_chunks.front();
    const size_t body = next.frame.size() - proto::kFrameHeaderBytes;
    const size_t max = std::min(max_frame_bytes, proto::kFrameBytesLimit);
    if (body > max) {  // as EncodeFrame refuses it
      return Status::InvalidArgument(fmt::format(
          "encode snapshot_chunk frame: body of {} bytes is over the maximum of {} bytes", body,
          max));
    }
    *out = std::move(next);
    run_->ready_chunks.pop_front();
    run_->cv.notify_all();
    return true;
  }
  if (!run_->error.ok()) {
    Status st = std::move(run_->error);
    run_->error = Status::OK();
    return st;
  }
  if (run_->done) return Status::FailedPrecondition("the snapshot has no more chunks");
  return false;
}

Result<bool> SqliteSnapshotSource::TryNext(wire::SnapshotChunk* chunk) {
  EncodedChunk encoded;
  Result<bool> got = TryNextFrame(proto::kFrameBytesLimit, &encoded);
  if (!got.ok() || !*got) return got;
  wire::Frame frame;
  std::string_view body(encoded.frame);
  body.remove_prefix(proto::kFrameHeaderBytes);
  SQLIFT_RETURN_IF_ERROR(proto::ParseFrameBody(body, &frame));
  *chunk = std::move(*frame.mutable_snapshot_chunk());
  return true;
}

void SqliteSnapshotSource::End() {
  if (!run_) return;
  {
    std::lock_guard lock(run_->mu);
    run_->stop = true;
    run_->cv.notify_all();
  }
  run_->thread.join();
  run_.reset();
}

}  // namespace sqlift
