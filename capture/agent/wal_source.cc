#include "capture/agent/wal_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <thread>

#include "capture/wal/bytes.h"
#include "capture/wal/db_header.h"
#include "common/base/backoff.h"
#include "common/base/parse.h"
#include "common/sqlite/shm_lock.h"

namespace sqlift {
namespace {

constexpr auto kCheckpointPoll = std::chrono::milliseconds(50);

using wal::WalContinuity;
using wal::WalPosition;

// The page size the database file's header gives (used when the WAL has no header to say).
Result<uint32_t> FilePageSize(wal::RandomAccessFile& db_file) {
  SQLIFT_ASSIGN_OR_RETURN(std::string header, db_file.ReadAt(0, wal::kDatabaseHeaderSize));
  if (header.size() < wal::kDatabaseHeaderSize) {
    return Status::FailedPrecondition("the database file is empty: nothing to capture yet");
  }
  const uint32_t raw = wal::Get16(header, 16);
  return raw == 1 ? 65536u : raw;
}

}  // namespace

std::string EncodeWalPosition(const WalPosition& p) {
  const wal::WalHeader& h = p.header;
  std::string text = fmt::format("wal1 {} {} {} {} {} {} {} {} {} {} {}", h.magic, h.version,
                                 h.page_size, h.checkpoint_seq, h.salt1, h.salt2, h.checksum.s0,
                                 h.checksum.s1, p.frames, p.checksum.s0, p.checksum.s1);
  if (p.stale_attempt != 0) text += fmt::format(" {}", p.stale_attempt);  // 11 numbers before it
  return text;
}

Result<WalPosition> DecodeWalPosition(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string tag;
  std::vector<uint64_t> n;
  in >> tag;
  for (std::string word; in >> word;) {
    SQLIFT_ASSIGN_OR_RETURN(uint64_t v, ParseUint64(word, "WAL position"));
    n.push_back(v);
  }
  if (tag != "wal1" || (n.size() != 11 && n.size() != 12)) {
    return Status::Corruption(fmt::format("stored WAL position '{}' is not readable", text));
  }
  auto u32 = [&](size_t i) { return static_cast<uint32_t>(n[i]); };
  WalPosition p;
  p.header = {u32(0), u32(1), u32(2), u32(3), u32(4), u32(5), {u32(6), u32(7)}};
  p.frames = n[8];
  p.checksum = {u32(9), u32(10)};
  if (n.size() == 12) p.stale_attempt = u32(11);
  return p;
}

WalSource::WalSource(std::string db_path, std::unique_ptr<wal::RandomAccessFile> db_file,
                     PublishedFn published)
    : db_path_(std::move(db_path)),
      wal_file_(wal::OpenPathForReading(db_path_ + "-wal")),
      db_file_(std::move(db_file)),
      published_(std::move(published)) {}

Result<std::unique_ptr<WalSource>> WalSource::Open(const std::string& db_path,
                                                   std::unique_ptr<wal::RandomAccessFile> db_file,
                                                   PublishedFn published,
                                                   const std::optional<WalPosition>& from,
                                                   bool* gap, CheckpointWait wait) {
  *gap = false;
  std::unique_ptr<WalSource> source(
      new WalSource(db_path, std::move(db_file), std::move(published)));
  source->wait_ = std::move(wait);
  SQLIFT_RETURN_IF_ERROR(source->Build(from, gap));
  return source;
}

Status WalSource::ResetStore(uint32_t page_size, uint32_t page_count) {
  store_ = std::make_unique<wal::PageStore>(*db_file_, page_size, page_count);
  return Status::OK();
}

// Builds the store at `from` (or at the WAL's end) from the file and every frame before it.
Status WalSource::Build(const std::optional<WalPosition>& from, bool* gap) {
  SQLIFT_ASSIGN_OR_RETURN(wal::WalScan scan, wal::ScanWal(*wal_file_, std::nullopt));
  const bool has_log = scan.continuity != WalContinuity::kNoLog;
  const bool resumes = from && from->header.magic != 0;
  if (resumes && (!has_log || !scan.next.header.SameGeneration(from->header))) {
    *gap = true;
    return Status::FailedPrecondition(fmt::format(
        "the WAL was checkpointed and restarted while the agent was stopped: the transactions "
        "after WAL frame {} of the generation it last read (checkpoint {}, salts {:08x}/{:08x}) "
        "are gone (the WAL now: {})",
        from->frames, from->header.checkpoint_seq, from->header.salt1, from->header.salt2,
        has_log ? fmt::format("checkpoint {}, salts {:08x}/{:08x}, {} committed frames",
                              scan.next.header.checkpoint_seq, scan.next.header.salt1,
                              scan.next.header.salt2, scan.next.frames)
                : std::string("none")));
  }
  if (from && !resumes) {
    // The agent last saw no WAL at all. Whatever was committed since may have been
    // checkpointed into the database file and the WAL deleted with the last connection: in WAL
    // mode nothing in the file counts commits, so that cannot be told from "nothing happened".
    *gap = true;
    return Status::FailedPrecondition(
        "the agent was stopped while the database had no WAL: what was committed in between "
        "cannot be told from the WAL");
  }
  uint32_t page_size = 0;
  if (has_log) {
    page_size = scan.next.header.page_size;
  } else {
    SQLIFT_ASSIGN_OR_RETURN(page_size, FilePageSize(*db_file_));
  }
  SQLIFT_ASSIGN_OR_RETURN(wal::PageStore store,
                          wal::PageStore::ForDatabaseFile(*db_file_, page_size));
  store_ = std::make_unique<wal::PageStore>(std::move(store));
  position_ = scan.next;
  started_ = has_log;
  SQLIFT_ASSIGN_OR_RETURN(size_t published, Published(scan));
  if (published < scan.transactions.size()) {
    position_ = WalPosition{scan.next.header, 0, scan.next.header.checksum};
    if (published > 0) position_ = scan.transactions[published - 1].end;
  }
  // Resuming, the position is rebuilt from the generation's start (a saved position may be
  // one with no commit yet: a generation just begun).
  if (resumes) position_ = WalPosition{scan.next.header, 0, scan.next.header.checksum};
  for (size_t i = 0; i < published; ++i) {
    const wal::WalTransaction& t = scan.transactions[i];
    if (resumes && t.end.frames > from->frames) break;
    store_->Apply(t);
    position_ = t.end;
  }
  if (resumes && (position_.frames != from->frames || !(position_.checksum == from->checksum))) {
    *gap = true;
    return Status::FailedPrecondition(fmt::format(
        "the saved WAL position (frame {}) is not a commit of the WAL as it is now", from->frames));
  }
  if (resumes) {
    SQLIFT_RETURN_IF_ERROR(KeepFileImages(scan, from->stale_attempt, gap));
    if (last_head_ && last_head_->attempted == from->stale_attempt) {
      stale_attempt_ = position_.stale_attempt = from->stale_attempt;  // still there
    }
  } else if (has_log) {
    // The pin was taken before the position was read: no checkpoint attempted past it.
    SQLIFT_RETURN_IF_ERROR(NoteStaleAttempt(scan.next.header, position_.frames));
  }
  SQLIFT_ASSIGN_OR_RETURN(wal::DecodeContext ctx, store_->Context());
  SQLIFT_ASSIGN_OR_RETURN(schema_, WalSchema::Load(ctx));
  key_schema_ = schema_.get();
  return Status::OK();  // the decoder (a walk of every b-tree) waits for a first transaction
}

// A resumed store reads from the database file every page no frame up to the position wrote.
// A checkpoint past the position copies later images of such pages into the file, and their
// images at the position are then gone: the application's, while the agent was stopped, or
// one up to the pin the agent took at the WAL's end when it started (newer than the
// position). So: a gap if a checkpoint has already reached one of those pages; otherwise they
// are read into the store now (a checkpoint cannot pass the pin, at most the scanned end), and
// looked at again in case a checkpoint ran meanwhile. A database that shrank after the
// position counts the pages past its smallest size too: a checkpoint truncates the file.
// Each look first waits for a checkpoint another process is running: a writer before SQLite
// 3.11 moves its counter only once the copy is done, and sets no nBackfillAttempted.
Status WalSource::KeepFileImages(const wal::WalScan& scan, uint32_t stale, bool* gap) {
  if (!published_) return Status::OK();
  const uint64_t at = position_.frames;
  const uint32_t size_at = store_->page_count();
  auto exposed = [&](uint64_t upto) {  // such pages that frames [at, upto) write or drop
    std::vector<uint32_t> pages;
    uint32_t smallest = size_at;
    for (const wal::WalTransaction& t : scan.transactions) {
      if (t.end.frames <= at || t.frames.empty() || t.frames.front().index >= upto) continue;
      for (const wal::WalFrame& f : t.frames) {
        if (f.index < upto && f.page_number <= size_at && !store_->FromFrames(f.page_number))
          pages.push_back(f.page_number);
      }
      smallest = std::min(smallest, t.db_size_pages);
    }
    for (uint32_t p = smallest + 1; p <= size_at; ++p)
      if (!store_->FromFrames(p)) pages.push_back(p);
    std::sort(pages.begin(), pages.end());
    pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
    return pages;
  };
  auto gone = [&](uint64_t copied, size_t pages) {
    *gap = true;
    return Status::FailedPrecondition(fmt::format(
        "a checkpoint copied WAL frames the agent had not read into the database file (up to "
        "frame {}, past its position at frame {}): the earlier images of {} page(s) are gone",
        copied, at, pages));
  };
  SQLIFT_RETURN_IF_ERROR(WaitForCheckpoint());
  SQLIFT_ASSIGN_OR_RETURN(uint64_t copied, CopiedFrames(scan, stale));
  if (copied > at) {
    if (const size_t n = exposed(copied).size(); n > 0) return gone(copied, n);
  }
  for (uint32_t page : exposed(UINT64_MAX))
    SQLIFT_RETURN_IF_ERROR(store_->Get(page).status());
  SQLIFT_RETURN_IF_ERROR(WaitForCheckpoint());
  SQLIFT_ASSIGN_OR_RETURN(copied, CopiedFrames(scan, stale));
  if (copied > at) {
    if (const size_t n = exposed(copied).size(); n > 0) return gone(copied, n);
  }
  return Status::OK();
}

Result<uint64_t> WalSource::CopiedFrames(const wal::WalScan& scan, uint32_t stale) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    SQLIFT_ASSIGN_OR_RETURN(std::optional<WalIndexHead> head, published_());
    if (!head) continue;  // being written
    if (head->salt1 != scan.next.header.salt1 || head->salt2 != scan.next.header.salt2) {
      return UINT64_MAX;  // restarted since the scan: every frame of it was copied
    }
    last_head_ = head;
    if (head->attempted == stale && stale > head->backfilled) return head->backfilled;
    return head->copy_begun;
  }
  return Status::Unavailable("the wal-index header stayed unreadable");
}

