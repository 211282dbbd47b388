#include "capture/outbox/guard_triggers.h"

#include <fmt/format.h>

#include <map>

#include "capture/outbox/outbox.h"

namespace sqlift {
namespace {

constexpr std::string_view kRefusalView = "_sqlift_guard_refusal";
constexpr std::string_view kMessagesTrigger = "_sqlift_guard_messages";
constexpr std::string_view kViewSql =
    "CREATE VIEW _sqlift_guard_refusal AS SELECT NULL AS tenant, NULL AS side, NULL AS epoch, "
    "NULL AS fenced WHERE 0";
// The end of every refusal: reached only when no baked message matched the live route.
constexpr std::string_view kGenericFenced =
    "SELECT RAISE(ABORT, 'sqlift: a tenant this write touches is being switched; retry "
    "shortly') WHERE NEW.fenced <> 0; ";
constexpr std::string_view kGenericPostgres =
    "SELECT RAISE(ABORT, 'sqlift: a tenant this write touches is on postgres'); ";
constexpr std::string_view kTableFallback =
    "SELECT RAISE(ABORT, 'sqlift: a tenant this write touches is not on sqlite (see "
    "_sqlift_route)'); ";

// An SQL string literal.
std::string SqlText(std::string_view s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// 1 when the route of tenant expression `x` refuses SQLite writes; the whole-database route
// when the tenant has no row of its own; 0 when neither has one.
std::string Blocked(const std::string& x) {
  auto of = [](const std::string& tenant) {
    return "(SELECT side <> 'sqlite' OR fenced <> 0 FROM _sqlift_route WHERE tenant = " + tenant +
           ")";
  };
  if (x == "'*'") return fmt::format("coalesce({}, 0)", of(x));
  return fmt::format("coalesce({}, {}, 0)", of(x), of("'*'"));
}

// Hands the route that refuses tenant expression `x` to the messages trigger, which raises.
std::string Refuse(const std::string& x) {
  return fmt::format(
      "INSERT INTO _sqlift_guard_refusal (tenant, side, epoch, fenced) SELECT tenant, side, "
      "epoch, fenced FROM _sqlift_route WHERE tenant = coalesce((SELECT tenant FROM "
      "_sqlift_route WHERE tenant = {}), '*') AND (side <> 'sqlite' OR fenced <> 0); ",
      x);
}

// True unless the reverse applier's transaction is writing.
std::string Pass() {
  return fmt::format("NOT EXISTS (SELECT 1 FROM _sqlift_state WHERE key = {})",
                     SqlText(kStateReverseWriter));
}

struct GuardObject {
  std::string type;  // "trigger" | "view"
  std::string name;
  std::string sql;
};

// The tenant of row `row` ("NEW"/"OLD") as an SQL text expression (route_table.h).
std::string TenantExpr(const char* row, const TenantScheme& scheme, const std::string& column) {
  if (!scheme.constant.empty()) return SqlText(scheme.constant);
  if (column.empty()) return "'*'";
  return fmt::format("coalesce(CAST({}.{} AS TEXT), '*')", row, QuoteSqliteIdentifier(column));
}

GuardObject TableTrigger(const std::string& table, const char* op, const std::string& when,
                         const std::string& body) {
  std::string name = fmt::format("{}{}_{}", kGuardPrefix, op, table);
  std::string upper(op);
  for (char& c : upper)
    c = static_cast<char>(c - 'a' + 'A');
  return {"trigger", name,
          fmt::format("CREATE TRIGGER {} BEFORE {} ON {} WHEN ({}) AND {} BEGIN {}{}END",
                      QuoteSqliteIdentifier(name), upper, QuoteSqliteIdentifier(table), when,
                      Pass(), body, kTableFallback)};
}

// The three guards of `table`; `column` is its tenant column ("" when it has none).
void TableGuards(const std::string& table, const TenantScheme& scheme, const std::string& column,
                 std::vector<GuardObject>* out) {
  std::string now = TenantExpr("NEW", scheme, column);
  std::string before = TenantExpr("OLD", scheme, column);
  out->push_back(TableTrigger(table, "insert", Blocked(now), Refuse(now)));
  out->push_back(TableTrigger(table, "delete", Blocked(before), Refuse(before)));
  if (now == before) {  // the tenant does not depend on the row
    out->push_back(TableTrigger(table, "update", Blocked(now), Refuse(now)));
    return;
  }
  std::string moved = fmt::format("NEW.{0} IS NOT OLD.{0}", QuoteSqliteIdentifier(column));
  out->push_back(TableTrigger(
      table, "update", fmt::format("{} OR ({} AND {})", Blocked(before), moved, Blocked(now)),
      Refuse(before) + Refuse(now)));
}

std::string MessagesSql(const std::vector<RouteRow>& routes) {
  std::string body;
  for (const RouteRow& r : routes) {
    if (r.sqlite_writable() || r.tenant.find('\0') != std::string::npos) continue;
    body += fmt::format("SELECT RAISE(ABORT, {}) WHERE NEW.tenant = {} AND NEW.epoch = {} AND {}; ",
                        SqlText(GuardMessage(r)), SqlText(r.tenant), r.epoch,
                        r.fenced ? "NEW.fenced <> 0" : "NEW.fenced = 0 AND NEW.side = 'postgres'");
  }
  return fmt::format("CREATE TRIGGER {} INSTEAD OF INSERT ON {} BEGIN {}{}{}END", kMessagesTrigger,
                     kRefusalView, body, kGenericFenced, kGenericPostgres);
}

// The tenant column of `table` as the table spells it ("" when it has none); NotFound when the
// table does not exist.
Result<std::string> TenantColumn(SqliteDb& db, const std::string& table,
                                 const std::string& column) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt,
                          db.Prepare("SELECT name FROM pragma_table_info(?1, 'main')"));
  SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, table));
  bool any = false;
  std::string found;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    any = true;
    std::string name(stmt.ColumnText(0));
    if (!column.empty() && sqlite3_stricmp(name.c_str(), column.c_str()) == 0) found = name;
  }
  if (!any) return Status::NotFound("no table " + table);
  return found;
}

