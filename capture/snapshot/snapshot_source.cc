// SnapshotSource: the default way from a chunk to its frame (see header).
#include "capture/snapshot/snapshot_source.h"

#include "proto/wire/frame_codec.h"

namespace sqlift {

Result<bool> SnapshotSource::TryNextFrame(size_t max_frame_bytes, EncodedChunk* out) {
  wire::Frame frame;
  Result<bool> got = TryNext(frame.mutable_snapshot_chunk());
  if (!got.ok() || !*got) return got;
  out->frame.clear();
  SQLIFT_RETURN_IF_ERROR(proto::EncodeFrame(frame, max_frame_bytes, &out->frame));
  out->chunk_no = frame.snapshot_chunk().chunk_no();
  out->last_chunk = frame.snapshot_chunk().last_chunk();
  return true;
}

}  // namespace sqlift
