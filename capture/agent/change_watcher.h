// ChangeWatcher: tells the capture agent when the application's database may have new
// commits, without a busy loop. It watches the database file and its -wal file with inotify
// and wakes the agent on a write; a poll timeout is the floor, for file systems where inotify
// sees nothing (network mounts) or when inotify cannot be had.
//
// Thread safety: Wait is called by one thread; Wake may be called from any thread or from a
// signal handler (it writes to an eventfd).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/base/result.h"

namespace sqlift {

class ChangeWatcher {
 public:
  // Never fails for want of inotify: it then only polls (and says so in the log).
  [[nodiscard]] static Result<std::unique_ptr<ChangeWatcher>> Open(const std::string& db_path);
  ~ChangeWatcher();
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

  enum class Event { kChanged, kTimeout, kWoken };

  // Waits until a watched file is written, `timeout` passes, or Wake() is called.
  [[nodiscard]] Result<Event> Wait(std::chrono::milliseconds timeout);

  // Makes the current or next Wait return kWoken (async-signal-safe).
  void Wake();

 private:
  ChangeWatcher(int inotify_fd, int wake_fd, std::string db_name)
      : inotify_fd_(inotify_fd), wake_fd_(wake_fd), db_name_(std::move(db_name)) {}

  int inotify_fd_;  // -1 when polling only
  int wake_fd_;     // eventfd
  std::string db_name_;
};

}  // namespace sqlift
