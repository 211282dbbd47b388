// ReadPgRowsAsSqlite (see repair_pg_rows.h).
#include "tools/repair/repair_pg_rows.h"

#include <fmt/format.h>

#include <algorithm>

#include "apply/reverse/pg_text_value.h"
#include "common/json/json.h"
#include "tools/verify/verify_engine.h"
#include "tools/verify/verify_normalize.h"

namespace sqlift {
namespace {

constexpr size_t kKeysPerQuery = 1000;

wire::Value ToWire(const SqliteValue& v) {
  wire::Value out;
  switch (v.kind) {
    case SqliteValue::Kind::kNull:
      out.mutable_null();
      break;
    case SqliteValue::Kind::kInteger:
      out.set_integer(v.integer);
      break;
    case SqliteValue::Kind::kReal:
      out.set_real(v.real);
      break;
    case SqliteValue::Kind::kText:
      out.set_text(v.bytes);
      break;
    case SqliteValue::Kind::kBlob:
      out.set_blob(v.bytes);
      break;
  }
  return out;
}

std::string TableName(const PgKeyedRead& r) {
  return QuoteQualified(r.schema, r.plan->pg_name);
}

// Each planned column's type OID in PostgreSQL (a domain's base type), in plan order: the
// conversion goes by the type PostgreSQL wrote the text for.
Result<std::vector<uint32_t>> ColumnTypes(PgConnection& conn, const PgKeyedRead& r) {
  std::vector<std::string> names;
  for (const ColumnPlan& c : r.plan->columns)
    names.push_back(c.pg_name);
  SQLIFT_ASSIGN_OR_RETURN(std::string json, DumpJsonExact(Json(names)));
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult res,
      conn.Query("SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
                 "FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS n(name, i) "
                 "LEFT JOIN pg_attribute a ON a.attrelid = to_regclass($2) AND "
                 "a.attname = n.name AND a.attnum > 0 AND NOT a.attisdropped "
                 "LEFT JOIN pg_type t ON t.oid = a.atttypid ORDER BY n.i",
                 {json, TableName(r)}));
  std::vector<uint32_t> out;
  for (int i = 0; i < res.rows(); ++i) {
    if (res.is_null(i, 0)) {
      return Status::FailedPrecondition(fmt::format(
          "column {} is not in PostgreSQL's {}",
          QuoteIdentifier(r.plan->columns[static_cast<size_t>(i)].pg_name), TableName(r)));
    }
    SQLIFT_ASSIGN_OR_RETURN(uint64_t oid, res.GetUint64(i, 0));
    out.push_back(static_cast<uint32_t>(oid));
  }
  return out;
}

// SELECT of the planned columns of the rows whose keys are in $1 (a JSON array of arrays of
// key texts), narrowed by the tenant filter ($2) when there is one.
std::string KeyedSql(const PgKeyedRead& r) {
  std::string cols, tuple, picks;
  for (const ColumnPlan& c : r.plan->columns)
    cols += (cols.empty() ? "" : ", ") + QuoteIdentifier(c.pg_name);
  for (size_t j = 0; j < r.key_columns.size(); ++j) {
    const ColumnPlan& c = r.plan->columns[r.key_columns[j]];
    tuple += (j ? ", " : "") + QuoteIdentifier(c.pg_name);
    picks += fmt::format("{}(k->>{})::{}", j ? ", " : "", j, c.mapping.type.sql);
  }
  std::string sql = fmt::format(
      "SELECT {} FROM {} WHERE ({}) IN (SELECT {} FROM jsonb_array_elements($1::jsonb) k)", cols,
      TableName(r), tuple, picks);
  if (r.tenant_filter.column.empty()) return sql;
  return sql + fmt::format(
                   " AND ({}::text = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))) "
                   "IS {}",
                   QuoteIdentifier(r.tenant_filter.column),
                   r.tenant_filter.exclude ? "NOT TRUE" : "TRUE");
}

// Column `i` of result row `row` as a SQLite value.
Result<wire::Value> ValueAt(const PgResult& res, int row, size_t i, uint32_t oid,
                            const ColumnPlan& c) {
  pgchange::Datum d;
  if (!res.is_null(row, static_cast<int>(i))) {
    d.kind = pgchange::Datum::Kind::kText;
    d.text = std::string(res.get(row, static_cast<int>(i)));
  }
  Result<SqliteValue> v = PgTextToSqlite(oid, d, c.mapping.type.unit);
  if (!v.ok()) return v.status().With("column " + QuoteIdentifier(c.pg_name));
  return ToWire(*v);
}

// One result row: its SQLite values, and its encoded canonical key, each key value checked to
// mean the same key as a SQLite value.
Status TakeRow(const PgResult& res, int row, const PgKeyedRead& r,
               const std::vector<uint32_t>& oids, std::unordered_map<std::string, wire::Row>* out) {
  wire::Row values;
  for (size_t i = 0; i < r.plan->columns.size(); ++i) {
    SQLIFT_ASSIGN_OR_RETURN(*values.add_values(),
                            ValueAt(res, row, i, oids[i], r.plan->columns[i]));
  }
  std::string key;
  for (size_t i : r.key_columns) {
    const PgType& type = r.plan->columns[i].mapping.type;
    CanonicalValue pg{CanonicalValue::Kind::kValue,
                      CanonicalFromPg(res.get(row, static_cast<int>(i)), type)};
    if (res.is_null(row, static_cast<int>(i))) pg = CanonicalValue{};
    CanonicalValue back = CanonicalFromSqlite(values.values(static_cast<int>(i)), type);
    if (!(back == pg)) {
      return Status::FailedPrecondition(fmt::format(
          "key column {} value {} does not read back as the same key from SQLite value {}",
          QuoteIdentifier(r.plan->columns[i].pg_name), PrintableValue(pg), PrintableValue(back)));
    }
    EncodeCanonical(pg, &key);
  }
  (*out)[key] = std::move(values);
  return Status::OK();
}

}  // namespace

Result<std::unordered_map<std::string, wire::Row>> ReadPgRowsAsSqlite(
    PgConnection& conn, const PgKeyedRead& read,
    const std::vector<std::vector<std::string>>& keys) {
  std::unordered_map<std::string, wire::Row> out;
  if (keys.empty()) return out;
  SQLIFT_ASSIGN_OR_RETURN(std::vector<uint32_t> oids, ColumnTypes(conn, read));
  const std::string sql = KeyedSql(read);
  std::string tenants;
  if (!read.tenant_filter.column.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(tenants, DumpJsonExact(Json(read.tenant_filter.values)));
  }
  for (size_t at = 0; at < keys.size(); at += kKeysPerQuery) {
    size_t end = std::min(keys.size(), at + kKeysPerQuery);
    std::vector<std::vector<std::string>> chunk(keys.begin() + static_cast<ptrdiff_t>(at),
                                                keys.begin() + static_cast<ptrdiff_t>(end));
    SQLIFT_ASSIGN_OR_RETURN(std::string json, DumpJsonExact(Json(chunk)));
    std::vector<std::optional<std::string>> params{json};
    if (!tenants.empty()) params.emplace_back(tenants);
    SQLIFT_ASSIGN_OR_RETURN(PgResult res, conn.Query(sql, params));
    for (int row = 0; row < res.rows(); ++row) {
      SQLIFT_RETURN_IF_ERROR(
          TakeRow(res, row, read, oids, &out).With("read " + TableName(read) + " by key"));
    }
  }
  return out;
}

}  // namespace sqlift
