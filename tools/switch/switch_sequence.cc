// The order of a switch's steps (see switch_sequence.h).
#include "tools/switch/switch_sequence.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace sqlift::switching {
namespace {

// One run of the sequence: the sides, the report, the route read by "check", and when the
// fence committed (the write pause starts).
struct Run {
  SwitchSides& sides;
  SwitchReport& r;
  RouteRow route;
  Clock::time_point fenced_at;

  Status Step(const std::string& name, const std::function<Status(std::string*)>& body) {
    return RunStep(fmt::format("{} {}", r.direction, DescribeTenant(r.tenant)), &r.steps, name,
                   body);
  }
};

Result<uint64_t> SetRoute(Run& s, std::string_view side, int64_t epoch, bool fenced) {
  RouteRow row;
  row.tenant = s.r.tenant;
  row.side = std::string(side);
  row.epoch = epoch;
  row.fenced = fenced;
  return s.sides.SetRoute(row);
}

Status Check(Run& s) {
  Status st = s.Step("check", [&](std::string* n) { return s.sides.Check(&s.route, n); });
  s.r.epoch_before = s.r.epoch_after = s.route.epoch;
  return st;
}

// The fence (r.fence_seq; the pause starts).
Status Fence(Run& s, std::string_view side, const std::string& what) {
  return s.Step("fence", [&](std::string* n) -> Status {
    SQLIFT_ASSIGN_OR_RETURN(s.r.fence_seq, SetRoute(s, side, s.route.epoch, true));
    s.fenced_at = s.sides.LastRouteCommit().value_or(Clock::now());
    *n = fmt::format("{} (seq {})", what, s.r.fence_seq);
    return Status::OK();
  });
}

// The flip to the other side at epoch + 1 (r.flip_seq, r.epoch_after): the commit point.
Status Flip(Run& s, std::string_view to, const std::string& what) {
  return s.Step("flip", [&](std::string* n) -> Status {
    SQLIFT_ASSIGN_OR_RETURN(s.r.flip_seq, SetRoute(s, to, s.route.epoch + 1, false));
    s.r.epoch_after = s.route.epoch + 1;
    *n = fmt::format("route {}, epoch {}, at seq {}: {}", to, s.r.epoch_after, s.r.flip_seq, what);
    return Status::OK();
  });
}

// After a failure before the flip: the fence lifted (r.reason and r.undone say what happened).
void Undo(Run& s, std::string_view side, const Status& why, const std::string& what) {
  s.r.reason = why.ToString();
  Status undo = s.Step("undo", [&](std::string* n) -> Status {
    SQLIFT_ASSIGN_OR_RETURN(uint64_t seq, SetRoute(s, side, s.route.epoch, false));
    *n = fmt::format("fence lifted at seq {}: {}", seq, what);
    return Status::OK();
  });
  s.r.undone = undo.ok();
  if (!undo.ok()) s.r.reason += "; the undo failed too: " + undo.ToString();
  s.r.pause_ms = MsSince(s.fenced_at);
}

Status BeforeFlip(const Status& st, const SwitchSides& sides) {
  if (st.ok() && sides.TimedOut()) return Status::Aborted("the timeout passed before the flip");
  return st;
}

}  // namespace

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

Status RunStep(const std::string& label, std::vector<SwitchStep>* steps, const std::string& name,
               const std::function<Status(std::string* note)>& body) {
  Clock::time_point start = Clock::now();
  SwitchStep step{name, 0, false, ""};
  Status st = body(&step.note);
  step.ms = MsSince(start);
  step.ok = st.ok();
  if (!st.ok()) step.note = st.ToString();
  spdlog::info("{}: {} ({:.0f} ms){}", label, name, step.ms,
               step.note.empty() ? "" : ": " + step.note);
  steps->push_back(std::move(step));
  return st;
}

Status CutoverRouteAllows(const RouteRow& route, const std::string& tenant) {
  if (!route.on_postgres()) return Status::OK();
  return Status::FailedPrecondition(fmt::format(
      "{} is already routed to postgres (epoch {}){}", DescribeTenant(tenant), route.epoch,
      route.fenced ? " and fenced by a fallback: run `sqlift fallback`" : ""));
}

Status FallbackRouteAllows(const RouteRow& route, const std::string& tenant) {
  if (route.on_postgres()) return Status::OK();
  return Status::FailedPrecondition(
      fmt::format("{} is routed to sqlite (epoch {}){}", DescribeTenant(tenant), route.epoch,
                  route.fenced ? " and fenced by a cutover: run `sqlift "
                                 "cutover` to finish or undo it"
                               : ": nothing to fall back"));
}

