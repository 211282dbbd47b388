// The methods of RocksChangeLog (state/rocks_change_log.h) that serve a running log; opening
// and loading are in rocks_open.cc. The on-disk format is in state/README.md.
//
// Every write is one WriteBatch with WriteOptions::sync, so a record, the position that points
// past it and the log counters reach the disk together or not at all. After a write fails the
// log keeps the error and refuses every later write until it is reopened.
#include "state/rocks_change_log.h"

#include <fmt/format.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>

#include "state/append_check.h"
#include "state/keys.h"

namespace sqlift::state::internal {
namespace {

Result<uint64_t> KeySeq(const rocksdb::Iterator& it) {
  Result<uint64_t> seq = GetFixed64BE(it.key().ToStringView());
  if (!seq.ok()) return seq.status().With("decode log key");
  return seq;
}

}  // namespace

Status RocksChangeLog::WriteLocked(rocksdb::WriteBatch* batch) {
  if (!write_failure_.ok()) return RefusingWrites(write_failure_);
  rocksdb::WriteOptions options;
  options.sync = true;
  rocksdb::Status s = db_->Write(options, batch);
  if (!s.ok()) write_failure_ = FromRocks(s);
  return write_failure_;
}

Status RocksChangeLog::PutMetaKey(const std::string& key, std::string_view value) {
  rocksdb::WriteBatch batch;
  SQLIFT_RETURN_IF_ERROR(FromRocks(batch.Put(meta_, key, value)));
  std::lock_guard lock(write_mu_);
  return WriteLocked(&batch);
}

Status RocksChangeLog::PutCounters(rocksdb::WriteBatch* batch, uint64_t count, uint64_t bytes) {
  SQLIFT_RETURN_IF_ERROR(FromRocks(batch->Put(meta_, kMetaLogCountKey, EncodeFixed64(count))));
  return FromRocks(batch->Put(meta_, kMetaLogBytesKey, EncodeFixed64(bytes)));
}

Result<std::optional<uint64_t>> RocksChangeLog::GetFixedMeta(const std::string& key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, key, &value);
  if (s.IsNotFound()) return std::optional<uint64_t>();
  if (!s.ok()) return FromRocks(s);
  SQLIFT_ASSIGN_OR_RETURN(uint64_t v, GetFixed64BE(value));
  return std::optional<uint64_t>(v);
}

Result<std::optional<size_t>> RocksChangeLog::StoredSize(uint64_t seq) {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), log_, SeqKey(seq), &value);
  if (s.IsNotFound()) return std::optional<size_t>();
  if (!s.ok()) return FromRocks(s);
  return std::optional<size_t>(value.size());
}

Status RocksChangeLog::CountRecords(const std::string* upper, uint64_t* count, uint64_t* bytes) {
  rocksdb::ReadOptions options;
  options.fill_cache = false;  // a one-off pass; keep the cache for the tail readers use
  rocksdb::Slice upper_slice;
  if (upper != nullptr) {
    upper_slice = *upper;
    options.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, log_));
  *count = *bytes = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++*count;
    *bytes += it->value().size();
  }
  return FromRocks(it->status()).With("count log records");
}

Status RocksChangeLog::BuildAppend(const std::vector<LogRecord>& records,
                                   rocksdb::WriteBatch* batch, uint64_t* count, uint64_t* bytes) {
  *count = count_;
  *bytes = bytes_;
  for (const LogRecord& r : records) {
    if (r.seq <= logged_seq_) {  // a rewrite: the old value leaves the counters
      SQLIFT_ASSIGN_OR_RETURN(std::optional<size_t> old, StoredSize(r.seq));
      if (old) {
        --*count;
        *bytes -= *old;
      }
    }
    ++*count;
    *bytes += r.value.size();
    SQLIFT_RETURN_IF_ERROR(FromRocks(batch->Put(log_, SeqKey(r.seq), r.value)));
  }
  return PutCounters(batch, *count, *bytes);
}

Status RocksChangeLog::Append(const std::vector<LogRecord>& records,
                              const std::vector<RouteRecord>& routes,
                              const std::vector<MetaRecord>& meta) {
  const std::string what = AppendWhat(records);
  std::lock_guard lock(write_mu_);
  if (!write_failure_.ok()) return RefusingWrites(write_failure_).With(what);
  Result<uint64_t> next = CheckAppend(logged_seq_, records);
  if (!next.ok()) return next.status().With(what);
  if (records.empty() && routes.empty() && meta.empty()) return Status::OK();
  if (route_ == nullptr) return Status::Internal("the route family is not open").With(what);
  rocksdb::WriteBatch batch;
  uint64_t count = 0, bytes = 0;
  SQLIFT_RETURN_IF_ERROR(BuildAppend(records, &batch, &count, &bytes).With(what));
  for (const RouteRecord& r : routes) {
    if (r.tenant.empty()) return Status::InvalidArgument("route without a tenant").With(what);
    SQLIFT_RETURN_IF_ERROR(FromRocks(batch.Put(route_, r.tenant, r.value)).With(what));
  }
  for (const MetaRecord& m : meta) {
    if (m.key.empty()) return Status::InvalidArgument("meta value without a key").With(what);
    SQLIFT_RETURN_IF_ERROR(FromRocks(batch.Put(meta_, MetaBytesKey(m.key), m.value)).With(what));
  }
  if (*next != logged_seq_) {
    SQLIFT_RETURN_IF_ERROR(
        FromRocks(batch.Put(meta_, MetaPositionKey(kMetaLoggedSeq), EncodeFixed64(*next)))
            .With(what));
  }
  SQLIFT_RETURN_IF_ERROR(WriteLocked(&batch).With(what));
  logged_seq_ = *next;
  count_ = count;
  bytes_ = bytes;
  return Status::OK();
}

