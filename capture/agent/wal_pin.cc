#include "capture/agent/wal_pin.h"

#include <sqlite3.h>

namespace sqlift {

Status KeepWalOnClose(SqliteDb& db) {
  int on = 0;
  if (sqlite3_db_config(db.handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &on) != SQLITE_OK ||
      on != 1) {
    return Status::FailedPrecondition("this SQLite library cannot keep the WAL on close");
  }
  return Status::OK();
}

Result<std::unique_ptr<WalPin>> WalPin::Open(const std::string& path) {
  std::unique_ptr<WalPin> pin(new WalPin());
  for (auto& conn : pin->conn_) {
    SQLIFT_ASSIGN_OR_RETURN(conn, SqliteDb::Open(path, SqliteDb::Mode::kReadOnly));
    SQLIFT_RETURN_IF_ERROR(KeepWalOnClose(*conn));
  }
  return pin;
}

WalPin::~WalPin() {
  End(0);
  End(1);
}

void WalPin::End(int i) {
  if (i < 0 || !open_[i]) return;
  (void)conn_[i]->Exec("ROLLBACK");  // a read transaction: nothing to lose
  open_[i] = false;
}

Status WalPin::BeginNext() {
  if (next_ >= 0) return Status::OK();
  const int i = held_ == 0 ? 1 : 0;
  SQLIFT_RETURN_IF_ERROR(conn_[i]->Exec("BEGIN"));
  open_[i] = true;
  // The first read fixes the snapshot (BEGIN alone takes none).
  Result<int64_t> read = conn_[i]->QueryInt64("SELECT count(*) FROM main.sqlite_schema");
  if (!read.ok()) {
    End(i);
    return read.status().With("hold the WAL for the capture agent");
  }
  if (held_ < 0) {
    held_ = i;
  } else {
    next_ = i;
  }
  return Status::OK();
}

void WalPin::ReleaseOlder() {
  if (next_ < 0) return;
  End(held_);
  held_ = next_;
  next_ = -1;
}

void WalPin::EndAll() {
  End(0);
  End(1);
  held_ = next_ = -1;
}

void WalPin::AbandonNext() {
  if (next_ < 0) return;
  End(next_);
  next_ = -1;
}

}  // namespace sqlift
