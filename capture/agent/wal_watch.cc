#include "capture/agent/wal_watch.h"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sqlift {

Result<std::unique_ptr<WalWatch>> WalWatch::Open(const std::string& db_path) {
  int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) return Status::IOError(fmt::format("eventfd: {}", std::strerror(errno)));
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
  DrainEvents();
}

bool WalWatch::Relevant(const char* name) const {
  std::string_view n(name);
  return n == db_name_ || n == db_name_ + "-wal";
}

bool WalWatch::DrainEvents() {
  bool changed = false;
  alignas(inotify_event) char buf[4096];
  ssize_t n;
  while ((n = read(inotify_fd_, buf, sizeof buf)) > 0) {
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      if (ev->len > 0 && Relevant(ev->name)) changed = true;
      p += sizeof(inotify_event) + ev->len;
    }
  }
  return changed;
}

Result<WalWatch::Event> WalWatch::Wait(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  int nfds = watch_ >= 0 ? 2 : 1;
  int rc = poll(fds, nfds, static_cast<int>(timeout.count()));
  if (rc < 0) {
    if (errno == EINTR) return Event::kWoken;
    return Status::IOError(fmt::format("poll: {}", std::strerror(errno)));
  }
  if (fds[0].revents & POLLIN) {
    uint64_t v;
    while (read(wake_fd_, &v, sizeof v) > 0) {
    }
    return Event::kWoken;
  }
  if (rc == 0 || nfds == 1) return Event::kTimeout;
  return DrainEvents() ? Event::kChanged : Event::kTimeout;
}

void WalWatch::Wake() {
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof one);
  (void)n;  // a full eventfd counter already means "woken"
}

}  // namespace sqlift
