// RandomAccessFile: the small read-only file interface the WAL reader and the page store read
// through, so tests can give them a file in memory or one that fails on purpose.
//
// ReadAt returns fewer bytes than asked only at the end of the file. A file that does not
// exist reads as empty (a database in WAL mode has no -wal file between sessions).
//
// Thread safety: an implementation may be used from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/base/result.h"

namespace sqlift::wal {

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Up to n bytes at offset; fewer only where the file ends. IOError when the read fails.
  [[nodiscard]] virtual Result<std::string> ReadAt(uint64_t offset, size_t n) = 0;
  // `count` consecutive pieces of `piece` bytes from offset into *out (reusing its memory),
  // ending after the first short piece: what as many ReadAt calls would return, appended.
  // This reads them one by one; a file whose reads each cost a system call reads the run at
  // once (the WAL reader reads frames so).
  [[nodiscard]] virtual Status ReadRunInto(uint64_t offset, size_t piece, size_t count,
                                           std::string* out);
};

// The file at `path` as it is now at each read: a file truncated, replaced (deleted or renamed
// over, then created again) or removed since the last read is seen as it is now, and an
// absent file reads as empty. The file is kept open between reads and reopened only when the
// open one was unlinked (checked with fstat before each read) or, after a short read, when
// the path names another file.
std::unique_ptr<RandomAccessFile> OpenPathForReading(std::string path);

// A file held in memory (tests, and pages already read).
class StringFile : public RandomAccessFile {
 public:
  explicit StringFile(std::string bytes) : bytes_(std::move(bytes)) {}
  [[nodiscard]] Result<std::string> ReadAt(uint64_t offset, size_t n) override;
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace sqlift::wal
