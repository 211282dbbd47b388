#include "tools/verify/verify_report.h"

#include <fmt/format.h>

#include <ctime>

#include "apply/pg_sink/pg_state_schema.h"
#include "common/json/json.h"

namespace sqlift {
namespace {

Json ExampleJson(const RowDiffExample& e) {
  Json out = {{"kind", RowDiffName(e.kind)}, {"key", e.key}, {"columns", e.columns}};
  if (!e.sqlite.empty()) out["sqlite"] = e.sqlite;
  if (!e.pg.empty()) out["pg"] = e.pg;
  return out;
}

Json TableJson(const TableVerdict& t) {
  const TableComparison& c = t.comparison;
  Json examples = Json::array();
  for (const RowDiffExample& e : c.examples)
    examples.push_back(ExampleJson(e));
  return {{"table", t.table},
          {"pg_table", t.pg_table},
          {"status", TableStatusName(t.status)},
          {"sqlite_rows", c.sqlite_rows},
          {"pg_rows", c.pg_rows},
          {"counted", t.counted},
          {"rows_read", t.rows_read},
          {"different", c.different},
          {"missing", c.missing},
          {"extra", c.extra},
          {"differing_buckets", c.differing_buckets},
          {"examined_buckets", c.examined_buckets},
          {"complete", c.complete()},
          {"seconds", JsonRounded(t.seconds, 3)},
          {"notes", t.notes},
          {"examples", std::move(examples)}};
}

std::string Counts(const TableComparison& c) {
  std::vector<std::string> parts;
  if (c.different) parts.push_back(fmt::format("{} different", c.different));
  if (c.missing) parts.push_back(fmt::format("{} missing", c.missing));
  if (c.extra) parts.push_back(fmt::format("{} extra", c.extra));
  std::string out = fmt::format("{}", fmt::join(parts, ", "));
  if (!c.complete()) {
    out += fmt::format("{}{} of {} differing key ranges examined (row cap)",
                       out.empty() ? "" : "; ", c.examined_buckets, c.differing_buckets);
  }
  return out;
}

std::string ExampleText(const RowDiffExample& e) {
  std::string out = fmt::format("    {} key {}:", RowDiffName(e.kind), e.key);
  for (size_t i = 0; i < e.columns.size(); ++i) {
    out += (i ? "," : "") + std::string(" ") + QuoteIdentifier(e.columns[i]);
    if (e.kind == RowDiffKind::kDifferent) {
      out += fmt::format(" sqlite {} pg {}", e.sqlite[i], e.pg[i]);
    } else {
      out += " " + (e.kind == RowDiffKind::kMissing ? e.sqlite[i] : e.pg[i]);
    }
  }
  return out + "\n";
}

std::string UtcText(std::chrono::system_clock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(us / 1'000'000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1'000'000);
}

}  // namespace

const char* TableStatusName(TableStatus s) {
  switch (s) {
    case TableStatus::kMatched:
      return "Matched";
    case TableStatus::kDifferent:
      return "Different";
    case TableStatus::kMissing:
      return "Missing";
    case TableStatus::kExtra:
      return "Extra";
  }
  return "?";
}

bool VerifyReport::matched() const {
  return std::all_of(tables.begin(), tables.end(),
                     [](const TableVerdict& t) { return t.status == TableStatus::kMatched; });
}

std::string ReportJson(const VerifyReport& r) {
  Json doc = Json::object();
  if (r.run_id) doc["run_id"] = *r.run_id;
  Json tables = Json::array();
  for (const TableVerdict& t : r.tables)
    tables.push_back(TableJson(t));
  doc.update({{"matched", r.matched()},
              {"sqlite", r.sqlite},
              {"pg", r.pg},
              {"schema", r.schema},
              {"position", r.position},
              {"held", r.held},
              {"tenant_scope", r.tenant_scope},
              {"seconds", JsonRounded(r.seconds, 3)},
              {"tables", std::move(tables)}});
  return DumpJson(doc);
}

std::string ReportText(const VerifyReport& r) {
  std::string out = fmt::format("{:<30} {:>12} {:>12}  {:<10} {}\n", "table", "sqlite rows",
                                "pg rows", "status", "details");
  for (const TableVerdict& t : r.tables) {
    std::string details = Counts(t.comparison);
    for (const std::string& n : t.notes)
      details += (details.empty() ? "" : "; ") + n;
    out += fmt::format("{:<30} {:>12} {:>12}  {:<10} {}\n", t.table, t.comparison.sqlite_rows,
                       t.comparison.pg_rows, TableStatusName(t.status), details);
    for (const RowDiffExample& e : t.comparison.examples)
      out += ExampleText(e);
  }
  size_t matched = std::count_if(r.tables.begin(), r.tables.end(), [](const TableVerdict& t) {
    return t.status == TableStatus::kMatched;
  });
  out += fmt::format("{} of {} tables matched in {:.2f} s at {} position {}{}", matched,
                     r.tables.size(), r.seconds, r.held ? "log" : "SQLite", r.position,
                     r.held ? " (applier held there)" : "");
  if (!r.tenant_scope.empty()) out += "; " + r.tenant_scope;
  if (r.run_id) out += fmt::format("; recorded as sqlift.verify_runs id {}", *r.run_id);
  return out + "\n";
}

Status EnsureVerifyRuns(PgConnection& conn) {
  return conn
      .Exec("CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(kStateSchema) +
            "; CREATE TABLE IF NOT EXISTS " + QuoteQualified(kStateSchema, "verify_runs") +
            " (id bigserial PRIMARY KEY, started_at timestamptz NOT NULL, finished_at "
            "timestamptz NOT NULL, source text, scope text NOT NULL, position bigint, matched "
            "boolean NOT NULL, report jsonb NOT NULL); ALTER TABLE " +
            QuoteQualified(kStateSchema, "verify_runs") +
            " ADD COLUMN IF NOT EXISTS tenant text, ADD COLUMN IF NOT EXISTS skipped jsonb,"
            " ADD COLUMN IF NOT EXISTS all_tables boolean, ADD COLUMN IF NOT EXISTS held "
            "boolean, ADD COLUMN IF NOT EXISTS still boolean, ADD COLUMN IF NOT EXISTS fast "
            "boolean")
      .With("create sqlift.verify_runs");
}

Result<int64_t> RecordVerifyRun(PgConnection& conn, const VerifyReport& report,
                                const VerifyRunRecord& record) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query(
          "INSERT INTO " + QuoteQualified(kStateSchema, "verify_runs") +
              " (started_at, finished_at, source, scope, position, matched, report, tenant, "
              "skipped, all_tables, held, still, fast) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
              "$9, $10, $11, $12, $13) RETURNING id",
          {UtcText(record.started_at), UtcText(record.finished_at), record.source, record.scope,
           std::to_string(report.position), report.matched() ? "t" : "f", ReportJson(report),
           record.tenant, DumpJson(Json(record.skipped)), record.all_tables ? "t" : "f",
           report.held ? "t" : "f", record.still ? "t" : "f", record.fast ? "t" : "f"}));
  return r.GetInt64(0, 0);
}

}  // namespace sqlift
