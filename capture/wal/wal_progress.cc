#include "capture/wal/wal_progress.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/base/parse.h"

namespace sqlift::wal {
namespace {

constexpr std::string_view kMagic = "sqlift-wal-progress";
constexpr std::string_view kVersion = "1";
constexpr size_t kMaxFileBytes = 4096;  // one short line; anything longer is not ours

Status Errno(std::string_view what, const std::string& path) {
  return Status::IOError(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write", path);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// The whole file (at most kMaxFileBytes + 1 bytes); nullopt when it does not exist.
Result<std::optional<std::string>> ReadSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Errno("open", path);
  }
  std::string out(kMaxFileBytes + 1, '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status st = Errno("read", path);
      ::close(fd);
      return st;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return std::optional<std::string>(std::move(out));
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    size_t space = line.find(' ');
    out.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return out;
}

Result<uint32_t> ParseSalt(std::string_view text, std::string_view what) {
  SQLIFT_ASSIGN_OR_RETURN(uint64_t v, ParseUint64(text, what));
  if (v > UINT32_MAX) return Status::InvalidArgument(fmt::format("{}: {} > 2^32-1", what, v));
  return static_cast<uint32_t>(v);
}

Result<WalProgress> ParseLine(std::string_view text) {
  if (text.size() > kMaxFileBytes) return Status::InvalidArgument("longer than one line");
  if (text.empty() || text.back() != '\n') return Status::InvalidArgument("no line end");
  text.remove_suffix(1);
  std::vector<std::string_view> w = Words(text);
  if (w.size() != 7 || w[0] != kMagic) {
    return Status::InvalidArgument(fmt::format("not a {} line", kMagic));
  }
  if (w[1] != kVersion) {
    return Status::InvalidArgument(
        fmt::format("version {} (this sqlift reads {})", w[1], kVersion));
  }
  WalProgress p;
  SQLIFT_ASSIGN_OR_RETURN(p.salt1, ParseSalt(w[2], "salt1"));
  SQLIFT_ASSIGN_OR_RETURN(p.salt2, ParseSalt(w[3], "salt2"));
  SQLIFT_ASSIGN_OR_RETURN(p.frames, ParseUint64(w[4], "frames"));
  SQLIFT_ASSIGN_OR_RETURN(p.logged_seq, ParseUint64(w[5], "logged_seq"));
  SQLIFT_ASSIGN_OR_RETURN(p.written_at_us, ParseInt64(w[6], "written_at_us"));
  return p;
}

}  // namespace

std::string WalProgressPath(const std::string& state_dir) {
  return state_dir + "/wal-progress";
}

Status WriteWalProgress(const std::string& path, const WalProgress& p) {
  const std::string line = fmt::format("{} {} {} {} {} {} {}\n", kMagic, kVersion, p.salt1, p.salt2,
                                       p.frames, p.logged_seq, p.written_at_us);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", tmp);
  Status st = WriteAll(fd, line, tmp);
  if (::close(fd) != 0 && st.ok()) st = Errno("close", tmp);
  if (st.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    st = Status::IOError(fmt::format("rename {} to {}: {}", tmp, path, std::strerror(errno)));
  }
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

Result<std::optional<WalProgress>> ReadWalProgress(const std::string& path) {
  SQLIFT_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadSmallFile(path));
  if (!text) return std::optional<WalProgress>();
  Result<WalProgress> p = ParseLine(*text);
  if (!p.ok()) {
    return Status::Corruption(fmt::format("WAL progress file {}: {}", path, p.status().message()));
  }
  return std::optional<WalProgress>(*p);
}

}  // namespace sqlift::wal
