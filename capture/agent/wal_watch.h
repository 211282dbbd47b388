// WalWatch: how the wal capture agent waits for the application's next commit. Like
// ChangeWatcher (inotify on the database's directory for writes to the database and its -wal
// file, a poll timeout as the floor, an eventfd to wake it), but the inotify watch exists only
// while the agent is armed, that is idle: while a watch exists, every write the application
// makes to its -wal file queues an event in the kernel, in the application's own write path,
// a cost the agent does not need while it drains on a schedule of its own (wal_agent.h).
//
// Thread safety: one thread calls Arm, Disarm and Wait; Wake may be called from any thread or a
// signal handler (it writes to an eventfd).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/base/result.h"

namespace sqlift {

class WalWatch {
 public:
  // Disarmed. Never fails for want of inotify: Wait then only polls (and says so in the log).
  [[nodiscard]] static Result<std::unique_ptr<WalWatch>> Open(const std::string& db_path);
  ~WalWatch();
  WalWatch(const WalWatch&) = delete;
  WalWatch& operator=(const WalWatch&) = delete;

  // Adds the watch; true when it did (false when armed already or inotify cannot be had).
  // Writes from before it are not reported: look for commits once more after arming.
  bool Arm();
  // Removes the watch and forgets the events it queued.
  void Disarm();
  bool armed() const { return watch_ >= 0; }

  enum class Event { kChanged, kTimeout, kWoken };
  // Waits until a watched file is written (when armed), `timeout` passes, or Wake() is called.
  [[nodiscard]] Result<Event> Wait(std::chrono::milliseconds timeout);
  // Makes the current or next Wait return kWoken (async-signal-safe).
  void Wake();

 private:
  WalWatch(int inotify_fd, int wake_fd, std::string dir, std::string db_name);

  int inotify_fd_;  // -1 when polling only
  int wake_fd_;     // eventfd
  int watch_ = -1;  // the watch descriptor while armed
  std::string dir_;
  std::string db_name_;
};

}  // namespace sqlift
