#include "capture/agent/capture_agent.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/agent/changeset_decoder.h"
#include "capture/agent/route_writer.h"
#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/outbox.h"
#include "common/base/crash_point.h"
#include "state/keys.h"

namespace sqlift {
namespace {

// A route event (capture/route_writer.h): one ROUTE transaction.
Result<wire::ChangeBatch> EncodeRoute(const OutboxRow& row) {
  wire::ChangeBatch batch;
  batch.set_first_seq(row.seq);
  batch.set_last_seq(row.seq);
  wire::Transaction* txn = batch.add_transactions();
  txn->set_seq(row.seq);
  txn->set_committed_at_us(row.committed_at_us);
  txn->set_kind(wire::Transaction::ROUTE);
  if (!txn->mutable_route()->ParseFromString(row.payload)) {
    return Status::Corruption("route event that does not parse");
  }
  SQLIFT_RETURN_IF_ERROR(FromWire(txn->route()).status());
  return batch;
}

}  // namespace

Result<std::unique_ptr<CaptureAgent>> CaptureAgent::Open(const CaptureAgentOptions& options,
                                                         state::ChangeLog* log) {
  SQLIFT_ASSIGN_OR_RETURN(auto outbox, OutboxReader::Open(options.sqlite_path));
  SQLIFT_ASSIGN_OR_RETURN(auto watcher, ChangeWatcher::Open(options.sqlite_path));
  std::unique_ptr<CaptureAgent> agent(
      new CaptureAgent(options, log, std::move(outbox), std::move(watcher)));
  SQLIFT_RETURN_IF_ERROR(agent->Recover());
  return agent;
}

CaptureAgent::CaptureAgent(CaptureAgentOptions options, state::ChangeLog* log,
                           std::unique_ptr<OutboxReader> outbox,
                           std::unique_ptr<ChangeWatcher> watcher)
    : options_(std::move(options)),
      log_(log),
      outbox_(std::move(outbox)),
      watcher_(std::move(watcher)),
      schema_(&outbox_->db(), log, options_.exclude_tables) {}

// Lines the log and the outbox up after a restart: finishes a trim a crash interrupted, and
// refuses a log that is behind what an agent already trimmed (another state directory).
Status CaptureAgent::Recover() {
  SQLIFT_ASSIGN_OR_RETURN(logged_seq_, log_->GetPosition(state::kMetaLoggedSeq));
  SQLIFT_ASSIGN_OR_RETURN(uint64_t trimmed, outbox_->TrimmedSeq());
  if (logged_seq_ < trimmed) {
    return Status::FailedPrecondition(fmt::format(
        "the log ends at seq {} but an agent already trimmed the outbox of {} up to seq {}: "
        "this state directory is not the one that agent used, and seqs {}..{} are only in "
        "that one",
        logged_seq_, options_.sqlite_path, trimmed, logged_seq_ + 1, trimmed));
  }
  if (trimmed < logged_seq_) {
    spdlog::info("finishing an interrupted trim of the outbox up to seq {}", logged_seq_);
    SQLIFT_RETURN_IF_ERROR(outbox_->Trim(logged_seq_));
  }
  return Status::OK();
}

Result<wire::ChangeBatch> CaptureAgent::Encode(const OutboxRow& row, DrainStats* stats) {
  if (row.kind == static_cast<int64_t>(outbox::OutboxKind::kRoute)) {
    ++stats->route_events;
    return EncodeRoute(row);
  }
  if (row.kind != static_cast<int64_t>(outbox::OutboxKind::kChangeset)) {
    return Status::Corruption(fmt::format("unknown outbox kind {}", row.kind));
  }
  wire::ChangeBatch batch;
  batch.set_first_seq(row.seq);
  batch.set_last_seq(row.seq);
  wire::Transaction txn;
  txn.set_seq(row.seq);
  txn.set_committed_at_us(row.committed_at_us);
  txn.set_kind(wire::Transaction::CHANGES);
  std::vector<wire::Transaction> ddl;
  SQLIFT_RETURN_IF_ERROR(DecodeChangeset(
      row.payload, [&](const ChangesetTable& t) { return schema_.ShapeFor(t, &ddl); }, &batch,
      &txn));
  stats->changes += txn.changes_size();
  AddDdl(std::move(ddl), row.seq, row.committed_at_us, &batch, stats);
  *batch.add_transactions() = std::move(txn);
  return batch;
}

// DDL events go before the CHANGES transaction of the seq they are attached to.
void CaptureAgent::AddDdl(std::vector<wire::Transaction> ddl, uint64_t seq, int64_t committed_at_us,
                          wire::ChangeBatch* batch, DrainStats* stats) {
  if (ddl.empty()) return;
  stats->ddl_events += ddl.size();
  google::protobuf::RepeatedPtrField<wire::Transaction> merged;
  for (wire::Transaction& d : ddl) {
    d.set_seq(seq);
    d.set_committed_at_us(committed_at_us);
    *merged.Add() = std::move(d);
  }
  for (wire::Transaction& t : *batch->mutable_transactions())
    *merged.Add() = std::move(t);
  batch->mutable_transactions()->Swap(&merged);
}

// Decodes the contiguous run of rows after logged_seq; stops at a gap or an unreadable row
// and reports it in *stop, so everything before it can still be logged.
std::vector<wire::ChangeBatch> CaptureAgent::EncodeRun(const std::vector<OutboxRow>& rows,
                                                       DrainStats* stats, Status* stop) {
  std::vector<wire::ChangeBatch> batches;
  uint64_t expected = logged_seq_ + 1;
  for (const OutboxRow& row : rows) {
    if (row.seq != expected) {
      *stop = Status::Corruption(fmt::format(
          "gap in committed outbox seqs: expected seq {}, found seq {} (rows {}..{} were "
          "deleted from _sqlift_outbox by something other than this agent)",
          expected, row.seq, expected, row.seq - 1));
      break;
    }
    Result<wire::ChangeBatch> batch = Encode(row, stats);
    if (!batch.ok()) {
      *stop = batch.status().With(fmt::format("decode outbox seq {}", row.seq));
      break;
    }
    batches.push_back(std::move(batch).value());
    ++expected;
  }
  return batches;
}

// One batch: read, check, decode, log (synced), trim. Returns false when nothing was there.
Result<bool> CaptureAgent::DrainBatch(DrainStats* stats) {
  SQLIFT_RETURN_IF_ERROR(schema_.Refresh().With("read schema"));
  KeepGuards();
  SQLIFT_ASSIGN_OR_RETURN(
      std::vector<OutboxRow> rows,
      outbox_->ReadAfter(logged_seq_, options_.batch_rows, options_.batch_bytes));
  if (rows.empty()) return false;
  Status stop;
  std::vector<wire::ChangeBatch> batches = EncodeRun(rows, stats, &stop);
  if (batches.empty()) return stop;
  std::set<std::string> seen;
  for (const wire::ChangeBatch& b : batches) {
    for (const wire::TableShape& t : b.tables())
      seen.insert(t.name());
  }
  std::vector<wire::Transaction> untouched;
  schema_.TakeUntouchedDdl(seen, &untouched);
  AddDdl(std::move(untouched), batches[0].first_seq(),
         batches[0].transactions().rbegin()->committed_at_us(), &batches[0], stats);

  std::vector<state::LogRecord> records(batches.size());
  std::vector<state::RouteRecord> routes;  // mirrored in the state with their records
  for (size_t i = 0; i < batches.size(); ++i) {
    records[i].seq = batches[i].first_seq();
    if (!batches[i].SerializeToString(&records[i].value)) {
      return Status::Internal("serialize ChangeBatch");
    }
    for (const wire::Transaction& t : batches[i].transactions()) {
      if (t.kind() == wire::Transaction::ROUTE) {
        routes.push_back({t.route().tenant(), t.route().SerializeAsString()});
      }
    }
  }
  uint64_t last = records.back().seq;
  CrashPoint("before_log_append");
  SQLIFT_RETURN_IF_ERROR(log_->Append(records, routes));  // its error names the seqs
  logged_seq_ = last;
  if (options_.on_logged) options_.on_logged(last);
  CrashPoint("after_log_append");
  SQLIFT_RETURN_IF_ERROR(schema_.MarkLogged());
  Status trim = outbox_->Trim(last);
  if (!trim.ok()) {
    // The rows are safe in the log; the next batch or restart trims them.
    if (!trim.Retryable()) return trim;
    spdlog::warn("{} (will retry)", trim.ToString());
  }
  CrashPoint("after_trim");
  stats->transactions += records.size();
  stats->logged_seq = last;
  if (!stop.ok()) return stop;
  return true;
}

// A table the application created or altered gets its guard triggers
// (capture/outbox/guard_triggers.h), in files where `sqlift init` installed them. A failure (a
// busy database) is logged and tried again at the next batch; writes keep being captured.
void CaptureAgent::KeepGuards() {
  if (schema_.schema_version() == guards_version_) return;
  SqliteDb& db = outbox_->db();
  Result<bool> installed = GuardsInstalled(db);
  Status st = installed.status();
  if (installed.ok() && *installed) {
    Result<TenantScheme> scheme = ReadTenantScheme(db.handle());
    st = scheme.ok() ? InstallGuards(db, schema_.TableNames(), *scheme) : scheme.status();
  }
  if (!st.ok()) {
    spdlog::warn("update the guard triggers after a schema change: {} (will retry)", st.ToString());
    return;
  }
  guards_version_ = schema_.schema_version();
}

Result<DrainStats> CaptureAgent::DrainAvailable() {
  return DrainBatches(logged_seq_, stop_, [this](DrainStats* stats) { return DrainBatch(stats); });
}

void CaptureAgent::Stop() {
  stop_.store(true);
  watcher_->Wake();
}

}  // namespace sqlift
