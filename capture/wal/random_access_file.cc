#include "capture/wal/random_access_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace sqlift::wal {
namespace {

// The file at a path, kept open between reads. Before each read one fstat says whether the
// open file was unlinked (deleted, or renamed over by a new file); after a short read one stat
// of the path says whether the path now names another file. Either way it is reopened.
class PathFile : public RandomAccessFile {
 public:
  explicit PathFile(std::string path) : path_(std::move(path)) {}
  ~PathFile() override { Close(); }

  Result<std::string> ReadAt(uint64_t offset, size_t n) override {
    std::string out;
    SQLIFT_RETURN_IF_ERROR(ReadInto(offset, n, &out));
    return out;
  }

  Status ReadRunInto(uint64_t offset, size_t piece, size_t count, std::string* out) override {
    return ReadInto(offset, piece * count, out);
  }

 private:
  // *out keeps its bytes until ReadFully overwrites them: clearing it first would have every
  // run of frames zero-filled before it is read over.
  Status ReadInto(uint64_t offset, size_t n, std::string* out) {
    Result<bool> open = OpenCurrent();
    if (!open.ok() || !*open) {
      out->clear();
      return open.status();
    }
    SQLIFT_RETURN_IF_ERROR(ReadFully(offset, n, out));
    if (out->size() == n) return Status::OK();
    SQLIFT_ASSIGN_OR_RETURN(bool replaced, PathNamesAnotherFile());
    if (!replaced) return Status::OK();
    Close();
    out->clear();
    SQLIFT_ASSIGN_OR_RETURN(bool reopened, OpenCurrent());
    if (!reopened) return Status::OK();
    return ReadFully(offset, n, out);
  }

  // Opens the file the path names now, unless the open one is still it; false when absent.
  Result<bool> OpenCurrent() {
    if (fd_ >= 0) {
      struct stat st;
      if (::fstat(fd_, &st) != 0) return Error("fstat");
      if (st.st_nlink > 0) return true;
      Close();
    }
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      if (errno == ENOENT) return false;
      return Error("open");
    }
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Error("fstat");
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    return true;
  }

  // True when the path is absent or names a file other than the open one.
  Result<bool> PathNamesAnotherFile() {
    struct stat st;
    if (::stat(path_.c_str(), &st) != 0) {
      if (errno == ENOENT) return true;
      return Error("stat");
    }
    return st.st_dev != dev_ || st.st_ino != ino_;
  }

  // Into *out, whose memory is reused (a run of frames after another of the same size): it is
  // resized to n, which zero-fills only the bytes it grows by.
  Status ReadFully(uint64_t offset, size_t n, std::string* out) {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, out->data() + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        out->clear();
        return Error("read", offset + got);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    out->resize(got);
    return Status::OK();
  }

  // The failed call's errno, read before anything else can change it.
  Status Error(const char* call, std::optional<uint64_t> offset = std::nullopt) const {
    int error = errno;
    std::string at = offset ? fmt::format(" at {}", *offset) : "";
    return Status::IOError(fmt::format("{} {}{}: {}", call, path_, at, std::strerror(error)));
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string path_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace

std::unique_ptr<RandomAccessFile> OpenPathForReading(std::string path) {
  return std::make_unique<PathFile>(std::move(path));
}

Status RandomAccessFile::ReadRunInto(uint64_t offset, size_t piece, size_t count,
                                     std::string* out) {
  out->clear();
  for (size_t i = 0; i < count; ++i) {
    SQLIFT_ASSIGN_OR_RETURN(std::string part, ReadAt(offset + i * piece, piece));
    out->append(part);
    if (part.size() < piece) break;
  }
  return Status::OK();
}

Result<std::string> StringFile::ReadAt(uint64_t offset, size_t n) {
  if (offset >= bytes_.size()) return std::string();
  return bytes_.substr(static_cast<size_t>(offset), n);
}

}  // namespace sqlift::wal
