// SnapshotSource: where the shipper gets the snapshot it sends when the applier holds no
// position for the source (design invariant 5). The production source reads the application's
// SQLite database (capture/sqlite_snapshot_source.h); tests use a fake.
//
// A snapshot is a sequence of SnapshotChunk frames numbered 0, 1, 2, ...; chunk 0 carries the
// schema (SnapshotChunk.schema_sql) and the last one has last_chunk set. Begin() fixes the
// snapshot (S = its snapshot_seq) before it returns; chunks are then read ahead on the
// source's own thread, a few at a time, and taken with TryNext().
//
// Thread safety: Begin, TryNext and End are called from one thread (the shipper's io thread);
// `ready` is called from the reading thread and must only post work.
#pragma once

#include <cstdint>
#include <functional>

#include "common/base/result.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // Starts a new snapshot (ending one in progress) and returns S. `ready` is called each time
  // a chunk becomes available or the read fails.
  [[nodiscard]] virtual Result<uint64_t> Begin(std::function<void()> ready) = 0;
  // The next chunk into *chunk: true when one was there, false when it is still being read.
  // A read error is returned once and ends the snapshot.
  [[nodiscard]] virtual Result<bool> TryNext(wire::SnapshotChunk* chunk) = 0;
  // Ends the snapshot in progress (releasing the SQLite read transaction); idempotent.
  virtual void End() = 0;
};

}  // namespace sqlift