// No checkpoint can have attempted past `start` (the agent's pin or the WAL's end as it
// started was no newer): a larger nBackfillAttempted is one an old writer left from an
// earlier generation (wal_index.h), kept with the position so that a resumed source tells it
// from a checkpoint run while the agent was stopped.
Status WalSource::NoteStaleAttempt(const wal::WalHeader& generation, uint64_t start) {
  if (!published_) return Status::OK();
  if (!last_head_) {
    SQLIFT_ASSIGN_OR_RETURN(std::optional<WalIndexHead> head, published_());
    if (!head || head->salt1 != generation.salt1 || head->salt2 != generation.salt2) {
      return Status::OK();  // being written, or another generation: looked at next time
    }
    last_head_ = head;
  }
  stale_attempt_ = last_head_->attempted > start ? last_head_->attempted : 0;
  position_.stale_attempt = stale_attempt_;
  return Status::OK();
}

// A checkpoint another process is running shows in its lock alone with SQLite before 3.11
// (shm_lock.h): waited for, so that the counters read next include what it copied.
Status WalSource::WaitForCheckpoint() {
  const auto until = std::chrono::steady_clock::now() + wait_.limit;
  Backoff pause(std::chrono::milliseconds(1), kCheckpointPoll);
  for (bool waiting = false;; waiting = true) {
    SQLIFT_ASSIGN_OR_RETURN(bool held, CheckpointLockHeld(db_path_));
    if (!held) return Status::OK();
    if (std::chrono::steady_clock::now() >= until) {
      return Status::Unavailable(fmt::format(
          "another process has held the checkpoint lock of {} for {} ms: what its checkpoint "
          "copied into the database file cannot be known before it ends",
          db_path_, wait_.limit.count()));
    }
    if (!waiting && wait_.on_wait) wait_.on_wait();
    std::this_thread::sleep_for(pause.Next());
  }
}

