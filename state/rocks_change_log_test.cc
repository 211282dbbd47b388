// RocksDB-only behaviour of the change log: what survives a reopen, who may open it, the
// column families and raw key layout of state/README.md, and a file system whose fsync fails.
#include "state/rocks_change_log.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/file_system.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "state/change_log.h"
#include "state/keys.h"
#include "state/state_test_util.h"

namespace sqlift::state {
namespace {

using testing::RecordValue;
using testing::TempDir;

std::vector<LogRecord> Records(uint64_t first, uint64_t last) {
  std::vector<LogRecord> out;
  for (uint64_t s = first; s <= last; ++s)
    out.push_back({s, RecordValue(s)});
  return out;
}

std::unique_ptr<ChangeLog> Open(const std::string& dir, rocksdb::Env* env = nullptr) {
  Result<std::unique_ptr<ChangeLog>> r = internal::OpenRocksChangeLogWithEnv(dir, {}, env);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::vector<std::string> Families(const std::string& dir) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  std::sort(names.begin(), names.end());
  return names;
}

// Writes raw key/values into `family` of the RocksDB in `dir`, bypassing the ChangeLog, to
// build states the ChangeLog itself never writes.
void RawPut(const std::string& dir, const std::string& family, const std::string& key,
            const std::string& value) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<std::string> names = {"default"};
  (void)rocksdb::DB::ListColumnFamilies(options, dir, &names);
  if (std::find(names.begin(), names.end(), family) == names.end()) names.push_back(family);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const std::string& n : names)
    descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir, descs, &handles, &db).ok());
  size_t i = std::find(names.begin(), names.end(), family) - names.begin();
  EXPECT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], key, value).ok());
  for (auto* h : handles)
    EXPECT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  delete db;
}

std::string Fixed64(uint64_t v) {
  std::string out;
  PutFixed64BE(&out, v);
  return out;
}

TEST(RocksChangeLogTest, EverythingSurvivesReopen) {
  TempDir dir;
  {
    auto log = Open(dir.path());
    ASSERT_TRUE(log->Append(Records(1, 50)).ok());
    ASSERT_TRUE(log->SetPosition(kMetaAckedSeq, 30).ok());
    ASSERT_TRUE(log->PutMeta("shape/users", "id,name").ok());
    ASSERT_TRUE(log->TrimBefore(10).ok());
  }
  auto log = Open(dir.path());
  EXPECT_EQ(*log->GetPosition(kMetaLoggedSeq), 50u);
  EXPECT_EQ(*log->GetPosition(kMetaAckedSeq), 30u);
  EXPECT_EQ(*log->GetMeta("shape/users"), "id,name");
  uint64_t want = 10;
  ASSERT_TRUE(log->Scan(0, UINT64_MAX,
                        [&](uint64_t seq, std::string_view value) {
                          EXPECT_EQ(seq, want);
                          EXPECT_EQ(value, RecordValue(want++));
                          return Status::OK();
                        })
                  .ok());
  EXPECT_EQ(want, 51u);
  uint64_t bytes = 0;
  for (uint64_t s = 10; s <= 50; ++s)
    bytes += RecordValue(s).size();
  LogStats stats = *log->Stats();
  EXPECT_EQ(stats.first_seq, 10u);
  EXPECT_EQ(stats.last_seq, 50u);
  EXPECT_EQ(stats.count, 41u);
  EXPECT_EQ(stats.bytes, bytes);
  // The contiguity check resumes from the stored position, not from 1.
  EXPECT_EQ(log->Append(Records(52, 52)).code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(log->Append(Records(51, 51)).ok());
  EXPECT_EQ(log->Stats()->last_seq, 51u);
}

TEST(RocksChangeLogTest, SecondOpenerIsRefusedWithClearError) {
  TempDir dir;
  auto first = Open(dir.path());
  Result<std::unique_ptr<ChangeLog>> second = OpenRocksChangeLog(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIOError);
  const std::string msg = second.status().ToString();
  EXPECT_NE(msg.find("state dir " + dir.path() + " is in use"), std::string::npos) << msg;
  first.reset();
  EXPECT_TRUE(OpenRocksChangeLog(dir.path()).ok());
}

TEST(RocksChangeLogTest, CreatesItsColumnFamilies) {
  TempDir dir;
  Open(dir.path()).reset();
  EXPECT_EQ(Families(dir.path()), (std::vector<std::string>{"default", "log", "meta", "route"}));
}

TEST(RocksChangeLogTest, AddsMissingFamiliesAndKeepsUnknownOnes) {
  TempDir dir;
  RawPut(dir.path(), "future", "k", "v");  // a DB with only default and an unknown family
  auto log = Open(dir.path());
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Records(1, 1)).ok());
  log.reset();
  EXPECT_EQ(Families(dir.path()),
            (std::vector<std::string>{"default", "future", "log", "meta", "route"}));
}

