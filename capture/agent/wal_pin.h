// WalPin: keeps the WAL frames the agent has not decoded yet from being checkpointed away,
// without stopping the application's own checkpoints.
//
// SQLite's checkpoint copies WAL frames into the database file only up to the oldest
// snapshot a reader still uses, and restarts the WAL (overwriting it from the start) only
// once no reader needs any of it. A read transaction held open is therefore a pin: frames
// after its snapshot stay in the WAL. The pin must never be newer than what the agent has
// logged, and it must keep moving, or the WAL grows without bound. So there are two
// connections: BeginNext opens a read transaction on the spare one (its snapshot is at most
// the WAL's end the agent is about to read to), and once everything up to that end is in the
// log (synced), ReleaseOlder ends the old pin. At every moment some read transaction no
// newer than the logged position is open.
//
// An application's wal_checkpoint(RESTART or TRUNCATE) waits for readers, so it waits on the
// agent: it can complete once the agent is caught up (the pin then reads from the database
// file only), and otherwise fails with SQLITE_BUSY after the caller's busy timeout. The agent
// restarts the WAL itself (wal_agent_pin.cc) with EndAll and BeginNext while it holds
// writers off.
//
// Ownership: owns its two read-only connections. Thread safety: none; the agent's thread.
#pragma once

#include <memory>
#include <string>

#include "common/base/result.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {

// Makes `db`'s close leave the WAL as it is: without this, the agent's connection, when it is
// the last one to close, would checkpoint and delete the WAL, and the next start would have
// to treat the WAL it finds as a gap.
[[nodiscard]] Status KeepWalOnClose(SqliteDb& db);

class WalPin {
 public:
  [[nodiscard]] static Result<std::unique_ptr<WalPin>> Open(const std::string& path);
  ~WalPin();

  // Opens a read transaction at the latest commit on the spare connection; the older pin,
  // if any, stays. A second call without ReleaseOlder/AbandonNext in between is a no-op.
  [[nodiscard]] Status BeginNext();
  // The newest read transaction becomes the pin; the older one ends.
  void ReleaseOlder();
  // Ends the newest read transaction and keeps the older pin (the drain did not reach the
  // end it was opened for). With no older pin, the newest one stays as the pin.
  void AbandonNext();
  // Ends both read transactions: no pin at all (only while writers are held off and every
  // committed frame is logged); BeginNext pins again.
  void EndAll();

 private:
  WalPin() = default;
  void End(int i);

  std::unique_ptr<SqliteDb> conn_[2];
  bool open_[2] = {false, false};
  int held_ = -1;  // the pin's connection
  int next_ = -1;  // a newer read transaction, not yet the pin
};

}  // namespace sqlift
