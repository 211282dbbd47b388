// SnapshotSource: where the shipper gets the snapshot it sends when the applier holds no
// position for the source (design invariant 5). The production source reads the application's
// SQLite database (capture/sqlite_snapshot_source.h); tests use a fake.
//
// A snapshot is a sequence of SnapshotChunk frames numbered 0, 1, 2, ...; chunk 0 carries the
// schema (SnapshotChunk.schema_sql) and the last one has last_chunk set. Begin() fixes the
// snapshot (S = its snapshot_seq) before it returns; chunks are then read ahead on the
// source's own thread, a few at a time, and taken with TryNext().
//
// The shipper takes chunks as frames ready to write (TryNextFrame): a source may encode them on
// its reading thread, as SqliteSnapshotSource does, so the shipper's thread only writes them.
//
// Thread safety: Begin, TryNext, TryNextFrame and End are called from one thread (the shipper's
// io thread); `ready` is called from the reading thread and must only post work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/base/result.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

// One chunk as the frame the shipper writes (proto/wire/frame_codec.h: the 4-byte length, then
// Frame{snapshot_chunk}), with the fields the shipper keeps track of.
struct EncodedChunk {
  std::string frame;
  uint64_t chunk_no = 0;
  bool last_chunk = false;
};

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // Starts a new snapshot (ending one in progress) and returns S. `ready` is called each time
  // a chunk becomes available or the read fails.
  [[nodiscard]] virtual Result<uint64_t> Begin(std::function<void()> ready) = 0;
  // The next chunk into *chunk: true when one was there, false when it is still being read.
  // A read error is returned once and ends the snapshot.
  [[nodiscard]] virtual Result<bool> TryNext(wire::SnapshotChunk* chunk) = 0;
  // The next chunk as a frame of at most max_frame_bytes (EncodeFrame's InvalidArgument for a
  // larger one), otherwise as TryNext. This default encodes what TryNext gives.
  [[nodiscard]] virtual Result<bool> TryNextFrame(size_t max_frame_bytes, EncodedChunk* out);
  // Ends the snapshot in progress (releasing the SQLite read transaction); idempotent.
  virtual void End() = 0;
};

}  // namespace sqlift
