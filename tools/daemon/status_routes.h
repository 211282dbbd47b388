// The routes and reverse replication part of `sqlift status`: each tenant's route as SQLite
// decides it and as PostgreSQL enforces it (they agree once the applier has applied the last
// route event), and the replication slot reverse replication streams from.
//
// Thread safety: functions of their arguments, one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/json/json.h"

namespace sqlift {

struct TenantRouteStatus {
  std::string tenant;
  std::string side;  // SQLite's _sqlift_route (the authority)
  int64_t epoch = 0;
  bool fenced = false;
  std::optional<std::string> pg_side;  // sqlift.route; none before the applier applied it
  std::optional<int64_t> pg_epoch;
  std::optional<bool> pg_fenced;
};

struct ReverseStatus {
  bool slot = false, active = false;
  std::string confirmed_lsn;         // the slot's confirmed position
  std::optional<int64_t> lag_bytes;  // WAL written on PostgreSQL since then
  std::string sqlite_lsn;            // _sqlift_state's reverse_lsn (what SQLite holds)
};

// Reads both sides; what cannot be read is added to *errors.
void GatherRoutes(const Config& cfg, std::vector<TenantRouteStatus>* routes, ReverseStatus* reverse,
                  std::vector<std::string>* errors);

// Sets "routes" (a list) and "reverse" (an object) in `status`, the `sqlift status --json`
// document.
void AddRoutesStatusJson(const std::vector<TenantRouteStatus>& routes, const ReverseStatus& reverse,
                         Json* status);
std::string RoutesStatusText(const std::vector<TenantRouteStatus>& routes,
                             const ReverseStatus& reverse);

}  // namespace sqlift
