// Independent table comparison (see table_compare.h).
#include "tests/testutil/table_compare.h"

#include <algorithm>
#include <charconv>

#include "common/sqlite/sqlite_statement.h"

namespace sqlift::testing {
namespace {

std::string NormalizeSqlite(const SqliteStatement& s, int col) {
  switch (s.ColumnType(col)) {
    case SQLITE_NULL:
      return "NULL";
    case SQLITE_INTEGER:
      return std::to_string(s.ColumnInt64(col));
    case SQLITE_FLOAT: {
      char buf[64];
      return std::string(buf, std::to_chars(buf, buf + 64, s.ColumnDouble(col)).ptr);
    }
    case SQLITE_BLOB: {
      static const char kHex[] = "0123456789abcdef";
      std::string out = "\\x";
      for (unsigned char c : s.ColumnText(col))
        out += kHex[c >> 4], out += kHex[c & 15];
      return out;
    }
    default:
      return std::string(s.ColumnText(col));
  }
}

// The select list normalizing every column of public.table but `skip` to one text per row.
std::string NormalizedRow(PgConnection& conn, const std::string& table, const std::string& skip) {
  auto cols = std::move(conn.Query("SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_schema = 'public' AND table_name = $1 "
                                   "AND column_name <> $2 ORDER BY ordinal_position",
                                   {table, skip}))
                  .value();
  std::string select;
  for (int i = 0; i < cols.rows(); ++i) {
    std::string c = QuoteIdentifier(cols.get(i, 0)), type(cols.get(i, 1));
    std::string e = type == "numeric"                    ? "trim_scale(" + c + ")::text"
                    : type == "boolean"                  ? "(" + c + ")::int::text"
                    : type.starts_with("timestamp with") ? "to_char(" + c +
                                                               " AT TIME ZONE 'UTC', "
                                                               "'YYYY-MM-DD HH24:MI:SS')"
                                                         : c + "::text";
    select += (i ? " || " : "") + ("coalesce(" + e + ", 'NULL') || '|'");
  }
  return select;
}

std::vector<std::string> SortedTexts(const PgResult& r) {
  std::vector<std::string> rows;
  for (int i = 0; i < r.rows(); ++i)
    rows.emplace_back(r.get(i, 0));
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace

std::vector<std::string> SqliteRows(SqliteDb& db, const std::string& table) {
  auto stmt = std::move(db.Prepare("SELECT * FROM " + QuoteSqliteIdentifier(table))).value();
  std::vector<std::string> rows;
  while (*stmt.Step()) {
    std::string row;
    for (int c = 0; c < stmt.ColumnCount(); ++c)
      row += NormalizeSqlite(stmt, c) + "|";
    rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<std::string> PgRows(PgConnection& conn, const std::string& table) {
  const std::string sql =
      "SELECT " + NormalizedRow(conn, table, "") + " FROM " + QuoteQualified("public", table);
  return SortedTexts(std::move(conn.Query(sql)).value());
}

std::vector<std::string> PgTenantRows(PgConnection& conn, const std::string& table,
                                      const std::string& tenant_column, const std::string& tenant) {
  const std::string sql = "SELECT " + NormalizedRow(conn, table, tenant_column) + " FROM " +
                          QuoteQualified("public", table) + " WHERE " +
                          QuoteIdentifier(tenant_column) + "::text = $1";
  return SortedTexts(std::move(conn.Query(sql, {tenant})).value());
}

std::string FirstDifference(const std::vector<std::string>& sqlite,
                            const std::vector<std::string>& pg) {
  std::vector<std::string> only_sqlite, only_pg;
  std::set_difference(sqlite.begin(), sqlite.end(), pg.begin(), pg.end(),
                      std::back_inserter(only_sqlite));
  std::set_difference(pg.begin(), pg.end(), sqlite.begin(), sqlite.end(),
                      std::back_inserter(only_pg));
  if (only_sqlite.empty() && only_pg.empty()) return "";
  return "rows " + std::to_string(sqlite.size()) + " vs " + std::to_string(pg.size()) +
         "; only in SQLite: " + (only_sqlite.empty() ? "-" : only_sqlite[0]) +
         (only_sqlite.size() > 1 ? " (+" + std::to_string(only_sqlite.size() - 1) + ")" : "") +
         "; only in PostgreSQL: " + (only_pg.empty() ? "-" : only_pg[0]) +
         (only_pg.size() > 1 ? " (+" + std::to_string(only_pg.size() - 1) + ")" : "");
}

}  // namespace sqlift::testing
