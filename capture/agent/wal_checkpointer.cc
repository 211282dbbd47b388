#include "capture/agent/wal_checkpointer.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <chrono>
#include <utility>

#include "capture/agent/wal_pin.h"

namespace sqlift {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Open(const std::string& path,
                                                               std::function<void()> copied) {
  SQLIFT_ASSIGN_OR_RETURN(
      std::unique_ptr<SqliteDb> db,
      SqliteDb::Open(path, SqliteDb::Mode::kReadWrite, std::chrono::milliseconds(0)));
  SQLIFT_RETURN_IF_ERROR(KeepWalOnClose(*db));
  // A connection checkpoints only once it has opened the WAL, which its first read does.
  SQLIFT_RETURN_IF_ERROR(db->QueryInt64("SELECT count(*) FROM main.sqlite_schema").status());
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(db), std::move(copied)));
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<SqliteDb> db, std::function<void()> copied)
    : db_(std::move(db)), copied_(std::move(copied)), thread_([this] { Loop(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void WalCheckpointer::Request() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requested_ = true;
  }
  cv_.notify_one();
}

void WalCheckpointer::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return requested_ || stop_; });
      if (stop_) return;
      requested_ = false;
    }
    int wal_frames = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                             &wal_frames, &copied);
    // SQLITE_BUSY: another checkpoint (the application's) is running; it copies the same.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("capture: checkpoint of the WAL: {}", sqlite3_errmsg(db_->handle()));
    }
    if (copied_) copied_();
  }
}

}  // namespace sqlift
