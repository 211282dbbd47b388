#include "capture/wal/random_access_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sqlift::wal {
namespace {

class PathFile : public RandomAccessFile {
 public:
  explicit PathFile(std::string path) : path_(std::move(path)) {}

  Result<std::string> ReadAt(uint64_t offset, size_t n) override {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return std::string();
      return Status::IOError(fmt::format("open {}: {}", path_, std::strerror(errno)));
    }
    Result<std::string> out = ReadFully(fd, offset, n);
    ::close(fd);
    return out;
  }

 private:
  Result<std::string> ReadFully(int fd, uint64_t offset, size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        return Status::IOError(
            fmt::format("read {} at {}: {}", path_, offset + got, std::strerror(errno)));
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    out.resize(got);
    return out;
  }

  std::string path_;
};

}  // namespace

std::unique_ptr<RandomAccessFile> OpenPathForReading(std::string path) {
  return std::make_unique<PathFile>(std::move(path));
}

Result<std::string> StringFile::ReadAt(uint64_t offset, size_t n) {
  if (offset >= bytes_.size()) return std::string();
  return bytes_.substr(static_cast<size_t>(offset), n);
}

}  // namespace sqlift::wal
