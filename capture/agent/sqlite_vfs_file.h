// SqliteVfsFile: the application's database file read through the file handle an SQLite
// connection of this process already has open (SQLITE_FCNTL_FILE_POINTER), never through a
// descriptor of our own.
//
// Why: SQLite's locks are POSIX advisory locks, which belong to the process and are all
// dropped when the process closes ANY descriptor of the file. A reader that opened and
// closed the database file itself would silently take away the locks of this process's
// SQLite connections, and another process's last close would then checkpoint and delete the
// WAL under the agent's pin. (The -wal file carries no lock; reading it directly is safe.)
//
// Ownership: borrows the connection, which must outlive it. Thread safety: that connection's.
#pragma once

#include <sqlite3.h>

#include "capture/wal/random_access_file.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {

class SqliteVfsFile final : public wal::RandomAccessFile {
 public:
  // The main database file of `db`.
  [[nodiscard]] static Result<std::unique_ptr<SqliteVfsFile>> Of(SqliteDb& db);
  [[nodiscard]] Result<std::string> ReadAt(uint64_t offset, size_t n) override;

 private:
  explicit SqliteVfsFile(sqlite3_file* file) : file_(file) {}
  sqlite3_file* file_;
};

}  // namespace sqlift
