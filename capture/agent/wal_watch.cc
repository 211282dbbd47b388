#include "capture/agent/wal_watch.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "capture/agent/watch_fds.h"

namespace sqlift {

Result<std::unique_ptr<WalWatch>> WalWatch::Open(const std::string& db_path) {
  SQLIFT_ASSIGN_OR_RETURN(int wake, watch::NewWakeFd());
  std::filesystem::path path(db_path);
  std::string dir = path.has_parent_path() ? path.parent_path().string() : ".";
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) spdlog::warn("inotify: {}; falling back to polling", std::strerror(errno));
  return std::unique_ptr<WalWatch>(new WalWatch(fd, wake, dir, path.filename().string()));
}

WalWatch::WalWatch(int inotify_fd, int wake_fd, std::string dir, std::string db_name)
    : inotify_fd_(inotify_fd),
      wake_fd_(wake_fd),
      dir_(std::move(dir)),
      db_name_(std::move(db_name)) {}

WalWatch::~WalWatch() {
  if (inotify_fd_ >= 0) close(inotify_fd_);
  close(wake_fd_);
}

bool WalWatch::Arm() {
  if (inotify_fd_ < 0 || watch_ >= 0) return false;
  // The directory, not the files: the -wal file comes and goes with checkpoints.
  watch_ = inotify_add_watch(inotify_fd_, dir_.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO);
  if (watch_ >= 0) return true;
  spdlog::warn("inotify on {}: {}; falling back to polling", dir_, std::strerror(errno));
  close(inotify_fd_);
  inotify_fd_ = -1;
  return false;
}

void WalWatch::Disarm() {
  if (watch_ < 0) return;
  inotify_rm_watch(inotify_fd_, watch_);
  watch_ = -1;
  watch::DrainDbEvents(inotify_fd_, db_name_);
}

Result<WalWatch::Event> WalWatch::Wait(std::chrono::milliseconds timeout) {
  SQLIFT_ASSIGN_OR_RETURN(watch::Ready ready,
                          watch::Wait(wake_fd_, watch_ >= 0 ? inotify_fd_ : -1, timeout));
  if (ready == watch::Ready::kWoken) return Event::kWoken;
  if (ready == watch::Ready::kTimeout) return Event::kTimeout;
  return watch::DrainDbEvents(inotify_fd_, db_name_) ? Event::kChanged : Event::kTimeout;
}

void WalWatch::Wake() {
  watch::Wake(wake_fd_);
}

}  // namespace sqlift