Status WalSource::MakeDecoder(const wal::DecodeContext& at_position) {
  SQLIFT_ASSIGN_OR_RETURN(decoder_,
                          wal::RowChangeDecoder::Create(at_position, [this](const std::string& t) {
                            return key_schema_->KeyFields(t);
                          }));
  return Status::OK();
}

Result<size_t> WalSource::Next(size_t max, bool pinned,
                               const std::function<Status(const WalTxn&)>& fn, bool* gap) {
  *gap = false;
  std::optional<WalPosition> from;
  if (started_) from = position_;
  SQLIFT_ASSIGN_OR_RETURN(wal::WalScan scan, wal::ScanWal(*wal_file_, from, max));
  if (scan.continuity == WalContinuity::kRestarted && !pinned) {
    *gap = true;
    return Status::FailedPrecondition(fmt::format(
        "the WAL was restarted after frame {} before the agent held it: transactions committed "
        "in between may be gone",
        position_.frames));
  }
  if (scan.continuity == WalContinuity::kRestarted) {
    // Every frame of the old generation is in the database file now (see the header).
    SQLIFT_RETURN_IF_ERROR(ResetStore(store_->page_size(), store_->page_count()));
    started_ = false;
    SQLIFT_ASSIGN_OR_RETURN(scan, wal::ScanWal(*wal_file_, std::nullopt, max));
  }
  at_end_ = scan.stop != wal::WalStop::kLimit;
  if (scan.continuity == WalContinuity::kNoLog) return size_t{0};
  if (scan.next.header.page_size != store_->page_size()) {
    return Status::Corruption(fmt::format("the WAL's page size {} is not the database's {}",
                                          scan.next.header.page_size, store_->page_size()));
  }
  const uint64_t start = started_ ? position_.frames : 0;
  last_head_.reset();
  SQLIFT_ASSIGN_OR_RETURN(size_t published, Published(scan));
  if (published < scan.transactions.size()) at_end_ = true;  // the rest is not committed yet
  if (pinned) SQLIFT_RETURN_IF_ERROR(NoteStaleAttempt(scan.next.header, start));
  size_t done = 0;
  for (size_t i = 0; i < published; ++i) {
    SQLIFT_RETURN_IF_ERROR(DecodeOne(scan.transactions[i], fn));
    ++done;
  }
  if (scan.transactions.empty() && !started_) {
    position_ = scan.next;  // a new generation's header with no commit yet
    position_.stale_attempt = stale_attempt_;
  }
  return done;
}

