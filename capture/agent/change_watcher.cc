#include "capture/agent/change_watcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "capture/agent/watch_fds.h"

namespace sqlift {

Result<std::unique_ptr<ChangeWatcher>> ChangeWatcher::Open(const std::string& db_path) {
  SQLIFT_ASSIGN_OR_RETURN(int wake, watch::NewWakeFd());
  std::filesystem::path path(db_path);
  std::string dir = path.has_parent_path() ? path.parent_path().string() : ".";
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  // Watch the directory, not the files: the -wal file comes and goes with checkpoints.
  if (fd >= 0 && inotify_add_watch(fd, dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
    spdlog::warn("inotify on {}: {}; falling back to polling", dir, std::strerror(errno));
    close(fd);
    fd = -1;
  } else if (fd < 0) {
    spdlog::warn("inotify: {}; falling back to polling", std::strerror(errno));
  }
  return std::unique_ptr<ChangeWatcher>(new ChangeWatcher(fd, wake, path.filename().string()));
}

ChangeWatcher::~ChangeWatcher() {
  if (inotify_fd_ >= 0) close(inotify_fd_);
  close(wake_fd_);
}

Result<ChangeWatcher::Event> ChangeWatcher::Wait(std::chrono::milliseconds timeout) {
  SQLIFT_ASSIGN_OR_RETURN(watch::Ready ready, watch::Wait(wake_fd_, inotify_fd_, timeout));
  if (ready == watch::Ready::kWoken) return Event::kWoken;
  if (ready == watch::Ready::kTimeout) return Event::kTimeout;
  return watch::DrainDbEvents(inotify_fd_, db_name_) ? Event::kChanged : Event::kTimeout;
}

void ChangeWatcher::Wake() {
  watch::Wake(wake_fd_);
}

}  // namespace sqlift
