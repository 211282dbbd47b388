#include "capture/wal/wal_reader.h"

#include <fmt/format.h>

#include <algorithm>

#include "capture/wal/page_buffers.h"

namespace sqlift::wal {
namespace {

uint64_t FrameOffset(const WalHeader& h, uint64_t index) {
  return kWalHeaderSize + index * (kWalFrameHeaderSize + h.page_size);
}

// Reads frames from scan->next until the valid committed log ends or the limit is reached.
class FrameScanner {
 public:
  FrameScanner(RandomAccessFile& file, WalScan* scan, size_t max)
      : file_(file), scan_(scan), max_(max), sum_(scan->next.checksum) {}

  Status Run() {
    const WalHeader& h = scan_->next.header;
    for (uint64_t index = scan_->next.frames;; ++index) {
      if (scan_->transactions.size() >= max_) {
        Stop(WalStop::kLimit, index, "limit reached");
        return Status::OK();
      }
      SQLIFT_ASSIGN_OR_RETURN(std::string_view frame, Frame(index));
      if (frame.empty()) {
        AtEnd(index);
        return Status::OK();
      }
      if (frame.size() < kWalFrameHeaderSize + h.page_size) {
        Stop(WalStop::kTornFrame, index, fmt::format("{} bytes of a frame", frame.size()));
        return Status::OK();
      }
      if (!Valid(frame, index)) return Status::OK();
      Take(frame, index);
    }
  }

 private:
  // The bytes of frame `index` as the file holds them (fewer where it ends), from runs of
  // frames read ahead: 4 at first, doubling up to 64 while the log goes on.
  Result<std::string_view> Frame(uint64_t index) {
    const size_t size = kWalFrameHeaderSize + scan_->next.header.page_size;
    if (index < run_first_ || index >= run_first_ + run_frames_) {
      run_frames_ = run_frames_ == 0 ? 4 : std::min<size_t>(run_frames_ * 2, 64);
      run_first_ = index;
      SQLIFT_RETURN_IF_ERROR(
          file_.ReadRunInto(FrameOffset(scan_->next.header, index), size, run_frames_, &run_));
    }
    const size_t at = static_cast<size_t>(index - run_first_) * size;
    return std::string_view(run_).substr(std::min(at, run_.size()), size);
  }

  void AtEnd(uint64_t index) {
    if (pending_.frames.empty()) return Stop(WalStop::kEndOfFile, index, "end of file");
    Stop(WalStop::kUncommitted, pending_.frames.front().index,
         fmt::format("{} frames without a commit frame", pending_.frames.size()));
  }

  // Checks one frame as SQLite's recovery does; on failure records why the log ends here.
  bool Valid(std::string_view frame, uint64_t index) {
    const WalHeader& h = scan_->next.header;
    WalFrameHeader fh = ParseWalFrameHeader(frame);
    std::optional<WalStop> bad;
    std::string why;
    if (fh.salt1 != h.salt1 || fh.salt2 != h.salt2) {
      bad = WalStop::kSaltMismatch, why = "salts differ from the header's";
    } else if (fh.page_number == 0) {
      bad = WalStop::kZeroPageNumber, why = "page number 0";
    } else {
      WalChecksum sum =
          FrameChecksum(frame.substr(0, kWalFrameHeaderSize), frame.substr(kWalFrameHeaderSize),
                        h.big_endian_checksum(), sum_);
      if (sum != fh.checksum) bad = WalStop::kBadChecksum, why = "checksum mismatch";
      sum_ = sum;
    }
    if (bad) Stop(*bad, index, fmt::format("page {}: {}", fh.page_number, why));
    return !bad;
  }

  void Take(std::string_view frame, uint64_t index) {
    WalFrameHeader fh = ParseWalFrameHeader(frame);
    pending_.frames.push_back(
        {index, fh.page_number, PageBuffers::Copy(frame.substr(kWalFrameHeaderSize))});
    if (!fh.is_commit()) return;
    pending_.db_size_pages = fh.db_size_after_commit;
    pending_.end = {scan_->next.header, index + 1, sum_};
    scan_->next = pending_.end;
    scan_->transactions.push_back(std::move(pending_));
    pending_ = {};
  }

  void Stop(WalStop stop, uint64_t index, std::string_view why) {
    scan_->stop = stop;
    scan_->stop_frame = index;
    scan_->stop_reason = fmt::format("frame {}: {}", index, why);
    if (stop != WalStop::kUncommitted && !pending_.frames.empty()) {
      scan_->stop_reason += fmt::format(" (after {} uncommitted frames from frame {})",
                                        pending_.frames.size(), pending_.frames.front().index);
    }
  }

  RandomAccessFile& file_;
  WalScan* scan_;
  size_t max_;
  WalChecksum sum_;
  WalTransaction pending_;
  std::string run_;  // frames run_first_ .. run_first_ + run_frames_ - 1, as read
  uint64_t run_first_ = 0;
  size_t run_frames_ = 0;
};

// True when the file no longer holds the last frame before `pos` (the WAL was cut).
Result<bool> CutBefore(RandomAccessFile& file, const WalPosition& pos) {
  if (pos.frames == 0) return false;
  SQLIFT_ASSIGN_OR_RETURN(std::string last,
                          file.ReadAt(FrameOffset(pos.header, pos.frames) - 1, 1));
  return last.empty();
}

}  // namespace

const char* WalStopName(WalStop stop) {
  switch (stop) {
    case WalStop::kEndOfFile:
      return "end of file";
    case WalStop::kUncommitted:
      return "uncommitted frames";
    case WalStop::kTornFrame:
      return "torn frame";
    case WalStop::kSaltMismatch:
      return "salt mismatch";
    case WalStop::kZeroPageNumber:
      return "page number 0";
    case WalStop::kBadChecksum:
      return "bad checksum";
    case WalStop::kLimit:
      return "limit";
    case WalStop::kNotRead:
      return "not read";
  }
  return "?";
}

Result<WalScan> ScanWal(RandomAccessFile& file, const std::optional<WalPosition>& from,
                        size_t max_transactions) {
  WalScan scan;
  SQLIFT_ASSIGN_OR_RETURN(std::string head, file.ReadAt(0, kWalHeaderSize));
  Result<WalHeader> header = ParseWalHeader(head);
  if (!header.ok()) {
    scan.continuity = WalContinuity::kNoLog;
    if (from) scan.next = *from;
    scan.stop_reason = header.status().message();
    return scan;
  }
  WalPosition start{*header, 0, header->checksum};
  SQLIFT_ASSIGN_OR_RETURN(bool cut, from ? CutBefore(file, *from) : Result<bool>(false));
  if (from && (!from->header.SameGeneration(*header) || cut)) {
    scan.continuity = WalContinuity::kRestarted;
    scan.next = start;
    scan.stop_reason = fmt::format("WAL restarted (checkpoint sequence {} -> {}) or cut",
                                   from->header.checkpoint_seq, header->checkpoint_seq);
    return scan;
  }
  scan.continuity = from ? WalContinuity::kContinues : WalContinuity::kStart;
  scan.next = from ? *from : start;
  SQLIFT_RETURN_IF_ERROR(FrameScanner(file, &scan, max_transactions).Run());
  return scan;
}

}  // namespace sqlift::wal
