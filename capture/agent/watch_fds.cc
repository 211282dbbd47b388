#include "capture/agent/watch_fds.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace sqlift::watch {

Result<int> NewWakeFd() {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Status::IOError(fmt::format("eventfd: {}", std::strerror(errno)));
  return fd;
}

void Wake(int wake_fd) {
  uint64_t one = 1;
  ssize_t n = write(wake_fd, &one, sizeof one);
  (void)n;  // a full eventfd counter already means "woken"
}

Result<Ready> Wait(int wake_fd, int inotify_fd, std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{wake_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
  int nfds = inotify_fd >= 0 ? 2 : 1;
  int rc = poll(fds, nfds, static_cast<int>(timeout.count()));
  if (rc < 0) {
    if (errno == EINTR) return Ready::kWoken;
    return Status::IOError(fmt::format("poll: {}", std::strerror(errno)));
  }
  if (fds[0].revents & POLLIN) {
    uint64_t v;
    while (read(wake_fd, &v, sizeof v) > 0) {
    }
    return Ready::kWoken;
  }
  return rc == 0 || nfds == 1 ? Ready::kTimeout : Ready::kInotify;
}

bool DrainDbEvents(int inotify_fd, const std::string& db_name) {
  const std::string wal = db_name + "-wal";
  bool changed = false;
  alignas(inotify_event) char buf[4096];
  ssize_t n;
  while ((n = read(inotify_fd, buf, sizeof buf)) > 0) {
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      if (ev->len > 0) {
        std::string_view name(ev->name);
        if (name == db_name || name == wal) changed = true;
      }
      p += sizeof(inotify_event) + ev->len;
    }
  }
  return changed;
}

}  // namespace sqlift::watch
