// SqliteSnapshotSource: the snapshot of the application's SQLite database, read in one read
// transaction (capture/snapshot_reader.h) that fixes S, cut into SnapshotChunks for the
// shipper (capture/snapshot_source.h). In wal capture mode (progress_path set) S comes from
// the WAL barrier, which waits for the agent of the same process to log up to the WAL's end.
//
// The reading thread encodes each chunk's frame as it steps the rows (chunk_encoder.h): the
// shipper takes finished frames (TryNextFrame) and only writes them.
//
// Chunk 0 holds the schema and no table, so the applier can begin (connect, create the
// tables) while the first rows are read. Tables then go one after another in name order,
// each in chunks of at most chunk_rows rows and about chunk_bytes bytes; an empty table still
// sends one chunk (so the applier creates it).
// [source] exclude_tables are left out of the data and of the schema. At most `read_ahead`
// chunks wait in memory: reading stops while the shipper's window is full, and the
// snapshot's memory stays bounded whatever the database's size.
//
// Ownership: the reading thread and its SQLite connection belong to the source and end with
// End() or the destructor. Thread safety: as SnapshotSource.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "capture/snapshot/snapshot_source.h"

namespace sqlift {

struct SqliteSnapshotOptions {
  std::string sqlite_path;
  // wal capture mode: the agent's progress file (WalProgressPath of [state] dir), from which
  // the WAL barrier names the snapshot's seq; empty: the outbox's high-water mark (recorder).
  std::string progress_path;
  std::set<std::string> exclude_tables;  // compared case-insensitively, as SQLite does
  size_t chunk_rows = 5000;
  size_t chunk_bytes = 4 << 20;
  size_t read_ahead = 4;  // chunks read but not yet taken
};

class SqliteSnapshotSource final : public SnapshotSource {
 public:
  explicit SqliteSnapshotSource(SqliteSnapshotOptions options) : options_(std::move(options)) {}
  ~SqliteSnapshotSource() override { End(); }

  Result<uint64_t> Begin(std::function<void()> ready) override;
  Result<bool> TryNext(wire::SnapshotChunk* chunk) override;  // parses TryNextFrame's frame
  // The frame the reading thread encoded (chunk_encoder.h).
  Result<bool> TryNextFrame(size_t max_frame_bytes, EncodedChunk* out) override;
  void End() override;

  struct Run;  // one snapshot's reader thread state (sqlite_snapshot_source.cc)

 private:
  SqliteSnapshotOptions options_;
  std::shared_ptr<Run> run_;
};

}  // namespace sqlift
