// ProveBeforeFence (see switch_proof.h).
#include "tools/switch/switch_proof.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <functional>
#include <limits>
#include <thread>
#include <vector>

#include "capture/snapshot/wal_barrier.h"
#include "tools/verify/applier_hold.h"
#include "tools/verify/verify_fast.h"
#include "tools/verify/verify_run.h"

namespace sqlift::switching {
namespace {

constexpr uint64_t kToTheEnd = std::numeric_limits<uint64_t>::max();
constexpr int kMaxHeldVerifies = 2;  // whole comparisons
constexpr int kMaxRounds = 6;        // proofs found, made or settled
// How long a fallback's settle may go on before its fence: rounds repeat while they leave fewer
// keys unsettled, up to this.
constexpr std::chrono::seconds kSettleFor{5};
// Keys per keyed read of a fallback's settle: each read costs a query and a round trip on each
// side whatever its size, and a key that differs no longer keeps the rest of its batch from
// settling, so the batches are large.
constexpr size_t kSettleBatch = 1024;
// How long the proof waits for the applier to reach a held position, or for another verify's
// hold to end: the proof runs before the fence, so it may take as long as the tables need.
constexpr std::chrono::minutes kHeldVerifyWait{5};

// The counts a matched report proves: every table's rows in its scope.
std::map<std::string, int64_t> CountsOf(const VerifyReport& report) {
  std::map<std::string, int64_t> out;
  for (const TableVerdict& t : report.tables) {
    if (t.status == TableStatus::kMatched && t.counted) out[t.table] = t.comparison.sqlite_rows;
  }
  return out;
}

// A held verify now: both sides compared at one position S while capture and apply go on;
// with `changed_at`, only the keys it names at S (an incremental held verify).
Result<VerifiedAt> HeldVerify(Switch& s, VerifySpec spec,
                              std::function<Result<const ChangedKeys*>(uint64_t)> changed_at = {}) {
  spec.hold_source = s.cfg.source_id;
  spec.hold_ttl = std::chrono::seconds(10);  // a switch killed while holding lets go soon
  spec.hold_timeout = kHeldVerifyWait;
  spec.progress = false;
  spec.changed_at = std::move(changed_at);
  int exit = 0;
  Result<VerifyReport> report = RunVerification(spec, &exit);
  // Another switch's (or verify's) hold of the same applier ends once its snapshot is taken.
  const Clock::time_point until = Clock::now() + kHeldVerifyWait;
  while (!report.ok() && report.status().code() == Status::Code::kUnavailable &&
         report.status().message().find(kHoldBusy) != std::string::npos && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    report = RunVerification(spec, &exit);
  }
  SQLIFT_RETURN_IF_ERROR(report.status());
  SQLIFT_RETURN_IF_ERROR(VerifyVerdict(*report));
  return VerifiedAt{report->run_id.value_or(0), static_cast<uint64_t>(report->position),
                    CountsOf(*report)};
}

// The keys changed since `proof` up to `to`, resuming s.prior; waits (a few seconds at most)
// for the agent to have logged `to`.
Result<const ChangedKeys*> KeysUpTo(Switch& s, const VerifySpec& spec, const VerifiedAt& proof,
                                    uint64_t to, std::optional<ChangedKeys>* out) {
  const Clock::time_point until = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(state::ChangeLog * log, SwitchLog(s));
    std::string why;
    Result<std::optional<ChangedKeys>> keys = ChangedKeysInLog(
        *log, proof, ScanFor(s, spec, to, s.o.fast_verify_max_keys), &why,
        s.prior && s.prior->since_run == proof.run_id && s.prior->to_seq <= to ? &*s.prior
                                                                               : nullptr);
    if (keys.ok()) {
      *out = std::move(keys).value();
      if (!*out) return Status::Aborted("the keys since the proof: " + why);
      return &**out;
    }
    if (keys.status().code() != Status::Code::kUnavailable || Clock::now() >= until) {
      return keys.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the agent's next write
  }
}

// Brings the proof up to now without a full comparison: an incremental held verify of the keys
// changed since it (both sides at one position S), recorded with the counts carried, becomes
// the proof; the check inside the fence then reads only what changes after S.
Result<VerifiedAt> Settle(Switch& s, const VerifySpec& spec, const VerifiedAt& proof) {
  std::optional<ChangedKeys> keys;
  SQLIFT_ASSIGN_OR_RETURN(VerifiedAt settled,
                          HeldVerify(s, spec, [&](uint64_t at) -> Result<const ChangedKeys*> {
                            return KeysUpTo(s, spec, proof, at, &keys);
                          }));
  if (proof.counts.empty()) settled.counts.clear();
  ChangedKeys none;  // nothing changed since the new proof yet
  none.since_run = settled.run_id;
  none.since_seq = none.to_seq = settled.position;
  none.counts_at_since = settled.counts;
  s.prior = std::move(none);
  return settled;
}

// How many keys changed since `proof` (up to the log's end), kept in s.prior for the check
// inside the fence; nullopt with the reason in *why when it is too many or the incremental
// check would not apply.
Result<std::optional<size_t>> ChangesSince(Switch& s, const VerifySpec& spec,
                                           const VerifiedAt& proof, std::string* why) {
  SQLIFT_ASSIGN_OR_RETURN(state::ChangeLog * log, SwitchLog(s));
  SQLIFT_ASSIGN_OR_RETURN(
      s.prior,
      ChangedKeysInLog(*log, proof, ScanFor(s, spec, kToTheEnd, s.o.fast_verify_max_keys), why));
  if (!s.prior) return std::optional<size_t>();
  return std::optional<size_t>(s.prior->count);
}

// The proof (see ProveBeforeFence).
Status Prove(Switch& s, std::string* note) {
  if (!s.o.verify || s.o.full_verify) {
    *note = s.o.verify ? "--full-verify: every row is compared inside the fence"
                       : "skipped (--no-verify)";
    return Status::OK();
  }
  SQLIFT_ASSIGN_OR_RETURN(VerifySpec spec, TenantSpec(s));
  SQLIFT_ASSIGN_OR_RETURN(std::optional<VerifiedAt> proof,
                          LastProof(*s.pg, s.cfg.source_id, s.r.tenant, spec.skip_tenants));
  std::string why = "no matched verify of it yet";
  std::vector<std::string> done;  // what this step ran, for the note
  int full = 0, settled = 0;
  for (int round = 0; round < kMaxRounds; ++round) {
    if (!proof) {
      if (full == kMaxHeldVerifies) break;
      Result<VerifiedAt> fresh = HeldVerify(s, spec);
      if (!fresh.ok()) {
        return fresh.status().With(fmt::format("the held verify before the fence ({})", why));
      }
      proof = std::move(fresh).value();
      done.push_back(fmt::format("held verify at seq {}", proof->position));
      ++full;
    }
    SQLIFT_ASSIGN_OR_RETURN(std::optional<size_t> n, ChangesSince(s, spec, *proof, &why));
    if (n && proof->counts.empty()) why = "it proved no row counts";
    if (!n || proof->counts.empty()) {
      proof.reset();
      continue;
    }
    if (*n == 0 || (settled > 0 && *n <= s.o.max_changes_since_proof)) {
      s.proof = proof;
      *note =
          fmt::format("verify run {} at seq {}; {} keys changed since{}{}", proof->run_id,
                      proof->position, *n, done.empty() ? "" : "; ", fmt::join(done, ", then "));
      return Status::OK();
    }
    Result<VerifiedAt> next = Settle(s, spec, *proof);
    if (!next.ok()) return next.status().With("the held check of the keys changed since the proof");
    done.push_back(
        fmt::format("{} changed keys checked at seq {} with the applier held", *n, next->position));
    proof = std::move(next).value();
    ++settled;
  }
  s.proof = proof;  // the check inside the fence decides, and says why it is full
  *note = fmt::format("no small proof after {}: {}", fmt::join(done, ", then "), why);
  return Status::OK();
}

// The keys s.prior holds, brought up to the log's end as it is: the agent is not waited for.
// A round's soundness needs only that every record up to s.prior->to_seq (T) is in the SQLite
// snapshot the round opens next, which holds because the scan ends before the snapshot opens:
// whatever the snapshot does not hold commits after it, so the agent logs it after T and the
// next scan (or the check inside the fence) unsettles it. What the agent has not logged yet is
// read inside the fence like any later change; waiting for it would only let the writers change
// as many keys again meanwhile (a lagging agent made every round wait seconds).
Status ScanToEnd(Switch& s, const VerifySpec& spec, const VerifiedAt& proof, std::string* why) {
  SQLIFT_ASSIGN_OR_RETURN(state::ChangeLog * log, SwitchLog(s));
  return ExtendChangedKeys(*log, proof, ScanFor(s, spec, kToTheEnd, s.o.fast_verify_max_keys), why,
                           &s.prior);
}

// Waits until the agent has logged what SQLite holds now.
Status WaitForAgent(Switch& s) {
  const WalBarrierOptions agent{s.db->path(), s.wal_progress, s.wal_barrier_timeout};
  return WaitLoggedThrough(agent, *s.db).status();
}

// A fallback's settle (no position to hold while PostgreSQL's writers go on): rounds of
// SettleChangedKeys over s.prior, each after a scan to the log's end (which unsettles what
// changed meanwhile), until at most max_changes_since_proof keys are left to read inside the
// fence, or a round leaves no fewer than the one before (the writers change keys as fast as
// rounds settle them), or kSettleFor has passed. The agent is waited for once, when the rounds
// are done, and the log scanned again: what it had yet to log of the writes made meanwhile
// (the rounds' reads slow it on a loaded machine) is then logged before the fence, not inside
// it, where the check waits for the agent before reading the log; if that leaves too many keys
// again, the rounds go on. Says what it did, for the note.
Result<std::string> SettleUnheld(Switch& s, const VerifySpec& spec, const VerifiedAt& proof) {
  std::string why, first, last;
  const Clock::time_point start = Clock::now();
  size_t before = std::numeric_limits<size_t>::max();
  int rounds = 0;
  bool waited = false;
  std::string stop;
  while (s.prior) {
    SQLIFT_RETURN_IF_ERROR(ScanToEnd(s, spec, proof, &why));
    if (!s.prior) break;
    const size_t left = UnsettledCount(*s.prior);
    if (left <= s.o.max_changes_since_proof) {
      if (waited) break;
      SQLIFT_RETURN_IF_ERROR(WaitForAgent(s));
      waited = true;
      before = std::numeric_limits<size_t>::max();  // the agent's backlog is no stalled round
      continue;
    }
    if (left >= before) {
      stop = "; stopped: no fewer left than before the last round";
      break;
    }
    if (Clock::now() - start >= kSettleFor) {
      stop = fmt::format("; stopped after {} s", kSettleFor.count());
      break;
    }
    before = left;
    SQLIFT_ASSIGN_OR_RETURN(SettleCounts settled, SettleChangedKeys(spec, &*s.prior, kSettleBatch));
    ++rounds;
    last = fmt::format("{} of {} settled after seq {} in {} reads", settled.settled, left,
                       s.prior->to_seq, settled.batches);
    if (rounds == 1) first = last;
  }
  if (s.prior && !waited) {
    SQLIFT_RETURN_IF_ERROR(WaitForAgent(s));
    SQLIFT_RETURN_IF_ERROR(ScanToEnd(s, spec, proof, &why));
  }
  std::string done;
  if (rounds > 0) {
    done = fmt::format("; {} settle round{} in {:.0f} ms: {}{}{}", rounds, rounds == 1 ? "" : "s",
                       std::chrono::duration<double, std::milli>(Clock::now() - start).count(),
                       first, rounds > 1 ? "; the last: " : "", rounds > 1 ? last : "");
    done += stop;
  }
  if (!s.prior) return done + " (then " + why + ")";
  return done + fmt::format(
                    "; {} left unsettled at seq {}, read inside the fence with what "
                    "changes after it",
                    UnsettledCount(*s.prior), s.prior->to_seq);
}

}  // namespace

Status ProveBeforeFence(Switch& s, std::string* note) {
  Status st = Prove(s, note);
  // --timeout guards the fence: it counts from here, however long the proof took.
  s.deadline = Clock::now() + s.o.timeout;
  return st;
}

Status ProveForFallback(Switch& s, std::string* note) {
  if (!s.o.verify || s.o.full_verify) return Prove(s, note);  // says why not
  if (s.wal_progress.empty()) {
    *note =
        "recorder capture mode: the reverse applier's writes are not in the log, so every "
        "row is compared inside the fence";
    return Status::OK();
  }
  SQLIFT_ASSIGN_OR_RETURN(VerifySpec spec, TenantSpec(s));
  SQLIFT_ASSIGN_OR_RETURN(std::optional<VerifiedAt> proof,
                          LastProof(*s.pg, s.cfg.source_id, s.r.tenant, spec.skip_tenants));
  std::string why = "no matched verify of it yet";
  std::optional<size_t> n;
  if (proof) {
    SQLIFT_ASSIGN_OR_RETURN(n, ChangesSince(s, spec, *proof, &why));
  }
  if (!n) {
    *note = fmt::format("every row is compared inside the fence: {}", why);
    return Status::OK();
  }
  s.proof = proof;
  SQLIFT_ASSIGN_OR_RETURN(std::string settled, SettleUnheld(s, spec, *proof));
  *note = fmt::format("verify run {} at seq {}; {} keys changed since on either side{}",
                      proof->run_id, proof->position, *n, settled);
  return Status::OK();
}

Status DatabaseSides::Prove(std::string* note) {
  return ProveBeforeFence(s_, note);
}

}  // namespace sqlift::switching
