// The descriptors ChangeWatcher and WalWatch wait on, handled once: an eventfd that wakes a
// wait, and an inotify descriptor on the database's directory whose events count when they
// name the database file or its -wal file.
//
// Thread safety: functions of their arguments; Wake may be called from any thread or a signal
// handler (it writes to an eventfd).
#pragma once

#include <chrono>
#include <string>

#include "common/base/result.h"

namespace sqlift::watch {

// A non-blocking, close-on-exec eventfd.
[[nodiscard]] Result<int> NewWakeFd();
// Makes the current or next Wait on `wake_fd` return kWoken (async-signal-safe).
void Wake(int wake_fd);

enum class Ready { kWoken, kTimeout, kInotify };
// Waits until `wake_fd` is written (its count is then read away), `inotify_fd` (-1: none) has
// events, or `timeout` passes. An interrupted poll counts as woken.
[[nodiscard]] Result<Ready> Wait(int wake_fd, int inotify_fd, std::chrono::milliseconds timeout);

// Reads every queued event of `inotify_fd`; whether one named `db_name` or `db_name`-wal.
bool DrainDbEvents(int inotify_fd, const std::string& db_name);

}  // namespace sqlift::watch
