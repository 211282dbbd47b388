// Opening the RocksDB ChangeLog: column families, RocksDB options, the lock, the format
// check and loading the cached positions (state/rocks_change_log.h); and FromRocks.
#include <fmt/format.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <utility>

#include "state/keys.h"
#include "state/rocks_change_log.h"

namespace sqlift::state {
namespace internal {
namespace {

// "default" is unused; RocksDB requires it.
constexpr std::string_view kFamilies[] = {"default", kLogFamily, kMetaFamily, kRouteFamily};

// The families to open: every one already in `dir` (RocksDB insists) plus ours.
std::vector<std::string> FamiliesToOpen(const rocksdb::DBOptions& options, const std::string& dir,
                                        bool read_only) {
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(options, dir, &names).ok()) names.clear();  // a new dir
  if (read_only && !names.empty()) return names;  // a read-only open cannot create families
  for (std::string_view want : kFamilies) {
    if (std::find(names.begin(), names.end(), want) == names.end()) names.emplace_back(want);
  }
  return names;
}

// RocksDB reports a held LOCK file as an IOError mentioning "lock" ("While lock file: ...",
// or "lock hold by current process" for a second open in the same process).
Status OpenError(const std::string& dir, const rocksdb::Status& s) {
  const std::string msg = FromRocks(s).message();
  if (s.IsIOError() && (msg.find("lock") != std::string::npos || msg.find("LOCK") != msg.npos)) {
    return Status::IOError(fmt::format(
        "state dir {} is in use by another process (or already open in this one): {}", dir, msg));
  }
  if (s.IsInvalidArgument() && msg.find("does not exist") != std::string::npos) {
    return Status::NotFound(fmt::format("no state in {} (create_if_missing is off)", dir));
  }
  return FromRocks(s);
}

rocksdb::DBOptions MakeOptions(const RocksChangeLogOptions& options, rocksdb::Env* env) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing && !options.read_only;
  db_options.create_missing_column_families = true;
  // The workload is small synced batches (one WAL fsync per Append) and range deletes from
  // the front; RocksDB's defaults suit it, with three changes:
  // - two background threads, so that a memtable flush never waits behind a compaction;
  // - the families share one WAL, and meta (tiny, always written) would otherwise pin old
  //   WAL files until the default cap of 4 x all write buffers (~2 GB), all of which a
  //   restart after a crash replays; 128 MB makes RocksDB flush meta instead;
  // - a few info LOG files, not 1000: the agent is restarted often.
  db_options.IncreaseParallelism(2);
  db_options.max_total_wal_size = 128ull << 20;
  db_options.keep_log_file_num = 10;
  if (env != nullptr) db_options.env = env;
  return db_options;
}

}  // namespace

RocksChangeLog::RocksChangeLog(std::unique_ptr<rocksdb::DB> db,
                               std::vector<rocksdb::ColumnFamilyHandle*> handles,
                               const std::vector<std::string>& names)
    : db_(std::move(db)), handles_(std::move(handles)) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == kLogFamily) log_ = handles_[i];
    if (names[i] == kMetaFamily) meta_ = handles_[i];
    if (names[i] == kRouteFamily) route_ = handles_[i];
  }
}

RocksChangeLog::~RocksChangeLog() {
  for (rocksdb::ColumnFamilyHandle* h : handles_)
    (void)db_->DestroyColumnFamilyHandle(h);
  (void)db_->Close();  // nothing to do with an error here: every write was synced already
}

Status RocksChangeLog::CheckFormat() {
  const std::string key(kMetaFormatKey);
  SQLIFT_ASSIGN_OR_RETURN(std::optional<uint64_t> version, GetFixedMeta(key));
  if (!version) return PutMetaKey(key, EncodeFixed64(kFormatVersion));  // a new store
  if (*version != kFormatVersion) {
    return Status::FailedPrecondition(fmt::format(
        "state format {} is not {}, the one this sqlift knows", *version, kFormatVersion));
  }
  return Status::OK();
}

Status RocksChangeLog::LoadCounters() {
  SQLIFT_ASSIGN_OR_RETURN(std::optional<uint64_t> count,
                          GetFixedMeta(std::string(kMetaLogCountKey)));
  SQLIFT_ASSIGN_OR_RETURN(std::optional<uint64_t> bytes,
                          GetFixedMeta(std::string(kMetaLogBytesKey)));
  std::lock_guard lock(write_mu_);
  if (count && bytes) {
    count_ = *count;
    bytes_ = *bytes;
    return Status::OK();
  }
  return CountRecords(nullptr, &count_, &bytes_);  // never written: a new store
}

