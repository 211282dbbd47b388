// WalSource: the committed transactions of the application's WAL in commit order, each with
// its row changes (capture/wal/row_changes.h) and the schema before and after it.
//
// It keeps the database as of its position: a page store over the database file plus every
// frame of the current WAL generation up to the position, and the page map of the decoder.
// The store is built at Open; the page map (one walk of every b-tree) when the first
// transaction is decoded, so that opening, and the snapshot waiting on it, does not pay for
// it. Both then move forward one transaction at a time.
//
// Generations. SQLite restarts the WAL (new salts, frames from the start of the file) once a
// checkpoint has copied every frame into the database file and no reader needs them. While
// the agent's pin (wal_pin.h) is held, that can only happen after the agent has decoded the
// whole generation, so a restart seen by a running source is a continuation: the database
// file is now exactly the state of the position, and decoding goes on in the new generation.
// A source opened at a saved position whose generation is gone cannot know what it missed:
// Open fails with a gap (DataLoss-like FailedPrecondition, `gap` set) and the caller repairs.
//
// Ownership: owns its files, store and decoder. Thread safety: none; the agent's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/agent/wal_schema.h"
#include "capture/wal/page_store.h"
#include "capture/wal/row_changes.h"
#include "capture/wal/wal_reader.h"
#include "common/sqlite/wal_index.h"

namespace sqlift {

// One decoded transaction. The pointers are valid during the callback only.
struct WalTxn {
  const wal::WalTransaction* raw = nullptr;
  std::vector<wal::RowChange> changes;
  const WalSchema* before = nullptr;
  const WalSchema* after = nullptr;  // == before unless the transaction changed the schema
  wal::WalPosition end;
};

// How a resuming source waits for a checkpoint another process is running.
struct CheckpointWait {
  std::chrono::milliseconds limit{std::chrono::seconds(60)};
  std::function<void()> on_wait;  // called as a wait begins, when set
};

class WalSource {
 public:
  // From `from` (a position this source reported before), or, when unset, from the WAL's
  // current end. *gap is set (and FailedPrecondition returned) when `from`'s generation is
  // no longer in the WAL.
  // `db_file` reads the database file (sqlite_vfs_file.h: never a descriptor of our own);
  // `published` reads what SQLite's readers count as committed (common/sqlite/wal_index.h):
  // frames past it are not decoded, whatever the -wal file holds.
  using PublishedFn = std::function<Result<std::optional<WalIndexHead>>()>;
  // `wait`: how a resuming source waits for another process's checkpoint (KeepFileImages).
  [[nodiscard]] static Result<std::unique_ptr<WalSource>> Open(
      const std::string& db_path, std::unique_ptr<wal::RandomAccessFile> db_file,
      PublishedFn published, const std::optional<wal::WalPosition>& from, bool* gap,
      CheckpointWait wait = {});

  // Decodes up to `max` committed transactions after the position and calls `fn` with each;
  // the position moves past each transaction `fn` accepts. Returns how many were accepted.
  // `pinned`: a pin no newer than the position has been held since the position was reached,
  // so a restarted WAL continues it; otherwise a restart is a gap (FailedPrecondition, *gap
  // set). After an error from the decoder or `fn`, the source must be reopened.
  [[nodiscard]] Result<size_t> Next(size_t max, bool pinned,
                                    const std::function<Status(const WalTxn&)>& fn, bool* gap);

  const wal::WalPosition& position() const { return position_; }
  const WalSchema& schema() const { return *schema_; }
  // The WAL's end as of the last Next: true when it had nothing more committed.
  bool at_end() const { return at_end_; }

 private:
  WalSource(std::string db_path, std::unique_ptr<wal::RandomAccessFile> db_file,
            PublishedFn published);
  // How many of `scan`'s transactions are published (the rest are waited on).
  [[nodiscard]] Result<size_t> Published(const wal::WalScan& scan);
  [[nodiscard]] Status Build(const std::optional<wal::WalPosition>& from, bool* gap);
  [[nodiscard]] Status Restarted(const wal::WalScan& scan);
  // The decoder and its page map, from the database as of the position.
  [[nodiscard]] Status MakeDecoder(const wal::DecodeContext& at_position);
  // Takes t's pages into the store once `fn` accepted it.
  [[nodiscard]] Status DecodeOne(wal::WalTransaction& t,
                                 const std::function<Status(const WalTxn&)>& fn);
  [[nodiscard]] Status ResetStore(uint32_t page_size, uint32_t page_count);
  // Resuming: the pages whose image at the position only the database file holds are read
  // before a checkpoint can overwrite them, or a gap if one already may have.
  // `stale`: the nBackfillAttempted the saved position found already stale (wal_index.h).
  [[nodiscard]] Status KeepFileImages(const wal::WalScan& scan, uint32_t stale, bool* gap);
  // Frames of the scanned generation a checkpoint may have copied into the database file
  // (an nBackfillAttempted equal to `stale` not counted).
  [[nodiscard]] Result<uint64_t> CopiedFrames(const wal::WalScan& scan, uint32_t stale);
  [[nodiscard]] Status NoteStaleAttempt(const wal::WalHeader& generation, uint64_t start);
  // Waits (bounded) while another process holds the checkpoint lock.
  [[nodiscard]] Status WaitForCheckpoint();

  std::string db_path_;
  std::unique_ptr<wal::RandomAccessFile> wal_file_;
  std::unique_ptr<wal::RandomAccessFile> db_file_;
  PublishedFn published_;
  CheckpointWait wait_;
  std::unique_ptr<wal::PageStore> store_;
  std::unique_ptr<wal::RowChangeDecoder> decoder_;  // null until the first transaction
  std::unique_ptr<WalSchema> schema_;
  const WalSchema* key_schema_ = nullptr;  // what the decoder's KeyFieldsFn asks
  wal::WalPosition position_;
  bool started_ = false;  // position_ names a generation (false: none seen yet)
  bool at_end_ = false;
  std::optional<WalIndexHead> last_head_;  // of this generation, read by the last look
  uint32_t stale_attempt_ = 0;             // see WalPosition::stale_attempt
};

// A position as text (for the log's meta), and back.
std::string EncodeWalPosition(const wal::WalPosition& p);
[[nodiscard]] Result<wal::WalPosition> DecodeWalPosition(std::string_view text);

}  // namespace sqlift