void RunCutoverSequence(SwitchSides& sides, const SwitchOptions& o, SwitchReport* r) {
  Run s{sides, *r, {}, {}};
  Status st = Check(s);
  if (st.ok()) st = s.Step("catch up", [&](std::string* n) { return sides.CatchUp(n); });
  if (st.ok()) st = s.Step("prove", [&](std::string* n) { return sides.Prove(n); });
  if (st.ok()) {
    st = s.Step("sequences ahead", [&](std::string* n) { return sides.SetSequences(false, n); });
  }
  if (st.ok()) st = s.Step("reverse", [&](std::string* n) { return sides.PrepareReverse(n); });
  if (st.ok()) st = Fence(s, kSideSqlite, "SQLite refuses the tenant's writes (retryable)");
  if (!st.ok()) {
    r->reason = st.ToString();
    return;
  }
  st = s.Step("drain", [&](std::string* n) { return sides.WaitApplied(r->fence_seq, n); });
  if (st.ok()) {
    st = s.Step("verify", [&](std::string* n) { return sides.Verify(!o.full_verify, n); });
  }
  st = BeforeFlip(st, sides);
  if (st.ok()) {
    st = s.Step("sequences", [&](std::string* n) { return sides.SetSequences(true, n); });
  }
  if (st.ok()) st = Flip(s, kSidePostgres, "PostgreSQL opens once it is applied");
  if (!st.ok()) {  // before the commit point: lift the fence, the tenant stays on SQLite
    Undo(s, kSideSqlite, st, "the tenant stays on SQLite");
    return;
  }
  // After the commit point: PostgreSQL opens the tenant when the applier applies the flip.
  sides.ExtendDeadline(std::chrono::seconds(10));
  st = s.Step("open", [&](std::string* n) { return sides.WaitApplied(r->flip_seq, n); });
  r->pause_ms = MsSince(s.fenced_at);
  r->ok = st.ok();
  if (!st.ok()) {
    r->reason = st.ToString() +
                "; the route is flipped: PostgreSQL takes the tenant's writes as soon as the "
                "applier applies seq " +
                std::to_string(r->flip_seq);
  }
}

void RunFallbackSequence(SwitchSides& sides, const SwitchOptions& o, SwitchReport* r) {
  Run s{sides, *r, {}, {}};
  Status st = Check(s);
  if (st.ok()) {
    st = s.Step("catch up", [&](std::string* n) { return sides.WaitReverseDrained(n); });
  }
  if (st.ok()) st = s.Step("prove", [&](std::string* n) { return sides.Prove(n); });
  if (st.ok()) {
    st = Fence(s, kSidePostgres, "writers told to wait; PostgreSQL refuses once it is applied");
  }
  if (!st.ok()) {
    r->reason = st.ToString();
    return;
  }
  // PostgreSQL refuses the tenant's writes once the fence is applied (and ApplyRoute waited for
  // the writes in flight); everything written before it then flows back through the slot.
  st = s.Step("fence postgres", [&](std::string* n) { return sides.WaitApplied(r->fence_seq, n); });
  if (st.ok()) {
    st = s.Step("drain", [&](std::string* n) { return sides.WaitReverseDrained(n); });
  }
  if (st.ok()) {
    st = s.Step("verify", [&](std::string* n) { return sides.Verify(!o.full_verify, n); });
  }
  st = BeforeFlip(st, sides);
  if (st.ok()) st = Flip(s, kSideSqlite, "SQLite takes the writes");
  if (!st.ok()) {  // before the commit point: the tenant stays on PostgreSQL
    Undo(s, kSidePostgres, st, "the tenant stays on PostgreSQL");
    return;
  }
  r->pause_ms = MsSince(s.fenced_at);
  sides.ExtendDeadline(std::chrono::seconds(20));
  st = s.Step("close", [&](std::string* n) -> Status {
    SQLIFT_RETURN_IF_ERROR(sides.WaitApplied(r->flip_seq, n));
    std::string closed;
    SQLIFT_RETURN_IF_ERROR(sides.CloseReverse(&closed));
    *n += "; " + closed;
    return Status::OK();
  });
  r->ok = true;  // the tenant is back on SQLite; a failed close is in its step, for the operator
}

}  // namespace sqlift::switching
