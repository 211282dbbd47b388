// The reverse applier's tenant rules (see reverse_applier.h): whose row a change touches, and
// whether that tenant's route lets PostgreSQL write it.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "apply/reverse/reverse_applier.h"

namespace sqlift {

namespace {

using pgchange::Change;
using pgchange::Datum;

}  // namespace

// The tenants a change touches: one, or two for an update that moves a row between tenants.
// Empty when it cannot touch a row at all (an update or delete of a row SQLite does not hold).
Result<std::vector<std::string>> ReverseApplier::RowTenants(const ReverseTarget& t,
                                                            const Change& c) {
  if (t.tenant_col < 0) return std::vector<std::string>{std::string(kWholeDatabase)};
  const std::string& column = t.rel->columns[t.tenant_col].name;
  // The tenant in `tuple`; nullopt for an unchanged TOAST value.
  auto tenant_in = [&](const std::vector<Datum>& tuple) -> Result<std::optional<std::string>> {
    const Datum& d = tuple[t.tenant_col];
    if (d.kind == Datum::Kind::kUnchanged) return std::optional<std::string>();
    if (d.kind == Datum::Kind::kNull) {
      return Status::FailedPrecondition(
          fmt::format("reverse replication: {} key {} has a NULL tenant column {}: cannot route "
                      "it, refused",
                      t.pg_name, DescribeKey(t, KeyTuple(c)), column));
    }
    return std::optional<std::string>(d.text);
  };
  std::optional<std::string> now, before;
  if (c.op != Change::Op::kDelete) {
    SQLIFT_ASSIGN_OR_RETURN(now, tenant_in(c.new_tuple));
    if (c.op == Change::Op::kInsert) {
      if (!now) return Status::InvalidArgument(t.pg_name + ": insert without its tenant value");
      return std::vector<std::string>{*now};
    }
  }
  if (t.tenant_in_key) {
    if (c.old_tuple.empty()) {
      before = now;  // an update that kept its key kept its tenant
    } else {
      SQLIFT_ASSIGN_OR_RETURN(before, tenant_in(c.old_tuple));
    }
  } else if (options_.constant_tenant) {
    return Status::FailedPrecondition(fmt::format(
        "reverse replication: {}: tenant column {} is not part of PostgreSQL's replica "
        "identity, so an update or delete cannot be attributed to a source (put it in the "
        "primary key)",
        t.pg_name, column));
  } else {
    // PostgreSQL did not send the old tenant: the row as SQLite holds it says whose it is.
    SQLIFT_ASSIGN_OR_RETURN(before, writer_.ReadText(t, KeyTuple(c), t.sqlite_col[t.tenant_col]));
  }
  std::vector<std::string> out;
  if (before) out.push_back(*before);
  if (now && now != before) out.push_back(*now);
  return out;
}

Result<bool> ReverseApplier::CheckConstants(const pgchange::Transaction& txn,
                                            const ReverseTarget& t, const Change& c) {
  for (const auto& [col, value] : t.constants) {
    // An old tuple of only the replica identity carries no constant that is not in it: a
    // delete by key then finds the row only if this source holds it.
    const std::vector<Datum>& tuple = c.op == Change::Op::kDelete ? c.old_tuple : c.new_tuple;
    const Datum& d = tuple[col];
    if (d.kind != Datum::Kind::kText || d.text == value) continue;
    if (c.op == Change::Op::kUpdate) {
      // A row of this source given another source's value would be left behind in SQLite.
      SQLIFT_ASSIGN_OR_RETURN(
          std::optional<std::string> held,
          writer_.ReadText(t, KeyTuple(c), static_cast<int>(t.table->PrimaryKeyColumns()[0])));
      if (held) {
        return Status::FailedPrecondition(fmt::format(
            "{} set {} of {} key {} to {}, but this source's rows hold {}: a row cannot move "
            "between sources, refused",
            ReverseTxnName(txn), t.rel->columns[col].name, t.pg_name, DescribeKey(t, KeyTuple(c)),
            d.text, value));
      }
    }
    return false;  // another source's row
  }
  return true;
}

Result<bool> ReverseApplier::CheckTenants(const pgchange::Transaction& txn, const ReverseTarget& t,
                                          const Change& c, const std::vector<RouteRow>& routes) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<std::string> tenants, RowTenants(t, c));
  std::string tenant_text = tenants.size() == 2
                                ? fmt::format("{} and {}", tenants[0], tenants[1])
                                : (tenants.empty() ? std::string("(none)") : tenants[0]);
  if (options_.constant_tenant && t.tenant_col >= 0) {
    const std::string& self = *options_.constant_tenant;
    size_t mine = std::count(tenants.begin(), tenants.end(), self);
    if (mine == 0) return false;  // another source's row
    if (mine != tenants.size()) {
      return Status::FailedPrecondition(
          fmt::format("{} moved {} key {} between tenants {}: a row cannot move between "
                      "database-per-tenant sources, refused",
                      ReverseTxnName(txn), t.pg_name, DescribeKey(t, KeyTuple(c)), tenant_text));
    }
  }
  for (const std::string& tenant : tenants) {
    RouteRow route = LookupRoute(routes, tenant);
    if (route.on_postgres()) continue;  // fenced or not
    return Status::FailedPrecondition(
        fmt::format("{} changed {} key {} of tenant {}, which is routed to {} (epoch {}): refused",
                    ReverseTxnName(txn), t.pg_name, DescribeKey(t, KeyTuple(c)), tenant, route.side,
                    route.epoch));
  }
  return true;
}

}  // namespace sqlift
