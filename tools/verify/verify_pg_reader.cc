#include "tools/verify/verify_pg_reader.h"

#include <fmt/format.h>

#include "common/json/json.h"

namespace sqlift {
namespace {

// One COPY text-format line (without its '\n') → fields; NULL (\N) → nullopt. COPY TO writes
// only \\, \b, \f, \n, \r, \t, \v and \N as escapes.
void SplitCopyLine(std::string_view line, std::vector<std::optional<std::string>>* fields) {
  fields->clear();
  std::string field;
  bool null = false;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == '\t') {
      fields->push_back(null ? std::nullopt : std::optional<std::string>(std::move(field)));
      field.clear(), null = false;
      continue;
    }
    if (line[i] != '\\' || i + 1 == line.size()) {
      field.push_back(line[i]);
      continue;
    }
    switch (char e = line[++i]) {
      case 'N':
        null = true;
        break;
      case 'b':
        field.push_back('\b');
        break;
      case 'f':
        field.push_back('\f');
        break;
      case 'n':
        field.push_back('\n');
        break;
      case 'r':
        field.push_back('\r');
        break;
      case 't':
        field.push_back('\t');
        break;
      case 'v':
        field.push_back('\v');
        break;
      default:
        field.push_back(e);
    }
  }
}

}  // namespace

Status BeginVerifySnapshot(PgConnection& conn) {
  return conn.Exec(
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET bytea_output = 'hex'; "
      "SET extra_float_digits = 3; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

Result<std::optional<std::vector<std::string>>> PgTableColumns(PgConnection& conn,
                                                               const std::string& schema,
                                                               const std::string& table) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r, conn.Query("SELECT c.oid IS NOT NULL, a.attname FROM (SELECT to_regclass($1) "
                             "AS oid) c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND "
                             "a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                             {QuoteQualified(schema, table)}));
  if (r.rows() == 0 || r.get(0, 0) != "t") return std::optional<std::vector<std::string>>();
  std::vector<std::string> columns;
  for (int i = 0; i < r.rows(); ++i) {
    if (!r.is_null(i, 1)) columns.emplace_back(r.get(i, 1));
  }
  return std::optional<std::vector<std::string>>(std::move(columns));
}

Result<std::vector<std::string>> PgTablesIn(PgConnection& conn, const std::string& schema) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r, conn.Query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                             "c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') "
                             "ORDER BY 1",
                             {schema}));
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i)
    out.emplace_back(r.get(i, 0));
  return out;
}

Status PgTableReader::Scan(const RowSink& sink) {
  std::string cols;
  for (const ColumnPlan& c : table_.columns)
    cols += (cols.empty() ? "" : ", ") + QuoteIdentifier(c.pg_name);
  std::string where;
  if (!filter_.column.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(std::string values, DumpJsonExact(Json(filter_.values)));
    SQLIFT_ASSIGN_OR_RETURN(
        PgResult set, conn_.Query("SELECT set_config('sqlift.verify_filter', $1, true)", {values}));
    (void)set;
    where = " WHERE (" + QuoteIdentifier(filter_.column) +
            "::text = ANY (ARRAY(SELECT jsonb_array_elements_text(current_setting("
            "'sqlift.verify_filter')::jsonb)))) IS " +
            (filter_.exclude ? "NOT TRUE" : "TRUE");
  }
  if (filter_.keys_only) {
    SQLIFT_ASSIGN_OR_RETURN(std::string keys, DumpJsonExact(Json(filter_.keys)));
    SQLIFT_ASSIGN_OR_RETURN(
        PgResult set, conn_.Query("SELECT set_config('sqlift.verify_keys', $1, true)", {keys}));
    (void)set;
    std::string tuple, picks;
    for (size_t j = 0; j < filter_.key_columns.size(); ++j) {
      const ColumnPlan& c = table_.columns[filter_.key_columns[j]];
      tuple += (j ? ", " : "") + QuoteIdentifier(c.pg_name);
      picks += fmt::format("{}(k->>{})::{}", j ? ", " : "", j, c.mapping.type.sql);
    }
    where += (where.empty() ? " WHERE (" : " AND (") + tuple + ") IN (SELECT " + picks +
             " FROM jsonb_array_elements(current_setting('sqlift.verify_keys')::jsonb) k)";
  }
  std::string sql = "COPY (SELECT " + cols + " FROM " + QuoteQualified(schema_, table_.pg_name) +
                    where + ") TO STDOUT";
  SQLIFT_RETURN_IF_ERROR(conn_.Exec(sql));
  std::vector<std::optional<std::string>> fields;
  CanonicalRow row(table_.columns.size());
  Status st;
  for (;;) {
    char* buf = nullptr;
    int n = PQgetCopyData(conn_.raw(), &buf, 0);
    if (n < 0) break;  // -1: done; -2: failed, PQgetResult below says why
    std::string_view line(buf, static_cast<size_t>(n));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (st.ok()) {
      SplitCopyLine(line, &fields);
      if (fields.size() != row.size()) {
        st = Status::Corruption(
            fmt::format("COPY gave {} fields, expected {}", fields.size(), row.size()));
      }
      for (size_t i = 0; st.ok() && i < row.size(); ++i) {
        row[i] = fields[i]
                     ? CanonicalValue{CanonicalValue::Kind::kValue,
                                      CanonicalFromPg(*fields[i], table_.columns[i].mapping.type)}
                     : CanonicalValue{};
      }
      if (st.ok()) st = sink(row);  // after an error the rest is read and dropped
    }
    PQfreemem(buf);
  }
  return Drain(std::move(st)).With("read " + QuoteQualified(schema_, table_.pg_name));
}

// Reads the COPY's results so the connection is ready again; the first error wins.
Status PgTableReader::Drain(Status st) {
  while (PGresult* r = PQgetResult(conn_.raw())) {
    if (st.ok() && PQresultStatus(r) != PGRES_COMMAND_OK) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      st = Status::FailedPrecondition(
          fmt::format("[{}] {}", state ? state : "", PQresultErrorMessage(r)));
    }
    PQclear(r);
  }
  return st;
}

}  // namespace sqlift
