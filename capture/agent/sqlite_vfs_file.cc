#include "capture/agent/sqlite_vfs_file.h"

#include <fmt/format.h>

namespace sqlift {

Result<std::unique_ptr<SqliteVfsFile>> SqliteVfsFile::Of(SqliteDb& db) {
  sqlite3_file* file = nullptr;
  int rc = sqlite3_file_control(db.handle(), "main", SQLITE_FCNTL_FILE_POINTER, &file);
  if (rc != SQLITE_OK || file == nullptr || file->pMethods == nullptr) {
    return Status::Internal(fmt::format("no file handle for {}", db.path()));
  }
  return std::unique_ptr<SqliteVfsFile>(new SqliteVfsFile(file));
}

Result<std::string> SqliteVfsFile::ReadAt(uint64_t offset, size_t n) {
  sqlite3_int64 size = 0;
  if (file_->pMethods->xFileSize(file_, &size) != SQLITE_OK) {
    return Status::IOError("size of the database file");
  }
  const auto end = static_cast<uint64_t>(size);
  if (offset >= end) return std::string();
  std::string out(static_cast<size_t>(std::min<uint64_t>(n, end - offset)), '\0');
  const int rc = file_->pMethods->xRead(file_, out.data(), static_cast<int>(out.size()),
                                        static_cast<sqlite3_int64>(offset));
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) {
    return Status::IOError(
        fmt::format("read {} bytes of the database file at {}", out.size(), offset));
  }
  return out;
}

}  // namespace sqlift
