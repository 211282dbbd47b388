#include "tools/verify/applier_hold.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "tools/verify/verify_pg_reader.h"

namespace sqlift {

Result<std::unique_ptr<ApplierHold>> ApplierHold::Begin(std::unique_ptr<PgConnection> conn,
                                                        std::string source,
                                                        std::chrono::seconds ttl) {
  const std::string what = fmt::format("hold the applier of {}", source);
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      conn->Query("UPDATE sqlift.positions SET hold_seq = applied_seq, hold_until = "
                  "clock_timestamp() + make_interval(secs => $2::double precision) "
                  "WHERE source = $1 AND (hold_seq IS NULL OR hold_until <= clock_timestamp()) "
                  "RETURNING applied_seq",
                  {source, std::to_string(ttl.count())}));
  if (r.rows() == 1) {
    SQLIFT_ASSIGN_OR_RETURN(uint64_t at, r.GetUint64(0, 0));
    return std::unique_ptr<ApplierHold>(new ApplierHold(std::move(conn), std::move(source), at));
  }
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult held,
      conn->Query("SELECT hold_seq, hold_until FROM sqlift.positions WHERE source = $1", {source}));
  if (held.rows() == 0) {
    return Status::NotFound(fmt::format(
        "{}: PostgreSQL holds no position for source {} (is it replicating?)", what, source));
  }
  // Busy, not wrong: the other verify lets go when it has its snapshot (or at hold_until).
  return Status::Unavailable(fmt::format("{}: already held at seq {} until {} by another verify",
                                         what, held.get(0, 0), held.get(0, 1)));
}

ApplierHold::~ApplierHold() {
  Status st = Release();
  if (!st.ok()) spdlog::warn("{} (the hold lapses by itself)", st.ToString());
}

Result<uint64_t> ApplierHold::Applied() {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      conn_->Query("SELECT applied_seq FROM sqlift.positions WHERE source = $1", {source_}));
  if (r.rows() == 0) return Status::NotFound("the position of " + source_ + " is gone");
  return r.GetUint64(0, 0);
}

Status ApplierHold::AdvanceTo(uint64_t seq, std::chrono::milliseconds timeout) {
  const std::string what = fmt::format("hold the applier of {} at seq {}", source_, seq);
  if (seq < held_at_) {
    return Status::InvalidArgument(fmt::format("{}: it is held at seq {} already", what, held_at_));
  }
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult moved,
      conn_->Query("UPDATE sqlift.positions SET hold_seq = $2::bigint WHERE source = $1",
                   {source_, std::to_string(seq)}));
  (void)moved;
  held_at_ = seq;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(uint64_t applied, Applied());
    if (applied == seq) return Status::OK();
    if (applied > seq) {
      return Status::Internal(fmt::format("{}: the applier went past it to {}", what, applied));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Aborted(fmt::format(
          "{}: applied seq is {} after {} ms; is `sqlift apply` running, and `sqlift capture`?",
          what, applied, timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status ApplierHold::Release() {
  if (released_) return Status::OK();
  Result<PgResult> r = conn_->Query(
      "UPDATE sqlift.positions SET hold_seq = NULL, hold_until = NULL WHERE source = $1",
      {source_});
  if (!r.ok()) return r.status().With("release the hold on " + source_);
  released_ = true;
  return Status::OK();
}

Result<bool> SourceReplicates(PgConnection& conn, const std::string& source) {
  SQLIFT_ASSIGN_OR_RETURN(PgResult r,
                          conn.Query("SELECT to_regclass('sqlift.positions') IS NOT NULL", {}));
  if (r.get(0, 0) != "t") return false;
  SQLIFT_ASSIGN_OR_RETURN(PgResult p,
                          conn.Query("SELECT 1 FROM sqlift.positions WHERE source = $1", {source}));
  return p.rows() > 0;
}

namespace {

// The hand-off over a live hold (or none) and the comparison's connection.
class HoldHandOff final : public SnapshotHandOff {
 public:
  HoldHandOff(ApplierHold* hold, PgConnection& conn) : hold_(hold), conn_(conn) {}

  bool held() const override { return hold_ != nullptr; }
  Status AdvanceTo(uint64_t seq, std::chrono::milliseconds timeout) override {
    return hold_->AdvanceTo(seq, timeout);
  }
  Status BeginSnapshot() override { return BeginVerifySnapshot(conn_); }
  Result<std::optional<uint64_t>> SnapshotApplied() override {
    SQLIFT_ASSIGN_OR_RETURN(
        PgResult pos, conn_.Query("SELECT applied_seq FROM sqlift.positions WHERE source = $1",
                                  {hold_->source()}));
    if (pos.rows() != 1) return std::optional<uint64_t>();
    SQLIFT_ASSIGN_OR_RETURN(uint64_t at, pos.GetUint64(0, 0));
    return std::optional<uint64_t>(at);
  }
  Status Release() override { return hold_->Release(); }

 private:
  ApplierHold* hold_;
  PgConnection& conn_;
};

}  // namespace

Status TakeSnapshotAt(ApplierHold* hold, PgConnection& conn, uint64_t seq,
                      std::chrono::milliseconds timeout) {
  HoldHandOff steps(hold, conn);
  return TakeSnapshotAt(steps, seq, timeout);
}

Status TakeSnapshotAt(SnapshotHandOff& steps, uint64_t seq, std::chrono::milliseconds timeout) {
  if (steps.held()) SQLIFT_RETURN_IF_ERROR(steps.AdvanceTo(seq, timeout));
  SQLIFT_RETURN_IF_ERROR(steps.BeginSnapshot());
  if (!steps.held()) return Status::OK();
  SQLIFT_ASSIGN_OR_RETURN(std::optional<uint64_t> at, steps.SnapshotApplied());
  if (!at || *at != seq) {
    return Status::Internal(fmt::format("PostgreSQL's snapshot is not at seq {} ({})", seq,
                                        at ? std::to_string(*at) : "no position"));
  }
  return steps.Release();
}

}  // namespace sqlift
