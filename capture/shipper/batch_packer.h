// BatchPacker: packs consecutive log records (one ChangeBatch per seq) into one ChangeBatch
// frame for the wire, up to a byte budget, so that a busy log ships in few large frames.
//
// Tables are merged by name and each listed once, with every RowChange.table_index re-indexed
// into the merged list. A record that names a table with a different shape than the one
// already in the batch (a DDL event changed it) starts the next batch instead, so a batch
// never holds two shapes of one table.
//
// Thread safety: a value type; not shared.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "proto/wire/sqlift.pb.h"

namespace sqlift {

class BatchPacker {
 public:
  explicit BatchPacker(size_t budget_bytes) : budget_(budget_bytes) {}

  // Adds `record` (of `record_bytes` serialized bytes) when it fits: the first record always
  // fits; later ones while the budget holds and their table shapes agree. Returns false, with
  // the batch unchanged, when the record belongs in the next batch.
  bool Add(const wire::ChangeBatch& record, size_t record_bytes);

  bool empty() const { return count_ == 0; }
  size_t bytes() const { return bytes_; }
  // The packed batch; the packer is empty afterwards.
  wire::ChangeBatch Take();

 private:
  bool ShapesAgree(const wire::ChangeBatch& record) const;

  const size_t budget_;
  wire::ChangeBatch batch_;
  std::map<std::string, uint32_t> table_index_;  // name -> index in batch_.tables
  size_t bytes_ = 0;
  size_t count_ = 0;
};

}  // namespace sqlift