Result<std::vector<RouteRecord>> RocksChangeLog::Routes() {
  std::vector<RouteRecord> out;
  if (route_ == nullptr) return out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), route_));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    out.push_back({it->key().ToString(), it->value().ToString()});
  SQLIFT_RETURN_IF_ERROR(FromRocks(it->status()).With("read routes"));
  return out;
}

Result<uint64_t> RocksChangeLog::GetPosition(std::string_view name) {
  const std::string what = fmt::format("read position {}", name);
  SQLIFT_RETURN_IF_ERROR(CheckPositionName(name).With(what));
  Result<std::optional<uint64_t>> pos = GetFixedMeta(MetaPositionKey(name));
  if (!pos.ok()) return pos.status().With(what);
  return pos->value_or(0);
}

Status RocksChangeLog::SetPosition(std::string_view name, uint64_t value) {
  const std::string what = fmt::format("set position {} to {}", name, value);
  SQLIFT_RETURN_IF_ERROR(CheckSettablePosition(name).With(what));
  return PutMetaKey(MetaPositionKey(name), EncodeFixed64(value)).With(what);
}

Result<std::string> RocksChangeLog::GetMeta(std::string_view key) {
  const std::string what = fmt::format("read meta {}", key);
  SQLIFT_RETURN_IF_ERROR(CheckMetaKey(key).With(what));
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, MetaBytesKey(key), &value);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("meta key {} is not set", key));
  if (!s.ok()) return FromRocks(s).With(what);
  return value;
}

Status RocksChangeLog::PutMeta(std::string_view key, std::string_view value) {
  const std::string what = fmt::format("write meta {}", key);
  SQLIFT_RETURN_IF_ERROR(CheckMetaKey(key).With(what));
  return PutMetaKey(MetaBytesKey(key), value).With(what);
}

Status RocksChangeLog::Scan(uint64_t first, uint64_t last,
                            const std::function<Status(uint64_t seq, std::string_view value)>& fn) {
  if (first > last) return Status::OK();
  const std::string what = fmt::format("scan log seqs {}..{}", first, last);
  rocksdb::ReadOptions options;
  const std::string upper = last == UINT64_MAX ? std::string() : SeqKey(last + 1);
  const rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, log_));
  for (it->Seek(SeqKey(first)); it->Valid(); it->Next()) {
    Result<uint64_t> seq = KeySeq(*it);
    if (!seq.ok()) return seq.status().With(what);
    SQLIFT_RETURN_IF_ERROR(fn(*seq, it->value().ToStringView()));
  }
  return FromRocks(it->status()).With(what);
}

// O(records trimmed): the counters need the count and bytes of what the range delete drops.
Status RocksChangeLog::TrimBefore(uint64_t seq) {
  const std::string what = fmt::format("trim log before seq {}", seq);
  std::lock_guard lock(write_mu_);
  if (!write_failure_.ok()) return RefusingWrites(write_failure_).With(what);
  if (seq <= 1) return Status::OK();
  const std::string end = SeqKey(seq);
  uint64_t count = 0, bytes = 0;
  SQLIFT_RETURN_IF_ERROR(CountRecords(&end, &count, &bytes).With(what));
  if (count > count_ || bytes > bytes_) {
    return Status::Corruption(fmt::format("log counters ({} records, {} bytes) are below what "
                                          "lies before seq {} ({} records, {} bytes)",
                                          count_, bytes_, seq, count, bytes))
        .With(what);
  }
  rocksdb::WriteBatch batch;
  SQLIFT_RETURN_IF_ERROR(FromRocks(batch.DeleteRange(log_, SeqKey(0), end)).With(what));
  SQLIFT_RETURN_IF_ERROR(PutCounters(&batch, count_ - count, bytes_ - bytes).With(what));
  SQLIFT_RETURN_IF_ERROR(WriteLocked(&batch).With(what));
  count_ -= count;
  bytes_ -= bytes;
  return Status::OK();
}

// Holds write_mu_ so that the counters and first/last describe the same log.
Result<LogStats> RocksChangeLog::Stats() {
  std::lock_guard lock(write_mu_);
  LogStats stats;
  stats.count = count_;
  stats.bytes = bytes_;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_));
  it->SeekToFirst();
  if (it->Valid()) {
    SQLIFT_ASSIGN_OR_RETURN(stats.first_seq, KeySeq(*it));
    it->SeekToLast();
    if (it->Valid()) {
      SQLIFT_ASSIGN_OR_RETURN(stats.last_seq, KeySeq(*it));
    }
  }
  SQLIFT_RETURN_IF_ERROR(FromRocks(it->status()).With("read log stats"));
  if ((stats.first_seq == 0) != (stats.count == 0)) {
    return Status::Corruption(fmt::format("log counters say {} records, the log starts at seq {}",
                                          stats.count, stats.first_seq))
        .With("read log stats");
  }
  return stats;
}

}  // namespace sqlift::state::internal