Result<std::vector<GuardObject>> Wanted(SqliteDb& db, const std::vector<std::string>& tables,
                                        const TenantScheme& scheme) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(db.handle()));
  std::vector<GuardObject> out = {{"view", std::string(kRefusalView), std::string(kViewSql)},
                                  {"trigger", std::string(kMessagesTrigger), MessagesSql(routes)}};
  for (const std::string& table : tables) {
    if (outbox::IsReservedTable(table)) continue;
    Result<std::string> column = TenantColumn(db, table, scheme.column);
    if (!column.ok() && column.status().code() == Status::Code::kNotFound) continue;
    if (!column.ok()) return column.status();
    TableGuards(table, scheme, *column, &out);
  }
  return out;
}

Result<std::map<std::string, GuardObject>> Existing(SqliteDb& db) {
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement stmt,
      db.Prepare("SELECT type, name, sql FROM main.sqlite_schema WHERE type IN ('trigger', "
                 "'view') AND name LIKE '\\_sqlift\\_guard\\_%' ESCAPE '\\'"));
  std::map<std::string, GuardObject> out;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    GuardObject g{std::string(stmt.ColumnText(0)), std::string(stmt.ColumnText(1)),
                  std::string(stmt.ColumnText(2))};
    out.emplace(g.name, std::move(g));
  }
  return out;
}

std::string Drop(const GuardObject& g) {
  return fmt::format("DROP {} IF EXISTS main.{}; ", g.type == "view" ? "VIEW" : "TRIGGER",
                     QuoteSqliteIdentifier(g.name));
}

// The statements that turn the guards in the file into `wanted` ("" when they already are).
// Triggers are dropped before the view, which is created before the triggers.
std::string Plan(const std::vector<GuardObject>& wanted,
                 std::map<std::string, GuardObject> existing) {
  auto view = existing.find(std::string(kRefusalView));
  const bool rebuild = view == existing.end() || view->second.sql != kViewSql;
  std::string drop_triggers, drop_views, creates;
  auto drop = [&](const GuardObject& g) {
    (g.type == "view" ? drop_views : drop_triggers) += Drop(g);
  };
  for (const GuardObject& w : wanted) {
    auto it = existing.find(w.name);
    bool same = !rebuild && it != existing.end() && it->second.sql == w.sql;
    if (it != existing.end()) {
      if (!same) drop(it->second);
      existing.erase(it);
    }
    if (!same) creates += w.sql + "; ";
  }
  for (const auto& [name, g] : existing)  // guards of tables no longer listed
    drop(g);
  return drop_triggers + drop_views + creates;
}