Status RocksChangeLog::Load(bool read_only) {
  if (!read_only) SQLIFT_RETURN_IF_ERROR(CheckFormat().With("check format version"));
  SQLIFT_RETURN_IF_ERROR(LoadCounters().With("read log counters"));
  SQLIFT_ASSIGN_OR_RETURN(uint64_t logged, GetPosition(kMetaLoggedSeq));
  SQLIFT_ASSIGN_OR_RETURN(LogStats stats, Stats());
  if (stats.last_seq > logged) {
    return Status::Corruption(
        fmt::format("log holds seq {} past logged_seq {}", stats.last_seq, logged));
  }
  std::lock_guard lock(write_mu_);
  logged_seq_ = logged;
  return Status::OK();
}

Status RocksChangeLog::CatchUp() {
  SQLIFT_RETURN_IF_ERROR(
      FromRocks(db_->TryCatchUpWithPrimary()).With("catch up with the agent's log"));
  return LoadCounters().With("read log counters");
}

Status FromRocks(const rocksdb::Status& s) {
  using C = rocksdb::Status::Code;
  if (s.ok()) return Status::OK();
  // getState() is the message without RocksDB's code name, which ours adds again.
  const std::string msg = s.subcode() == rocksdb::Status::kNone && s.getState() != nullptr
                              ? std::string(s.getState())
                              : s.ToString();
  switch (s.code()) {
    case C::kNotFound:
      return Status::NotFound(msg);
    case C::kCorruption:
      return Status::Corruption(msg);
    case C::kNotSupported:
      return Status::NotImplemented(msg);
    case C::kInvalidArgument:
      return Status::InvalidArgument(msg);
    case C::kIOError:
      return Status::IOError(msg);
    case C::kBusy:
    case C::kTimedOut:
    case C::kTryAgain:
      return Status::Unavailable(msg);
    case C::kShutdownInProgress:
    case C::kAborted:
    case C::kIncomplete:
      return Status::Aborted(msg);
    default:
      return Status::Internal("rocksdb: " + s.ToString());
  }
}

Result<std::unique_ptr<ChangeLog>> OpenRocksChangeLogWithEnv(const std::string& dir,
                                                             const RocksChangeLogOptions& options,
                                                             rocksdb::Env* env) {
  const std::string what = fmt::format("open change log in {}", dir);
  const bool secondary = !options.secondary_dir.empty();
  const bool read_only = options.read_only || secondary;
  rocksdb::DBOptions db_options = MakeOptions(options, env);
  if (secondary) {
    db_options.create_if_missing = false;
    db_options.max_open_files = -1;  // a secondary must keep every table file open
  }
  std::vector<std::string> names = FamiliesToOpen(db_options, dir, read_only);
  // A writable open creates the missing families after the open, in one call: RocksDB then
  // writes its OPTIONS file (two syncs) once, where creating them at the open writes it once
  // per family. That is most of a new state directory's start.
  std::vector<std::string> missing;
  if (!read_only) {
    std::vector<std::string> present;
    if (!rocksdb::DB::ListColumnFamilies(db_options, dir, &present).ok()) {
      present = {rocksdb::kDefaultColumnFamilyName};  // a new directory
    }
    for (const std::string& name : names) {
      if (std::find(present.begin(), present.end(), name) == present.end()) missing.push_back(name);
    }
    names = std::move(present);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names)
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      secondary ? rocksdb::DB::OpenAsSecondary(db_options, dir, options.secondary_dir, descriptors,
                                               &handles, &raw)
      : read_only ? rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw)
                  : rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
  if (!s.ok()) return OpenError(dir, s).With(what);
  if (!missing.empty()) {
    std::vector<rocksdb::ColumnFamilyHandle*> created;
    s = raw->CreateColumnFamilies(rocksdb::ColumnFamilyOptions(), missing, &created);
    if (!s.ok()) {
      for (rocksdb::ColumnFamilyHandle* h : handles)
        (void)raw->DestroyColumnFamilyHandle(h);
      delete raw;
      return FromRocks(s).With(what);
    }
    handles.insert(handles.end(), created.begin(), created.end());
    names.insert(names.end(), missing.begin(), missing.end());
  }
  auto log = std::make_unique<RocksChangeLog>(std::unique_ptr<rocksdb::DB>(raw), std::move(handles),
                                              names);
  SQLIFT_RETURN_IF_ERROR(log->Load(read_only).With(what));
  return std::unique_ptr<ChangeLog>(std::move(log));
}

}  // namespace internal

Result<std::unique_ptr<ChangeLog>> OpenRocksChangeLog(const std::string& dir,
                                                      const RocksChangeLogOptions& options) {
  return internal::OpenRocksChangeLogWithEnv(dir, options, nullptr);
}

}  // namespace sqlift::state