TEST(RocksChangeLogTest, RawLayoutMatchesReadme) {
  TempDir dir;
  {
    auto log = Open(dir.path());
    ASSERT_TRUE(log->Append(Records(1, 3)).ok());
    ASSERT_TRUE(log->SetPosition(kMetaAckedSeq, 2).ok());
    ASSERT_TRUE(log->PutMeta("shape", "bytes").ok());
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const char* n : {"default", "log", "meta", "route"})
    descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> h;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir.path(), descs, &h, &db).ok());
  auto get = [&](rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string v;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf, key, &v);
    return s.ok() ? v : "<" + s.ToString() + ">";
  };
  EXPECT_EQ(get(h[1], std::string("\0\0\0\0\0\0\0\x02", 8)), RecordValue(2));
  EXPECT_EQ(get(h[2], "pos/logged_seq"), Fixed64(3));
  EXPECT_EQ(get(h[2], "pos/acked_seq"), Fixed64(2));
  EXPECT_EQ(get(h[2], "kv/shape"), "bytes");
  EXPECT_EQ(get(h[2], "format"), Fixed64(1));
  EXPECT_EQ(get(h[2], "stat/log_count"), Fixed64(3));
  EXPECT_EQ(get(h[2], "stat/log_bytes"),
            Fixed64(RecordValue(1).size() + RecordValue(2).size() + RecordValue(3).size()));
  for (auto* cf : h)
    EXPECT_TRUE(db->DestroyColumnFamilyHandle(cf).ok());
  delete db;
}

// A secondary beside the writer sees the log as of its open, then what CatchUp brings.
TEST(RocksChangeLogTest, ASecondaryCatchesUpWithTheWriter) {
  TempDir dir, own;
  auto log = Open(dir.path());
  ASSERT_TRUE(log->Append(Records(1, 3)).ok());
  RocksChangeLogOptions o;
  o.secondary_dir = own.path();
  auto beside = OpenRocksChangeLog(dir.path(), o);
  ASSERT_TRUE(beside.ok()) << beside.status().ToString();
  ASSERT_TRUE(log->Append(Records(4, 5)).ok());
  auto before = (*beside)->Stats();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->last_seq, 3u);
  ASSERT_TRUE((*beside)->CatchUp().ok());
  auto after = (*beside)->Stats();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->last_seq, 5u);
  EXPECT_EQ(after->count, 5u);
  std::vector<uint64_t> seqs;
  ASSERT_TRUE((*beside)
                  ->Scan(4, 5,
                         [&](uint64_t seq, std::string_view) {
                           seqs.push_back(seq);
                           return Status::OK();
                         })
                  .ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{4, 5}));
  EXPECT_FALSE((*beside)->Append(Records(6, 6)).ok());  // it only reads
}

