// Whether another process holds SQLite's checkpoint lock on a WAL database. The unix VFS takes
// it as a POSIX write lock on byte 121 of the -shm file (UNIX_SHM_BASE 120 + WAL_CKPT_LOCK 1,
// os_unix.c and wal.c) for as long as a checkpoint copies frames into the database file (and
// during a wal-index recovery). SQLite before 3.11 keeps no other trace of a checkpoint under
// way: its nBackfill moves only once the copy is done (wal_index.h).
//
// The lock is asked about (F_GETLK) through a descriptor this process already has on the -shm
// file, a connection's: opening one of our own and closing it would drop every POSIX lock this
// process's connections hold on the file. A lock of this process's own is never reported.
//
// Thread safety: any thread, while a connection of this process has the database's wal-index
// open.
#pragma once

#include <string>

#include "common/base/result.h"

namespace sqlift {

inline constexpr int kCheckpointLockByte = 121;

// True when another process holds the checkpoint lock of the WAL database at `db_path` (the
// -shm file beside it) exclusively. FailedPrecondition when no descriptor of this process is
// open on that -shm file.
[[nodiscard]] Result<bool> CheckpointLockHeld(const std::string& db_path);

}  // namespace sqlift
