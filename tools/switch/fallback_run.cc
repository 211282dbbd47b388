// RunFallback (the protocol is in switch_run.h).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "capture/pg_logical/pg_replication_admin.h"
#include "capture/outbox/route_table.h"
#include "apply/reverse/source_layout.h"
#include "tools/switch/switch_run.h"
#include "tools/switch/switch_steps.h"

namespace sqlift {
namespace {

using switching::Clock;
using switching::Switch;

Status Prepare(Switch& s, std::string* note) {
  SQLIFT_RETURN_IF_ERROR(switching::Open(s));
  if (!s.route.on_postgres()) {
    return Status::FailedPrecondition(fmt::format(
        "{} is routed to sqlite (epoch {}){}", DescribeTenant(s.r.tenant), s.route.epoch,
        s.route.fenced ? " and fenced by a cutover: run `sqlift "
                         "cutover` to finish or undo it"
                       : ": nothing to fall back"));
  }
  SQLIFT_ASSIGN_OR_RETURN(SlotInfo slot, GetSlot(*s.pg, ReplicationNameFor(s.cfg)));
  if (!slot.exists) {
    return Status::FailedPrecondition(fmt::format(
        "the replication slot {} does not exist: PostgreSQL's writes cannot be brought back",
        ReplicationNameFor(s.cfg)));
  }
  *note = fmt::format("route postgres, epoch {}{}; slot {}", s.route.epoch,
                      s.route.fenced ? " (fenced by an interrupted fallback)" : "",
                      slot.active ? "streaming" : "not streaming (is `sqlift capture` running?)");
  return Status::OK();
}

// When no tenant is left on PostgreSQL, reverse replication has nothing more to do: the slot
// goes, so WAL does not pile up behind it (the agent closes its stream when it sees the route).
// A cutover in progress holds the same lock shared from the moment it made sure of the slot to
// its end, so the routes read here include its flip.
Status CloseReverse(Switch& s, std::string* note) {
  const std::string name = ReplicationNameFor(s.cfg);
  const std::string lock = "sqlift.reverse/" + name;
  SQLIFT_RETURN_IF_ERROR(s.pg->Query("SELECT pg_advisory_lock(hashtext($1))", {lock}).status());
  Status st = [&]() -> Status {
    SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(s.db->handle()));
    if (std::any_of(routes.begin(), routes.end(),
                    [](const RouteRow& r) { return r.on_postgres(); })) {
      *note = "other tenants are on postgres: the slot stays";
      return Status::OK();
    }
    SQLIFT_RETURN_IF_ERROR(DropSlot(*s.pg, name, std::chrono::seconds(15)));
    SQLIFT_RETURN_IF_ERROR(DropPublication(*s.pg, name));
    *note = "no tenant on postgres: slot and publication " + name + " dropped";
    return Status::OK();
  }();
  Status unlocked = s.pg->Query("SELECT pg_advisory_unlock(hashtext($1))", {lock}).status();
  return st.ok() ? unlocked : st;
}

}  // namespace

SwitchReport RunFallback(const Config& cfg, const SwitchOptions& o) {
  SwitchReport r;
  r.direction = "fallback";
  r.tenant = o.tenant;
  Switch s(cfg, o, r);
  Status st = s.Step("check", [&](std::string* n) { return Prepare(s, n); });
  if (st.ok()) {
    st = s.Step("catch up", [&](std::string* n) { return switching::WaitReverseDrained(s, n); });
  }
  if (st.ok()) {
    st = switching::Fence(s, kSidePostgres,
                          "writers told to wait; PostgreSQL refuses once it is applied");
  }
  if (!st.ok()) {
    r.reason = st.ToString();
    return r;
  }
  // PostgreSQL refuses the tenant's writes once the fence is applied (and ApplyRoute waited for
  // the writes in flight); everything written before it then flows back through the slot.
  st = s.Step("fence postgres",
              [&](std::string* n) { return switching::WaitApplied(s, r.fence_seq, n); });
  if (st.ok()) {
    st = s.Step("drain", [&](std::string* n) { return switching::WaitReverseDrained(s, n); });
  }
  if (st.ok()) {
    st = s.Step("verify", [&](std::string* n) { return switching::VerifyTenant(s, false, n); });
  }
  if (st.ok() && s.TimedOut()) st = Status::Aborted("the timeout passed before the flip");
  if (st.ok()) st = switching::Flip(s, kSideSqlite, "SQLite takes the writes");
  if (!st.ok()) {  // before the commit point: the tenant stays on PostgreSQL
    switching::Undo(s, kSidePostgres, st, "the tenant stays on PostgreSQL");
    return r;
  }
  r.pause_ms = switching::MsSince(s.fenced_at);
  s.deadline = std::max(s.deadline, Clock::now() + std::chrono::seconds(20));
  st = s.Step("close", [&](std::string* n) -> Status {
    SQLIFT_RETURN_IF_ERROR(switching::WaitApplied(s, r.flip_seq, n));
    std::string closed;
    SQLIFT_RETURN_IF_ERROR(CloseReverse(s, &closed));
    *n += "; " + closed;
    return Status::OK();
  });
  r.ok = true;  // the tenant is back on SQLite; a failed close is in its step, for the operator
  return r;
}

}  // namespace sqlift
