#include "common/sqlite/wal_index.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace sqlift {
namespace {

constexpr int kHeaderBytes = 48;  // one copy of WalIndexHdr; the second copy follows it
constexpr int kRegionBytes = 32768;
constexpr int kCheckpointInfo = 2 * kHeaderBytes;  // WalCkptInfo follows the two copies

uint32_t Native32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

Result<std::optional<WalIndexHead>> ReadWalIndexHead(SqliteDb& db) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db.handle(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
      file == nullptr || file->pMethods == nullptr || file->pMethods->iVersion < 2) {
    return Status::FailedPrecondition("the database's VFS has no shared memory (not WAL mode?)");
  }
  volatile void* region = nullptr;
  const int rc = file->pMethods->xShmMap(file, 0, kRegionBytes, 0, &region);
  if (rc != SQLITE_OK) return Status::IOError("map the wal-index of " + db.path());
  if (region == nullptr) return std::optional<WalIndexHead>();
  const auto* shm = static_cast<const volatile unsigned char*>(region);
  for (int attempt = 0; attempt < 8; ++attempt) {
    // WalCkptInfo first (nBackfill at its start, nBackfillAttempted 32 bytes in), then the
    // header: a checkpoint never attempts past the mxFrame of its time, and mxFrame only
    // grows within a generation, so an attempt of this generation is at most the mxFrame read
    // after it.
    unsigned char done[4], begun[4];
    for (int i = 0; i < 4; ++i) {
      done[i] = shm[kCheckpointInfo + i];
      begun[i] = shm[kCheckpointInfo + 32 + i];
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    unsigned char first[kHeaderBytes], second[kHeaderBytes];
    // SQLite's writer updates copy 1 first, then copy 0; read 0 then 1 (walIndexTryHdr).
    for (int i = 0; i < kHeaderBytes; ++i)
      first[i] = shm[i];
    std::atomic_thread_fence(std::memory_order_acquire);
    for (int i = 0; i < kHeaderBytes; ++i)
      second[i] = shm[kHeaderBytes + i];
    if (std::memcmp(first, second, kHeaderBytes) != 0 || first[12] == 0) continue;  // isInit
    std::atomic_thread_fence(std::memory_order_acquire);
    bool moved = false;  // a checkpoint or a restart in between: the three do not match
    for (int i = 0; i < 4; ++i)
      moved |= done[i] != shm[kCheckpointInfo + i] || begun[i] != shm[kCheckpointInfo + 32 + i];
    if (moved) continue;
    WalIndexHead h;
    h.max_frame = Native32(first + 16);
    h.salt1 = BigEndian32(first + 32);
    h.salt2 = BigEndian32(first + 36);
    h.backfilled = Native32(done);
    // SQLite before 3.11 neither sets nBackfillAttempted nor clears it when it restarts the
    // WAL: a value a newer SQLite left there in an earlier generation. Past mxFrame it cannot
    // be this generation's.
    h.attempted = Native32(begun);
    h.copy_begun = std::max(h.backfilled, h.attempted <= h.max_frame ? h.attempted : 0);
    return std::optional<WalIndexHead>(h);
  }
  return std::optional<WalIndexHead>();
}

}  // namespace sqlift
