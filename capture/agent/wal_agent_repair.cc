// WalCaptureAgent: gaps (wal_agent.h) and their repair by difference with PostgreSQL.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <string_view>

#include "capture/agent/sqlite_vfs_file.h"
#include "capture/agent/wal_agent.h"
#include "capture/agent/wal_encode.h"
#include "common/base/clock.h"

namespace sqlift {
namespace {

std::string GapAdvice(const std::string& what) {
  return what +
         ". The transactions in between reached neither the log nor PostgreSQL. Compare and "
         "repair with `sqlift verify` and a new snapshot (drop the applier's position for this "
         "source), and keep the agent running while the application writes: while it runs, "
         "it holds the WAL until every frame is logged";
}

}  // namespace

Status WalCaptureAgent::HandleGap(const Status& gap) {
  source_.reset();
  if (!options_.repair_gap) return Status::FailedPrecondition(GapAdvice(gap.message()));
  repair_pending_ = gap.message();
  // Opening, shipping has not started: the repair, which waits for PostgreSQL to have applied
  // everything logged before the gap, is left to the first drain.
  if (opening_) return Status::Unavailable("the repair waits for shipping to start");
  return Repair();
}

// DDL events for tables whose definition changed while nobody was decoding (the repair's
// comparison needs PostgreSQL's tables as SQLite's are now). The position does not move: a
// crash here leaves the gap to be repaired again.
Status WalCaptureAgent::LogChangedSchema() {
  wire::ChangeBatch batch;
  for (wire::Transaction& d : FullSchemaDdl(source_->schema(), options_.exclude_tables)) {
    Result<std::string> logged = log_->GetMeta(std::string(kDdlMetaPrefix) + d.ddl_table());
    if (logged.ok() && *logged == d.ddl_sql()) continue;
    if (!logged.ok() && logged.status().code() != Status::Code::kNotFound) return logged.status();
    *batch.add_transactions() = std::move(d);
  }
  if (batch.transactions().empty()) return Status::OK();
  batch.add_transactions()->set_kind(wire::Transaction::CHANGES);
  Pending p;
  AddBatch(batch, &p);
  return Append(&p, /*with_position=*/false);
}

// Repairs PostgreSQL at the WAL's end (see the header), then streams on from there.
Status WalCaptureAgent::Repair() {
  spdlog::warn("capture: {}; repairing PostgreSQL by difference", repair_pending_);
  source_.reset();
  pin_.reset();
  SQLIFT_ASSIGN_OR_RETURN(
      auto lock,
      SqliteDb::Open(options_.sqlite_path, SqliteDb::Mode::kReadWrite, std::chrono::seconds(10)));
  SQLIFT_RETURN_IF_ERROR(KeepWalOnClose(*lock));
  SQLIFT_ASSIGN_OR_RETURN(auto snapshot,
                          SqliteDb::Open(options_.sqlite_path, SqliteDb::Mode::kReadOnly));
  SQLIFT_RETURN_IF_ERROR(KeepWalOnClose(*snapshot));
  // Writers wait while the WAL's end is named, pinned and read from.
  SQLIFT_RETURN_IF_ERROR(lock->Exec("BEGIN IMMEDIATE").With("hold writers to start the repair"));
  Status st = [&]() -> Status {
    SQLIFT_ASSIGN_OR_RETURN(pin_, WalPin::Open(options_.sqlite_path));
    SQLIFT_RETURN_IF_ERROR(pin_->BeginNext());
    bool gap = false;
    SQLIFT_ASSIGN_OR_RETURN(auto db_file, SqliteVfsFile::Of(*db_));
    SQLIFT_ASSIGN_OR_RETURN(source_, WalSource::Open(options_.sqlite_path, std::move(db_file),
                                                     Published(), std::nullopt, &gap));
    SQLIFT_RETURN_IF_ERROR(snapshot->Exec("BEGIN"));
    return snapshot->QueryInt64("SELECT count(*) FROM main.sqlite_schema").status();
  }();
  (void)lock->Exec("ROLLBACK");
  lock.reset();
  if (st.ok()) st = LogChangedSchema();
  Result<GapRepair> repair =
      st.ok() ? options_.repair_gap(*snapshot, logged_seq_) : Result<GapRepair>(st);
  if (!repair.ok()) {
    source_.reset();  // no streaming until a repair is logged
    return repair.status().With("repair PostgreSQL after a gap in the WAL");
  }
  Pending p;
  if (repair->rows > 0) AddBatch(repair->batch, &p);
  uint64_t count = 0, rows = 0;
  if (Result<std::string> old = log_->GetMeta(kMetaWalRepairs); old.ok()) {
    std::sscanf(old->c_str(), "%" SCNu64 " %" SCNu64, &count, &rows);
  }
  const std::string repairs = fmt::format("{} {} {}", count + 1, rows + repair->rows, NowMicros());
  SQLIFT_RETURN_IF_ERROR(Append(&p, true, {{std::string(kMetaWalRepairs), repairs}}));
  pinned_ = true;
  repair_pending_.clear();
  spdlog::warn("capture: gap repaired: {} ({} row changes, logged seq {}); streaming on",
               repair->summary, repair->rows, logged_seq_);
  return Status::OK();
}

}  // namespace sqlift
