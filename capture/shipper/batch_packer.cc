// BatchPacker (see batch_packer.h).
#include "capture/shipper/batch_packer.h"

#include <google/protobuf/util/message_differencer.h>

#include <vector>

namespace sqlift {

bool BatchPacker::ShapesAgree(const wire::ChangeBatch& record) const {
  for (const wire::TableShape& table : record.tables()) {
    auto it = table_index_.find(table.name());
    if (it == table_index_.end()) continue;
    if (!google::protobuf::util::MessageDifferencer::Equals(batch_.tables(it->second), table)) {
      return false;
    }
  }
  return true;
}

bool BatchPacker::Add(const wire::ChangeBatch& record, size_t record_bytes) {
  if (count_ > 0 && (bytes_ + record_bytes > budget_ || !ShapesAgree(record))) return false;
  std::vector<uint32_t> remap;
  remap.reserve(record.tables_size());
  for (const wire::TableShape& table : record.tables()) {
    auto [it, added] = table_index_.try_emplace(table.name(), batch_.tables_size());
    if (added) *batch_.add_tables() = table;
    remap.push_back(it->second);
  }
  for (const wire::Transaction& txn : record.transactions()) {
    wire::Transaction* out = batch_.add_transactions();
    *out = txn;
    for (wire::RowChange& change : *out->mutable_changes()) {
      // An index out of range is left as it is; the applier reports it with the seq.
      if (change.table_index() < remap.size()) change.set_table_index(remap[change.table_index()]);
    }
  }
  if (count_ == 0) batch_.set_first_seq(record.first_seq());
  batch_.set_last_seq(record.last_seq());
  bytes_ += record_bytes;
  ++count_;
  return true;
}

wire::ChangeBatch BatchPacker::Take() {
  wire::ChangeBatch out = std::move(batch_);
  batch_.Clear();
  table_index_.clear();
  bytes_ = 0;
  count_ = 0;
  return out;
}

}  // namespace sqlift