Result<size_t> WalSource::Published(const wal::WalScan& scan) {
  size_t n = scan.transactions.size();
  if (n == 0 || !published_) return n;
  SQLIFT_ASSIGN_OR_RETURN(std::optional<WalIndexHead> head, published_());
  if (!head || head->salt1 != scan.next.header.salt1 || head->salt2 != scan.next.header.salt2) {
    return size_t{0};  // this generation is not published yet (or the index is being written)
  }
  last_head_ = head;
  while (n > 0 && scan.transactions[n - 1].end.frames > head->max_frame)
    --n;
  return n;
}

Status WalSource::DecodeOne(wal::WalTransaction& t,
                            const std::function<Status(const WalTxn&)>& fn) {
  wal::TransactionView view(*store_, t);
  SQLIFT_ASSIGN_OR_RETURN(wal::DecodeContext before, store_->Context());
  if (!decoder_) SQLIFT_RETURN_IF_ERROR(MakeDecoder(before));
  SQLIFT_ASSIGN_OR_RETURN(wal::DecodeContext after, view.Context());
  SQLIFT_ASSIGN_OR_RETURN(uint32_t cookie, SchemaCookie(after));
  std::unique_ptr<WalSchema> changed;
  if (cookie != schema_->cookie()) {
    SQLIFT_ASSIGN_OR_RETURN(changed, WalSchema::Load(after));
  }
  key_schema_ = changed ? changed.get() : schema_.get();
  Result<std::vector<wal::RowChange>> changes = decoder_->Decode(before, after, view.written());
  key_schema_ = schema_.get();
  if (!changes.ok()) {
    return changes.status().With(
        fmt::format("decode the transaction ending at WAL frame {}", t.end.frames));
  }
  WalTxn txn{&t, std::move(changes).value(), schema_.get(), changed ? changed.get() : schema_.get(),
             t.end};
  SQLIFT_RETURN_IF_ERROR(fn(txn));
  position_ = t.end;
  position_.stale_attempt = stale_attempt_;
  store_->Apply(std::move(t));
  started_ = true;
  if (changed) schema_ = std::move(changed);
  return Status::OK();
}

}  // namespace sqlift
