#include "tools/shadow/shadow_exec.h"

#include <fmt/format.h>

#include <memory>
#include <utility>

#include "capture/shadow_sampler/sql_lexer.h"
#include "capture/snapshot/wire_value.h"
#include "tools/shadow/shadow_sql.h"
#include "tools/verify/verify_normalize.h"

namespace sqlift {
namespace {

using K = PgType::Kind;
using Clock = std::chrono::steady_clock;

struct ClearResult {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ClearResult>;

QueryError ErrorOf(const PGresult* r, PGconn* c) {
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string message = primary ? primary : PQresultErrorMessage(r);
  if (message.empty()) message = PQerrorMessage(c);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    message.pop_back();
  return {state ? state : "", message};
}

void SetTypes(const PGresult* r, std::vector<PgType>* types, ResultSide* rows) {
  types->clear();
  for (int i = 0; i < PQnfields(r); ++i)
    types->push_back(PgTypeOfOid(PQftype(r, i)));
  rows->SetColumns(PQnfields(r));
}

void AddPgRow(const PGresult* r, const std::vector<PgType>& types, CanonicalRow* row,
              ResultSide* rows) {
  row->assign(types.size(), CanonicalValue{});
  for (int i = 0; i < static_cast<int>(types.size()); ++i) {
    if (PQgetisnull(r, 0, i)) continue;
    std::string_view text(PQgetvalue(r, 0, i), static_cast<size_t>(PQgetlength(r, 0, i)));
    (*row)[i] = {CanonicalValue::Kind::kValue, CanonicalFromPg(text, types[i])};
  }
  rows->Add(*row);
}

int Interrupt(void* deadline) {
  return Clock::now() > *static_cast<Clock::time_point*>(deadline) ? 1 : 0;
}

}  // namespace

PgType PgTypeOfOid(unsigned oid) {
  // pg_type OIDs of the built-in types sqlift normalizes (fixed by PostgreSQL's catalog).
  static constexpr std::pair<unsigned, K> kTypes[] = {
      {16, K::kBoolean},     {17, K::kBytea},         {20, K::kBigint},    {21, K::kSmallint},
      {23, K::kInteger},     {25, K::kText},          {1042, K::kText},    {1043, K::kText},
      {114, K::kJson},       {700, K::kReal},         {701, K::kDouble},   {1082, K::kDate},
      {1114, K::kTimestamp}, {1184, K::kTimestamptz}, {1700, K::kNumeric}, {2950, K::kUuid},
      {3802, K::kJsonb}};
  for (const auto& [o, kind] : kTypes) {
    if (o == oid) return PgType::Of(kind);
  }
  return PgType::Of(K::kOther);
}

Result<std::optional<QueryError>> RunOnPg(PgConnection& conn, const std::string& sql,
                                          std::vector<PgType>* types, ResultSide* rows) {
  if (sql.find('\0') != std::string::npos) return {QueryError{"", "the text holds a NUL byte"}};
  SQLIFT_RETURN_IF_ERROR(conn.Exec("SAVEPOINT sqlift_shadow"));
  PGconn* c = conn.raw();
  std::optional<QueryError> error;
  if (!PQsendQueryParams(c, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0)) {
    return Status::Unavailable(fmt::format("send a query to PostgreSQL: {}", PQerrorMessage(c)));
  }
  PQsetSingleRowMode(c);
  bool described = false;
  CanonicalRow row;
  while (ResultPtr r{PQgetResult(c)}) {
    const ExecStatusType status = PQresultStatus(r.get());
    if ((status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) && !described) {
      SetTypes(r.get(), types, rows);
      described = true;
    }
    switch (status) {
      case PGRES_SINGLE_TUPLE:
        AddPgRow(r.get(), *types, &row, rows);
        break;
      case PGRES_TUPLES_OK:
        break;
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        if (!error) error = QueryError{"", "not a query: it returns no rows"};
        break;
      default:
        if (!error) error = ErrorOf(r.get(), c);
    }
  }
  if (PQstatus(c) != CONNECTION_OK) {
    return Status::Unavailable(fmt::format("PostgreSQL connection lost: {}", PQerrorMessage(c)));
  }
  if (error) SQLIFT_RETURN_IF_ERROR(conn.Exec("ROLLBACK TO SAVEPOINT sqlift_shadow"));
  SQLIFT_RETURN_IF_ERROR(conn.Exec("RELEASE SAVEPOINT sqlift_shadow"));
  return error;
}

std::optional<QueryError> PrepareOnSqlite(SqliteDb& db, std::string_view sql,
                                          std::optional<SqliteStatement>* stmt) {
  if (!StartsAsQuery(sql)) return QueryError{"", "refused: not a query (SELECT, WITH or VALUES)"};
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  if (rc != SQLITE_OK) return QueryError{"", sqlite3_errmsg(db.handle())};
  stmt->emplace(db.handle(), raw);
  if (!OnlyTrivia(std::string_view(tail, sql.data() + sql.size() - tail))) {
    return QueryError{"", "refused: more than one statement"};
  }
  if (!sqlite3_stmt_readonly(raw)) return QueryError{"", "refused: not a read-only statement"};
  return std::nullopt;
}

std::optional<QueryError> StepOnSqlite(SqliteDb& db, SqliteStatement& stmt,
                                       const std::vector<PgType>& types, ResultSide* rows,
                                       Clock::time_point deadline) {
  sqlite3* h = db.handle();
  sqlite3_progress_handler(h, 1000, &Interrupt, &deadline);
  const int ncols = stmt.ColumnCount();
  rows->SetColumns(ncols);
  std::vector<PgType> t = types;
  t.resize(static_cast<size_t>(ncols), PgType::Of(K::kOther));
  CanonicalRow row(static_cast<size_t>(ncols));
  std::optional<QueryError> error;
  for (;;) {
    int rc = sqlite3_step(stmt.handle());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      error = QueryError{
          "", rc == SQLITE_INTERRUPT ? "interrupted: over the query timeout" : sqlite3_errmsg(h)};
      break;
    }
    for (int i = 0; i < ncols; ++i)
      row[i] = CanonicalFromSqlite(ColumnToWire(stmt.handle(), i), t[i]);
    rows->Add(row);
  }
  sqlite3_progress_handler(h, 0, nullptr, nullptr);
  return error;
}

}  // namespace sqlift
