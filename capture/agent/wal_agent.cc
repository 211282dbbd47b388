#include "capture/agent/wal_agent.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "capture/agent/sqlite_vfs_file.h"
#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/route_table.h"
#include "capture/wal/wal_progress.h"
#include "common/base/backoff.h"
#include "common/base/clock.h"
#include "common/base/crash_point.h"
#include "state/keys.h"

namespace sqlift {
namespace {

constexpr std::chrono::milliseconds kGuardBusy{100};
constexpr size_t kArenaBlock = 64 << 10;  // a transaction's record fits, unless it is large
constexpr std::chrono::milliseconds kBusyPublish{50};
constexpr int kRechecks = 20;  // looks a millisecond apart after a write with nothing committed
constexpr auto kLetWatch = std::chrono::milliseconds(50);  // 1 ms looks after a restart is let

}  // namespace

WalCaptureAgent::WalCaptureAgent(CaptureAgentOptions options, state::ChangeLog* log)
    : options_(std::move(options)), log_(log), arena_block_(new char[kArenaBlock]) {
  google::protobuf::ArenaOptions o;
  o.initial_block = arena_block_.get();
  o.initial_block_size = kArenaBlock;
  arena_ = std::make_unique<google::protobuf::Arena>(o);
}

Result<std::unique_ptr<WalCaptureAgent>> WalCaptureAgent::Open(const CaptureAgentOptions& options,
                                                               state::ChangeLog* log) {
  std::unique_ptr<WalCaptureAgent> agent(new WalCaptureAgent(options, log));
  SQLIFT_ASSIGN_OR_RETURN(agent->watch_, WalWatch::Open(options.sqlite_path));
  SQLIFT_ASSIGN_OR_RETURN(
      agent->db_, SqliteDb::Open(options.sqlite_path, SqliteDb::Mode::kReadWrite, kGuardBusy));
  SQLIFT_RETURN_IF_ERROR(KeepWalOnClose(*agent->db_));
  SQLIFT_RETURN_IF_ERROR(agent->Recover());
  return agent;
}

WalCaptureAgent::~WalCaptureAgent() {
  FinishRestart();
}

Status WalCaptureAgent::Recover() {
  SQLIFT_ASSIGN_OR_RETURN(logged_seq_, log_->GetPosition(state::kMetaLoggedSeq));
  Result<std::string> mode = log_->GetMeta(kMetaCaptureMode);
  if (!mode.ok() && mode.status().code() != Status::Code::kNotFound) return mode.status();
  if (logged_seq_ > 0 && (!mode.ok() || *mode != "wal")) {
    return Status::FailedPrecondition(
        "this state directory holds a log captured in recorder mode: a migration keeps the "
        "capture mode it started with ([capture] mode)");
  }
  Result<std::string> pos = log_->GetMeta(kMetaWalPosition);
  if (pos.ok()) {
    SQLIFT_ASSIGN_OR_RETURN(saved_, DecodeWalPosition(*pos));
  } else if (pos.status().code() != Status::Code::kNotFound) {
    return pos.status();
  }
  if (!saved_) SQLIFT_RETURN_IF_ERROR(StartGeneration());
  SQLIFT_ASSIGN_OR_RETURN(pin_, WalPin::Open(options_.sqlite_path));
  SQLIFT_RETURN_IF_ERROR(pin_->BeginNext());
  opening_ = true;
  Status st = OpenSource();
  opening_ = false;
  if (!st.ok() && !(st.Retryable() && !repair_pending_.empty())) return st;
  if (!st.ok()) {  // the repair is tried again by the drains
    spdlog::warn("capture: {} (will retry)", st.ToString());
    return Status::OK();
  }
  if (!saved_) SQLIFT_RETURN_IF_ERROR(LogFreshSchema());
  Publish(/*idle=*/true);
  return Status::OK();
}

// From the logged position; a fresh log starts at the WAL's end, which the pin just taken
// cannot be newer than. A gap goes to HandleGap.
Status WalCaptureAgent::OpenSource() {
  bool gap = false;
  SQLIFT_ASSIGN_OR_RETURN(auto db_file, SqliteVfsFile::Of(*db_));
  Result<std::unique_ptr<WalSource>> source =
      WalSource::Open(options_.sqlite_path, std::move(db_file), Published(), saved_, &gap,
                      {options_.checkpoint_wait, options_.on_checkpoint_wait});
  if (!source.ok()) {
    return gap ? HandleGap(source.status())
               : source.status().With("read the WAL of " + options_.sqlite_path);
  }
  source_ = std::move(source).value();
  pinned_ = !saved_;
  return Status::OK();
}

WalSource::PublishedFn WalCaptureAgent::Published() {
  return [this] { return ReadWalIndexHead(*db_); };
}

// A fresh log must start inside a WAL generation: a position taken while the database has no
// WAL at all could not tell, after a restart, whether a WAL came and went in between. One
// small write of sqlift's own (never shipped) makes SQLite start one if there is none.
Status WalCaptureAgent::StartGeneration() {
  return CommitOwnWrite("wal_capture_started", std::chrono::seconds(10))
      .With("start capturing from the WAL");
}

// The agent's only writes to the application's database: one row of _sqlift_state (never
// shipped), on a connection of its own that leaves the WAL as it is when it closes.
Status WalCaptureAgent::CommitOwnWrite(std::string_view key, std::chrono::milliseconds busy) {
  SQLIFT_ASSIGN_OR_RETURN(auto db,
                          SqliteDb::Open(options_.sqlite_path, SqliteDb::Mode::kReadWrite, busy));
  SQLIFT_RETURN_IF_ERROR(KeepWalOnClose(*db));
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement put,
                          db->Prepare("INSERT INTO main._sqlift_state (key, value) VALUES (?1, ?2) "
                                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  SQLIFT_RETURN_IF_ERROR(put.BindText(1, key));
  SQLIFT_RETURN_IF_ERROR(put.BindInt64(2, NowMicros()));
  return put.Run();
}

// A fresh log's first record defines every captured table, so the log describes its schema.
Status WalCaptureAgent::LogFreshSchema() {
  Pending p;
  wire::ChangeBatch batch;
  for (wire::Transaction& d : FullSchemaDdl(source_->schema(), options_.exclude_tables))
    *batch.add_transactions() = std::move(d);
  batch.add_transactions()->set_kind(wire::Transaction::CHANGES);
  AddBatch(batch, &p);
  return Append(&p);
}

void WalCaptureAgent::AddBatch(wire::ChangeBatch& batch, Pending* p) {
  const uint64_t seq = logged_seq_ + p->records.size() + 1;
  const int64_t now = NowMicros();
  batch.set_first_seq(seq);
  batch.set_last_seq(seq);
  for (wire::Transaction& t : *batch.mutable_transactions()) {
    t.set_seq(seq);
    if (t.committed_at_us() == 0) t.set_committed_at_us(now);
    if (t.kind() == wire::Transaction::ROUTE) {
      p->routes.push_back({t.route().tenant(), t.route().SerializeAsString()});
    }
    if (t.kind() == wire::Transaction::DDL) {
      p->ddl.push_back({std::string(kDdlMetaPrefix) + t.ddl_table(), t.ddl_sql()});
    }
  }
  state::LogRecord r{seq, batch.SerializeAsString()};
  p->bytes += r.value.size();
  p->records.push_back(std::move(r));
}

Status WalCaptureAgent::Add(const WalTxn& txn, Pending* p, DrainStats* stats) {
  // Built on the arena (no allocation of its own per field, nothing to free one by one):
  // only its serialized form outlives this call.
  arena_->Reset();
  auto* batch = google::protobuf::Arena::CreateMessage<wire::ChangeBatch>(arena_.get());
  SQLIFT_ASSIGN_OR_RETURN(WalEncoded e, EncodeWalTxn(txn, options_.exclude_tables, batch));
  if (e.ignored_recorder_rows > 0 && !warned_recorder_) {
    warned_recorder_ = true;
    spdlog::warn(
        "capture mode wal: a recorder also writes changesets into _sqlift_outbox; they "
        "are ignored (the WAL carries the same rows): unload the recorder");
  }
  // PostgreSQL's own changes, coming back: logged for the switches' checks, never applied.
  if (e.reverse) {
    batch->mutable_transactions(batch->transactions_size() - 1)
        ->set_kind(wire::Transaction::REVERSE);
  }
  if (e.ddl > 0 || e.changes > 0) {
    stats->changes += e.changes;
    stats->ddl_events += e.ddl;
    AddBatch(*batch, p);
  }
  for (wire::Transaction& r : e.routes) {
    ++stats->route_events;
    wire::ChangeBatch route;
    *route.add_transactions() = std::move(r);
    AddBatch(route, p);
  }
  ++stats->transactions;
  return Status::OK();
}

// The records and the new position in one synced write.
Status WalCaptureAgent::Append(Pending* p, bool with_position,
                               std::vector<state::MetaRecord> extra) {
  const wal::WalPosition at = source_->position();
  std::vector<state::MetaRecord> meta = std::move(extra);
  meta.push_back({std::string(kMetaCaptureMode), "wal"});
  if (with_position) meta.push_back({std::string(kMetaWalPosition), EncodeWalPosition(at)});
  meta.insert(meta.end(), p->ddl.begin(), p->ddl.end());
  CrashPoint("before_log_append");
  SQLIFT_RETURN_IF_ERROR(log_->Append(p->records, p->routes, meta));
  CrashPoint("after_log_append");
  if (with_position) saved_ = at;
  if (!p->records.empty()) {
    logged_seq_ = p->records.back().seq;
    if (options_.on_logged) options_.on_logged(logged_seq_);
  }
  *p = Pending();
  return Status::OK();
}

// While Run() paces a busy application's drains, the progress file (a new file renamed over
// the old, a cost per drain) is rewritten at most every kBusyPublish; the first drain that
// finds nothing new, or that logged a route event, publishes at once, so a barrier or a switch
// (which hold writers off) waits one pause at most.
void WalCaptureAgent::Publish(bool idle) {
  if (options_.wal_progress_path.empty() || !source_) return;
  const auto now = std::chrono::steady_clock::now();
  if (busy_ && !idle && now < published_at_ + kBusyPublish) return;
  published_at_ = now;
  const wal::WalPosition& at = source_->position();
  Status st = wal::WriteWalProgress(
      options_.wal_progress_path,
      {at.header.salt1, at.header.salt2, at.frames, logged_seq_, NowMicros()});
  if (!st.ok()) spdlog::warn("publish the capture progress: {}", st.ToString());
}

// One drain: decode what is committed (up to a batch), log it, publish, move the pin.
Result<bool> WalCaptureAgent::DrainBatch(DrainStats* stats) {
  if (!repair_pending_.empty()) SQLIFT_RETURN_IF_ERROR(Repair());
  if (!source_) SQLIFT_RETURN_IF_ERROR(OpenSource());
  SQLIFT_RETURN_IF_ERROR(pin_->BeginNext());
  bool gap = false, routed = false;
  Status st = LogNext(options_.batch_rows, stats, &gap, &routed);
  if (!st.ok()) {
    pin_->AbandonNext();
    if (!gap) return st.With(fmt::format("capture from the WAL of {}", options_.sqlite_path));
    SQLIFT_RETURN_IF_ERROR(HandleGap(st));
    return true;  // streaming on from the repaired position
  }
  // A route event is published at once: a switch waits for it with the writers held off.
  Publish(stats->transactions == 0 || routed);
  if (source_->at_end()) {
    pinned_ = true;
    SQLIFT_RETURN_IF_ERROR(MovePin(stats));
  } else {
    pin_->AbandonNext();
  }
  KeepGuards();
  return !source_->at_end();
}

Status WalCaptureAgent::LogNext(size_t max, DrainStats* stats, bool* gap, bool* routed) {
  const uint64_t frames_before = source_->position().frames;
  const wal::WalHeader generation = source_->position().header;
  Pending p;
  // Scanned 16 transactions at a time: a whole batch's frames read before any is
  // decoded would have left the cache by the time they are.
  constexpr size_t kScanChunk = 16;
  Result<size_t> n = size_t{0};
  for (size_t done = 0; done < max;) {
    const size_t want = std::min(kScanChunk, max - done);
    n = source_->Next(
        want, pinned_, [&](const WalTxn& txn) { return Add(txn, &p, stats); }, gap);
    if (!n.ok() || *n < want) break;
    done += *n;
  }
  // What was decoded before an error is logged all the same.
  const bool moved = source_->position().frames != frames_before || !p.records.empty();
  *routed = !p.routes.empty();
  Status logged = moved ? Append(&p) : Status::OK();
  if (generation.magic != 0 && !source_->position().header.SameGeneration(generation))
    ++wal_restarts_;
  if (!n.ok()) source_.reset();  // the decoder's map is unreliable after an error: rebuild it
  if (!logged.ok()) {
    *gap = false;
    return logged;
  }
  SQLIFT_RETURN_IF_ERROR(n.status());
  stats->logged_seq = logged_seq_;
  return Status::OK();
}

// The guard triggers (capture/outbox/guard_triggers.h) follow the schema, in files where
// `sqlift init` installed them. A busy database is tried again after the next drain.
void WalCaptureAgent::KeepGuards() {
  const WalSchema& schema = source_->schema();
  if (guards_done_ && schema.cookie() == guards_cookie_) return;
  Result<bool> installed = GuardsInstalled(*db_);
  Status st = installed.status();
  if (installed.ok() && *installed) {
    std::vector<std::string> tables;
    for (const auto& [name, t] : schema.tables()) {
      if (!options_.exclude_tables.count(name)) tables.push_back(name);
    }
    Result<TenantScheme> scheme = ReadTenantScheme(db_->handle());
    st = scheme.ok() ? InstallGuards(*db_, tables, *scheme) : scheme.status();
  }
  if (!st.ok()) {
    spdlog::warn("update the guard triggers after a schema change: {} (will retry)", st.ToString());
    return;
  }
  guards_cookie_ = schema.cookie();
  guards_done_ = true;
}

Result<DrainStats> WalCaptureAgent::DrainAvailable() {
  return DrainBatches(logged_seq_, stop_, [this](DrainStats* stats) { return DrainBatch(stats); });
}

Status WalCaptureAgent::Run() {
  running_ = true;
  Status st = RunLoop();
  if (st.ok()) FinishRestart();
  running_ = busy_ = false;
  if (st.ok()) Publish(/*idle=*/true);  // what the last busy drains logged
  return st;
}

Status WalCaptureAgent::RunLoop() {
  Backoff backoff(std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
  auto last_retention = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    const auto started = std::chrono::steady_clock::now();
    Result<DrainStats> drained = DrainAvailable();
    if (!drained.ok()) {
      if (!drained.status().Retryable()) return drained.status();
      const std::chrono::milliseconds wait = backoff.Next();
      spdlog::warn("capture: {} (retrying in {} ms)", drained.status().ToString(), wait.count());
      (void)watch_->Wait(wait);
      continue;
    }
    backoff.Reset();
    if (std::chrono::steady_clock::now() - last_retention >= std::chrono::seconds(60)) {
      last_retention = std::chrono::steady_clock::now();
      Status st = ApplyLogRetention(log_, options_);
      if (!st.ok()) spdlog::warn("log retention: {}", st.ToString());
    }
    if (stop_.load()) break;
    SQLIFT_RETURN_IF_ERROR(AwaitNext(started, drained->transactions > 0));
  }
  return Status::OK();
}

// Busy (the drain that began at `started` logged something): the next drain gathers more of
// the application's writes (agent.h busy_drain_interval), with no inotify watch meanwhile
// (wal_watch.h). Idle: watch for the next commit, after looking once more for one made before
// the watch; the WAL is read directly, so a write inotify reports is readable at once (a torn
// tail is waited on by the reader).
Status WalCaptureAgent::AwaitNext(std::chrono::steady_clock::time_point started, bool busy) {
  busy_ = busy;
  // Just after the pin moved to the database file alone, the application's next commit
  // restarts the WAL; until the agent has logged past it, a crash would leave a gap to repair.
  // So the next looks are a millisecond apart, for a moment.
  if (restart_let_at_ && std::chrono::steady_clock::now() - restart_let_time_ < kLetWatch &&
      source_ && source_->position().frames == restart_let_at_->frames &&
      source_->position().header.SameGeneration(restart_let_at_->header)) {
    watch_->Disarm();
    return watch_->Wait(std::chrono::milliseconds(1)).status();
  }
  if (busy) {
    rechecks_ = 0;
    watch_->Disarm();
    const auto wait = started + options_.busy_drain_interval - std::chrono::steady_clock::now();
    if (wait <= wait.zero()) return Status::OK();
    return watch_->Wait(std::chrono::ceil<std::chrono::milliseconds>(wait)).status();
  }
  if (rechecks_ > 0 && rechecks_--) return watch_->Wait(std::chrono::milliseconds(1)).status();
  if (watch_->Arm()) return Status::OK();
  auto wait = options_.poll_interval;
  if (pin_stale_) {  // the pin that stayed moves after pin_interval (MovePin)
    const auto due = pin_moved_ + options_.pin_interval - std::chrono::steady_clock::now();
    wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(due));
    if (wait <= wait.zero()) return Status::OK();
  }
  SQLIFT_ASSIGN_OR_RETURN(WalWatch::Event event, watch_->Wait(wait));
  // inotify sees a commit's frames, written before the wal-index publishes them, and no later
  // write need come: the next few looks are a millisecond apart.
  if (event == WalWatch::Event::kChanged) rechecks_ = kRechecks;
  return Status::OK();
}

void WalCaptureAgent::Stop() {
  stop_.store(true);
  watch_->Wake();
}

}  // namespace sqlift
