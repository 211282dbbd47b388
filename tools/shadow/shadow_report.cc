// ShadowReportText and ShadowReportJson (see shadow_replay.h).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "capture/shadow_sampler/shadow_log.h"
#include "common/base/text.h"
#include "common/json/json.h"
#include "tools/shadow/shadow_replay.h"

namespace sqlift {
namespace {

constexpr size_t kSqlShown = 400;  // bytes of a query's text in the text report

// Keys of the JSON report.
const char* OutcomeKey(QueryOutcome o) {
  switch (o) {
    case QueryOutcome::kMatched:
      return "matched";
    case QueryOutcome::kDifferent:
      return "different";
    case QueryOutcome::kOrderDiffers:
      return "order_differs";
    case QueryOutcome::kInvalidOnPg:
      return "invalid_on_pg";
    case QueryOutcome::kFailedOnSqlite:
      return "failed_on_sqlite";
  }
  return "?";
}

// SQL for a terminal: bytes that are not UTF-8 as \xNN, long texts cut.
std::string ShownSql(const std::string& sql) {
  std::string out;
  for (size_t i = 0; i < sql.size() && out.size() < kSqlShown;) {
    size_t len = Utf8SequenceLength(sql, i);
    if (len == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(sql[i]));
      ++i;
    } else {
      out.append(sql, i, len);
      i += len;
    }
  }
  if (out.size() >= kSqlShown) out += " ...";
  return out;
}

std::string Count(int64_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string Row(const std::optional<std::vector<std::string>>& row) {
  return row ? fmt::format("({})", fmt::join(*row, ", ")) : "(none)";
}

void AppendQueryText(const QueryReport& q, std::string* out) {
  std::string times = q.entries > 1 ? fmt::format(" [{} log entries]", q.entries) : "";
  *out += fmt::format("  {}{}\n", ShownSql(q.sql), times);
  switch (q.outcome) {
    case QueryOutcome::kDifferent:
      *out += fmt::format("    {}\n", q.rows.detail);
      if (q.rows.sqlite_row || q.rows.pg_row) {
        *out += fmt::format("    only on SQLite:     {}\n", Row(q.rows.sqlite_row));
        *out += fmt::format("    only on PostgreSQL: {}\n", Row(q.rows.pg_row));
      }
      break;
    case QueryOutcome::kOrderDiffers:
      *out += fmt::format("    {}", q.rows.detail);
      if (q.rows.position >= 0) {
        *out += fmt::format("; first at row {}\n    SQLite:     {}\n    PostgreSQL: {}\n",
                            q.rows.position + 1, Row(q.rows.sqlite_row), Row(q.rows.pg_row));
      } else {
        *out += "\n";
      }
      break;
    case QueryOutcome::kInvalidOnPg:
      *out +=
          fmt::format("    {}{}\n", q.sqlstate.empty() ? "" : "[" + q.sqlstate + "] ", q.message);
      break;
    case QueryOutcome::kFailedOnSqlite:
      *out += fmt::format("    {}\n", q.message);
      break;
    case QueryOutcome::kMatched:
      break;
  }
}

Json JsonRow(const std::optional<std::vector<std::string>>& row) {
  return row ? Json(*row) : Json(nullptr);
}

Json QueryJson(const QueryReport& q) {
  Json out = Json::object();
  SetShadowText(&out, "sql", q.sql);
  SetShadowText(&out, "pg_sql", q.pg_sql);
  out.update({{"entries", q.entries},
              {"first_at_us", q.first_at_us},
              {"outcome", OutcomeKey(q.outcome)},
              {"sqlite_rows", q.sqlite_rows},
              {"pg_rows", q.pg_rows},
              {"detail", q.rows.detail},
              {"sqlstate", q.sqlstate},
              {"message", q.message},
              {"sqlite_row", JsonRow(q.rows.sqlite_row)},
              {"pg_row", JsonRow(q.rows.pg_row)},
              {"order_position", q.rows.position}});
  return out;
}

}  // namespace

std::string ShadowReportText(const ShadowReport& r, size_t examples) {
  std::string out = fmt::format("shadow replay of {}: {} log entries, {} distinct queries{}\n",
                                r.log_path, r.entries, r.queries.size(),
                                r.rate >= 0 ? fmt::format(" (sampled at rate {})", r.rate) : "");
  if (r.held) {
    out += fmt::format("position: outbox seq {}; both sides read there (the applier was held)\n",
                       r.position);
  } else {
    out += fmt::format("position: outbox seq {} on SQLite; {}\n", r.position, r.note);
  }
  if (r.torn_tail) out += "note: the log's last line was cut short (a crash while writing)\n";
  if (r.truncated) out += "note: --limit reached; later entries were not replayed\n";
  if (r.malformed_lines > 0) {
    out += fmt::format("warning: {} malformed log lines skipped (the first is line {})\n",
                       r.malformed_lines, r.first_malformed_line);
  }
  out += fmt::format("{:<26}{:>8}{:>9}\n", "outcome", "queries", "entries");
  for (QueryOutcome o : kAllOutcomes)
    out += fmt::format("{:<26}{:>8}{:>9}\n", OutcomeName(o), r.Count(o), r.Entries(o));
  for (QueryOutcome o : kAllOutcomes) {
    if (o == QueryOutcome::kMatched || r.Count(o) == 0) continue;
    out += fmt::format("\n{}: {} ({})\n", OutcomeName(o), Count(r.Count(o), "query", "queries"),
                       Count(r.Entries(o), "entry", "entries"));
    size_t shown = 0;
    for (const QueryReport& q : r.queries) {
      if (q.outcome != o) continue;
      if (shown++ == examples) {
        out += fmt::format("  ... and {} more (--json lists every query)\n",
                           r.Count(o) - static_cast<int64_t>(examples));
        break;
      }
      AppendQueryText(q, &out);
    }
  }
  const int exit = ShadowExitCode(r);
  out +=
      fmt::format("\n{} of {} queries matched; {}\n", r.Count(QueryOutcome::kMatched),
                  r.queries.size(), exit == 0 ? "nothing differs" : "something differs (exit 3)");
  return out;
}

std::string ShadowReportJson(const ShadowReport& r) {
  Json totals = Json::object(), queries = Json::array();
  for (QueryOutcome o : kAllOutcomes)
    totals[OutcomeKey(o)] = {{"queries", r.Count(o)}, {"entries", r.Entries(o)}};
  for (const QueryReport& q : r.queries)
    queries.push_back(QueryJson(q));
  Json doc = Json::object();
  SetShadowText(&doc, "log", r.log_path);
  doc.update({{"sqlite", r.sqlite},
              {"pg", r.pg},
              {"rate", r.rate >= 0 ? Json(r.rate) : Json(nullptr)},
              {"position", r.position},
              {"held", r.held},
              {"note", r.note},
              {"entries", r.entries},
              {"distinct_queries", r.queries.size()},
              {"torn_tail", r.torn_tail},
              {"truncated", r.truncated},
              {"malformed_lines", r.malformed_lines},
              {"first_malformed_line", r.first_malformed_line},
              {"seconds", JsonRounded(r.seconds, 3)},
              {"exit_code", ShadowExitCode(r)},
              {"totals", std::move(totals)},
              {"queries", std::move(queries)}});
  return DumpJson(doc);
}

}  // namespace sqlift