Result<std::string> PlanFor(SqliteDb& db, const std::vector<std::string>& tables,
                            const TenantScheme& scheme) {
  SQLIFT_ASSIGN_OR_RETURN(std::vector<GuardObject> wanted, Wanted(db, tables, scheme));
  SQLIFT_ASSIGN_OR_RETURN(auto existing, Existing(db));
  return Plan(wanted, std::move(existing));
}

}  // namespace

std::string GuardMessage(const RouteRow& route) {
  // DescribeTenant: the tenant named as the recorder's fence names it.
  if (route.fenced) {
    return fmt::format("sqlift: {} is being switched (epoch {}); retry shortly",
                       DescribeTenant(route.tenant), route.epoch);
  }
  return fmt::format("sqlift: {} is on postgres (epoch {})", DescribeTenant(route.tenant),
                     route.epoch);
}

Status InstallGuards(SqliteDb& db, const std::vector<std::string>& tables,
                     const TenantScheme& scheme) {
  SQLIFT_ASSIGN_OR_RETURN(std::string sql, PlanFor(db, tables, scheme));
  if (sql.empty()) return Status::OK();
  if (!sqlite3_get_autocommit(db.handle())) {
    return db.Exec(sql).With("install sqlift's guard triggers");
  }
  // Plan again under the write lock: the file may have changed since.
  SQLIFT_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status st = InstallGuards(db, tables, scheme);
  if (st.ok()) st = db.Exec("COMMIT");
  if (!st.ok()) (void)db.Exec("ROLLBACK");
  return st;
}

Result<bool> GuardsInstalled(SqliteDb& db) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt,
                          db.Prepare("SELECT 1 FROM main.sqlite_schema WHERE type = 'view' AND "
                                     "name = '_sqlift_guard_refusal'"));
  return stmt.Step();
}

Status RefreshGuardMessages(SqliteDb& db) {
  SQLIFT_ASSIGN_OR_RETURN(bool installed, GuardsInstalled(db));
  if (!installed) return Status::OK();
  SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(db.handle()));
  std::string sql = MessagesSql(routes);
  SQLIFT_ASSIGN_OR_RETURN(auto existing, Existing(db));
  auto it = existing.find(std::string(kMessagesTrigger));
  if (it != existing.end() && it->second.sql == sql) return Status::OK();
  return db.Exec(fmt::format("DROP TRIGGER IF EXISTS main.{}; {}", kMessagesTrigger, sql))
      .With("rewrite sqlift's guard messages");
}

Status RemoveGuards(SqliteDb& db) {
  SQLIFT_ASSIGN_OR_RETURN(auto existing, Existing(db));
  std::string triggers, views;
  for (const auto& [name, g] : existing)
    (g.type == "view" ? views : triggers) += Drop(g);
  if (triggers.empty() && views.empty()) return Status::OK();
  std::string sql = triggers + views;
  return db.Exec(sql).With("drop sqlift's guard triggers");
}

Status OpenGuardPass(SqliteDb& db) {
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement stmt,
      db.Prepare("INSERT OR REPLACE INTO main._sqlift_state (key, value) VALUES (?1, 1)"));
  SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, kStateReverseWriter));
  return stmt.Run().With("mark the reverse applier's transaction");
}

Status CloseGuardPass(SqliteDb& db) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement count,
                          db.Prepare("INSERT INTO main._sqlift_state (key, value) VALUES (?1, 1) "
                                     "ON CONFLICT (key) DO UPDATE SET value = value + 1"));
  SQLIFT_RETURN_IF_ERROR(count.BindText(1, kStateReverseApplied));
  SQLIFT_RETURN_IF_ERROR(count.Run().With("count the reverse applier's transaction"));
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt,
                          db.Prepare("DELETE FROM main._sqlift_state WHERE key = ?1"));
  SQLIFT_RETURN_IF_ERROR(stmt.BindText(1, kStateReverseWriter));
  return stmt.Run().With("unmark the reverse applier's transaction");
}

}  // namespace sqlift
