// RunFallback (the protocol is in switch_run.h).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "apply/reverse/source_layout.h"
#include "capture/outbox/route_table.h"
#include "capture/pg_logical/pg_replication_admin.h"
#include "tools/switch/switch_proof.h"
#include "tools/switch/switch_run.h"
#include "tools/switch/switch_steps.h"

namespace sqlift {
namespace {

using switching::Switch;

Status Prepare(Switch& s, std::string* note) {
  SQLIFT_RETURN_IF_ERROR(switching::Open(s));
  SQLIFT_RETURN_IF_ERROR(switching::FallbackRouteAllows(s.route, s.r.tenant));
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

// The fallback's steps over the real databases.
class FallbackSides final : public switching::DatabaseSides {
 public:
  using DatabaseSides::DatabaseSides;

  Status Check(RouteRow* route, std::string* note) override {
    Status st = Prepare(s_, note);
    *route = s_.route;
    return st;
  }
  Status Prove(std::string* note) override { return switching::ProveForFallback(s_, note); }
  Status CloseReverse(std::string* note) override { return sqlift::CloseReverse(s_, note); }
};

}  // namespace

SwitchReport RunFallback(const Config& cfg, const SwitchOptions& o) {
  SwitchReport r;
  r.direction = "fallback";
  r.tenant = o.tenant;
  FallbackSides sides(cfg, o, r);
  switching::RunFallbackSequence(sides, o, &r);
  return r;
}

}  // namespace sqlift
