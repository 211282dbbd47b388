// WalCheckpointer: copies the WAL into the database file on a thread of its own, when the wal
// agent asks, so that the copy's reads, writes and syncs are never on the path of the agent's
// drains (a switch waits for a drain to log its fence).
//
// The copy is SQLite's PASSIVE checkpoint on a connection of its own: it never waits for
// readers or writers and never holds them off; it copies the frames no reader's snapshot
// still needs, which is at most up to the agent's pin (wal_pin.h), so never a frame the
// agent has not logged. Requests made while a copy runs are merged into one more copy.
// `copied` is called on the checkpointer's thread after each copy that ran (the agent wakes
// itself to look whether the whole WAL is copied: wal_agent_pin.cc).
//
// Ownership: owns its connection and thread; the destructor stops and joins the thread.
// Thread safety: Request may be called from any thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {

class WalCheckpointer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<WalCheckpointer>> Open(const std::string& path,
                                                                     std::function<void()> copied);
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  void Request();

 private:
  WalCheckpointer(std::unique_ptr<SqliteDb> db, std::function<void()> copied);
  void Loop();

  std::unique_ptr<SqliteDb> db_;
  std::function<void()> copied_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;  // guarded by mu_
  bool stop_ = false;       // guarded by mu_
  std::thread thread_;
};

}  // namespace sqlift
