// What SQLite's own readers count as committed in a WAL database: the header of the
// wal-index (the -shm file, https://www.sqlite.org/walformat.html#the_wal_index_file_format),
// read through the shared-memory mapping of a connection of this process.
//
// A commit frame can be in the -wal file without being committed: a writer killed after
// writing its last frame but before publishing it in the wal-index never got its COMMIT
// acknowledged, no reader sees the transaction, and the next writer overwrites those frames.
// Only frames up to the wal-index's mxFrame, for the WAL generation whose salts it names,
// are committed as long as the database is open.
//
// Read through the connection's own mapping (the VFS's xShmMap), never by opening the -shm
// file: SQLite's locks on it are POSIX locks, which closing any descriptor of the file drops.
//
// Thread safety: the connection's.
#pragma once

#include <cstdint>
#include <optional>

#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {

struct WalIndexHead {
  uint32_t max_frame = 0;  // frames of the current generation that are committed
  uint32_t salt1 = 0;      // the generation's salts, as the -wal header spells them
  uint32_t salt2 = 0;
  // Frames of the generation a checkpoint has copied into the database file (nBackfill).
  uint32_t backfilled = 0;
  // nBackfillAttempted as it is (see copy_begun).
  uint32_t attempted = 0;
  // Frames a checkpoint has copied or begun to copy (the larger of the two): the database
  // file may hold pages newer than any position before it. SQLite before 3.11 keeps no
  // nBackfillAttempted, and when it restarts the WAL it leaves the one a newer SQLite set in
  // an earlier generation in place: past max_frame it is ignored; below, only its reader can
  // tell (wal_source.h). A checkpoint such a writer is running shows only in its lock
  // (CheckpointLockHeld, shm_lock.h).
  uint32_t copy_begun = 0;
};

// The wal-index header as `db` (a connection in WAL mode) maps it; nullopt when there is no
// wal-index yet, or its two copies did not agree in a few tries (a writer publishing at that
// moment: ask again).
[[nodiscard]] Result<std::optional<WalIndexHead>> ReadWalIndexHead(SqliteDb& db);

}  // namespace sqlift