TEST(RocksChangeLogTest, MissingStateWithoutCreateIsNotFound) {
  TempDir dir;
  Result<std::unique_ptr<ChangeLog>> r = OpenRocksChangeLog(
      dir.path() + "/none", {.create_if_missing = false, .read_only = false, .secondary_dir = ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound) << r.status().ToString();
}

TEST(RocksChangeLogTest, NewerFormatIsRefused) {
  TempDir dir;
  Open(dir.path()).reset();
  RawPut(dir.path(), "meta", "format", Fixed64(2));
  Result<std::unique_ptr<ChangeLog>> r = OpenRocksChangeLog(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition) << r.status().ToString();
}

TEST(RocksChangeLogTest, RecordPastLoggedSeqIsCorruption) {
  TempDir dir;
  ASSERT_TRUE(Open(dir.path())->Append(Records(1, 3)).ok());
  RawPut(dir.path(), "log", SeqKey(5), "stray");
  Result<std::unique_ptr<ChangeLog>> r = OpenRocksChangeLog(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find("seq 5 past logged_seq 3"), std::string::npos);
}

TEST(RocksChangeLogTest, DamagedPositionIsCorruption) {
  TempDir dir;
  Open(dir.path()).reset();
  RawPut(dir.path(), "meta", "pos/acked_seq", "abc");
  auto log = Open(dir.path());
  Result<uint64_t> r = log->GetPosition(kMetaAckedSeq);
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("read position acked_seq"), std::string::npos);
}

// A file system whose Sync/Fsync fail while `fail` is set.
class SyncFailingFs : public rocksdb::FileSystemWrapper {
 public:
  SyncFailingFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "SyncFailingFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(fname, opts, result, dbg);
    if (s.ok()) *result = std::make_unique<File>(std::move(*result), &fail);
    return s;
  }

  std::atomic<bool> fail{false};

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, std::atomic<bool>* fail)
        : FSWritableFileOwnerWrapper(std::move(f)), fail_(fail) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      return *fail_ ? rocksdb::IOStatus::IOError("injected fsync failure") : target()->Sync(o, d);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      return *fail_ ? rocksdb::IOStatus::IOError("injected fsync failure") : target()->Fsync(o, d);
    }

   private:
    std::atomic<bool>* fail_;
  };
};

TEST(RocksChangeLogTest, FailedSyncRefusesWritesUntilReopened) {
  TempDir dir;
  auto fs = std::make_shared<SyncFailingFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  auto log = Open(dir.path(), env.get());
  ASSERT_TRUE(log->Append(Records(1, 5)).ok());

  fs->fail = true;
  Status failed = log->Append(Records(6, 8));
  ASSERT_EQ(failed.code(), Status::Code::kIOError) << failed.ToString();
  EXPECT_NE(failed.ToString().find("append seqs 6..8 to log"), std::string::npos);
  fs->fail = false;  // the disk is fine again, but the log must not trust it until reopened
  for (Status s : {log->Append(Records(6, 8)), log->SetPosition(kMetaAckedSeq, 1),
                   log->PutMeta("k", "v"), log->TrimBefore(2), log->Append({})}) {
    EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
    EXPECT_NE(s.message().find("refusing writes until reopened"), std::string::npos)
        << s.ToString();
  }
  EXPECT_EQ(*log->GetPosition(kMetaAckedSeq), 0u);  // reads still work
  log.reset();

  // After reopening, the failed batch is either wholly there or wholly absent, and a replay
  // of it from the outbox succeeds either way.
  log = Open(dir.path(), env.get());
  const uint64_t logged = *log->GetPosition(kMetaLoggedSeq);
  EXPECT_TRUE(logged == 5 || logged == 8) << logged;
  EXPECT_EQ(log->Stats()->last_seq, logged);
  ASSERT_TRUE(log->Append(Records(6, 9)).ok());
  EXPECT_EQ(log->Stats()->count, 9u);
  EXPECT_EQ(*log->GetPosition(kMetaLoggedSeq), 9u);
}

TEST(RocksChangeLogTest, StatusMapping) {
  EXPECT_TRUE(internal::FromRocks(rocksdb::Status::OK()).ok());
  EXPECT_EQ(internal::FromRocks(rocksdb::Status::Corruption("bad block")).code(),
            Status::Code::kCorruption);
  Status io = internal::FromRocks(rocksdb::Status::IOError("While fsync", "EIO"));
  EXPECT_EQ(io.code(), Status::Code::kIOError);
  EXPECT_EQ(io.ToString(), "IO error: While fsync: EIO");
  EXPECT_EQ(internal::FromRocks(rocksdb::Status::Busy()).code(), Status::Code::kUnavailable);
  EXPECT_EQ(internal::FromRocks(rocksdb::Status::NoSpace("disk full")).code(),
            Status::Code::kIOError);
}

}  // namespace
}  // namespace sqlift::state
