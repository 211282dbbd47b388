#include "common/sqlite/shm_lock.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace sqlift {
namespace {

// A descriptor of this process open on the file with `st`'s device and inode, or -1.
int FindOpenDescriptor(const struct stat& st) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc/self/fd"), closedir);
  if (!dir) return -1;
  while (const dirent* e = readdir(dir.get())) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(dir.get())) continue;
    struct stat open {};
    if (fstat(static_cast<int>(fd), &open) == 0 && open.st_dev == st.st_dev &&
        open.st_ino == st.st_ino) {
      return static_cast<int>(fd);
    }
  }
  return -1;
}

}  // namespace

Result<bool> CheckpointLockHeld(const std::string& db_path) {
  const std::string shm = db_path + "-shm";
  struct stat st {};
  if (stat(shm.c_str(), &st) != 0) {
    return Status::IOError(fmt::format("stat {}: {}", shm, std::strerror(errno)));
  }
  const int fd = FindOpenDescriptor(st);
  if (fd < 0) {
    return Status::FailedPrecondition(fmt::format(
        "no connection of this process has {} open: its locks cannot be asked about", shm));
  }
  struct flock probe {};
  probe.l_type = F_RDLCK;  // conflicts with an exclusive holder only
  probe.l_whence = SEEK_SET;
  probe.l_start = kCheckpointLockByte;
  probe.l_len = 1;
  if (fcntl(fd, F_GETLK, &probe) != 0) {
    return Status::IOError(fmt::format("F_GETLK on {}: {}", shm, std::strerror(errno)));
  }
  return probe.l_type != F_UNLCK;
}

}  // namespace sqlift
