// BatchSink: the default way from serialized rows to LoadSnapshot (see header).
#include "apply/receiver/batch_sink.h"

#include "proto/wire/chunk_rows.h"

namespace sqlift::apply {

Result<uint64_t> BatchSink::LoadSnapshotRows(const std::string& source,
                                             const wire::SnapshotChunk& chunk,
                                             const std::vector<std::string_view>& rows) {
  if (rows.empty()) return LoadSnapshot(source, chunk);
  wire::SnapshotChunk whole = chunk;
  for (std::string_view row : rows)
    SQLIFT_RETURN_IF_ERROR(proto::ReadRow(row, whole.add_rows()));
  return LoadSnapshot(source, whole);
}

}  // namespace sqlift::apply
