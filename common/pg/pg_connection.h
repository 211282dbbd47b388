// PgConnection and PgResult: a small RAII wrapper over one libpq connection.
//
//   SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(uri, std::chrono::seconds(10)));
//   SQLIFT_RETURN_IF_ERROR(conn->Exec("CREATE TABLE " + QuoteIdentifier(table) + " (v text)"));
//   SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn->Query("SELECT $1::text", {"hi"}));
//   std::string_view v = r.get(0, 0);
//
// Errors. A failed statement gives a Status whose message starts with the SQLSTATE in brackets,
// "[23505] duplicate key value violates unique constraint ...", and SqlStateOf() reads it back.
// Codes: a lost connection, class 08, server shutdown (57P01-03) and exhausted resources
// (class 53) are kUnavailable; serialization failures and deadlocks (class 40) and cancels
// (57014) are kAborted (both retryable); bad values and SQL (classes 22, 23, 42 but 42501,
// insufficient privilege) are kInvalidArgument, except missing objects (42P01, 42703, 42704, 42883,
// 3D000, 3F000) which are kNotFound; disk full and I/O (53100, class 58) kIOError; XX001/XX002
// kCorruption; anything else kFailedPrecondition. Messages never contain a password.
//
// Thread safety: a PgConnection is used by one thread at a time. A PgResult is immutable and
// may be read from several threads.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "common/base/status.h"
#include "common/pg/pg_identifier.h"

namespace sqlift {

// The rows (text format) of one finished statement. Owns its PGresult; move-only.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}  // takes ownership
  PgResult(PgResult&& other) noexcept;
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int rows() const;
  int cols() const;
  // Row and column indexes must be in range (a bug otherwise, as with libpq).
  bool is_null(int row, int col) const;
  // The value in text format; empty for NULL (use is_null to tell). Valid while *this lives.
  std::string_view get(int row, int col) const;
  // The value, or nullopt for NULL.
  std::optional<std::string> value(int row, int col) const;
  std::string_view column_name(int col) const;
  // Typed values (pg_result_values.cc): kCorruption naming the column and the text when the
  // value is NULL or is not of that type; bool reads PostgreSQL's 't' and 'f'.
  [[nodiscard]] Result<int64_t> GetInt64(int row, int col) const;
  [[nodiscard]] Result<uint64_t> GetUint64(int row, int col) const;
  [[nodiscard]] Result<double> GetDouble(int row, int col) const;
  [[nodiscard]] Result<bool> GetBool(int row, int col) const;
  // Rows inserted, updated, deleted, copied... by the statement (PQcmdTuples); 0 if none.
  int64_t affected_rows() const;

 private:
  PGresult* result_;
};

// One open connection. Owns its PGconn; closed on destruction. Move-only.
class PgConnection {
 public:
  // Connects to `conninfo`, a libpq URI ("postgresql://user@host:port/db") or key=value
  // string; PG* environment variables fill in what it leaves out, as in libpq. The whole
  // attempt (every host listed) is bounded by `timeout` (at least one second), except for
  // name resolution. client_encoding is always UTF8. Unreachable server: kUnavailable.
  [[nodiscard]] static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                                     std::chrono::seconds timeout);

  explicit PgConnection(PGconn* conn) : conn_(conn) {}  // takes ownership
  PgConnection(PgConnection&& other) noexcept;
  PgConnection& operator=(PgConnection&& other) noexcept;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  // Runs SQL without parameters; several statements separated by ';' are allowed. A COPY ...
  // FROM STDIN / TO STDOUT leaves the connection in COPY mode, to be driven through raw().
  [[nodiscard]] Status Exec(std::string_view sql);

  // Runs one statement with text-format parameters $1, $2, ... (nullopt binds NULL).
  // Values are never spliced into the SQL text.
  [[nodiscard]] Result<PgResult> Query(std::string_view sql,
                                       const std::vector<std::optional<std::string>>& params = {});

  // A named prepared statement: Prepare once per connection, then ExecPrepared with text
  // parameters as Query takes them. Errors are those of Query.
  [[nodiscard]] Status Prepare(const std::string& name, std::string_view sql, int nparams);
  [[nodiscard]] Result<PgResult> ExecPrepared(
      const std::string& name, const std::vector<std::optional<std::string>>& params);

  // Pipeline mode (libpq 14+): prepared statements are sent without waiting for their
  // results, so N statements cost about one network round trip instead of N.
  //   SQLIFT_RETURN_IF_ERROR(conn->EnterPipeline());
  //   ... conn->SendPrepared(name, params) ...
  //   SQLIFT_ASSIGN_OR_RETURN(auto results, conn->SyncPipeline());  // one per statement sent
  //   SQLIFT_RETURN_IF_ERROR(conn->ExitPipeline());
  // After a statement fails, PostgreSQL skips the rest up to the sync: their results are
  // Aborted ("skipped"). Other calls (Exec, Query, Prepare) are not allowed in between.
  [[nodiscard]] Status EnterPipeline();
  [[nodiscard]] Status SendPrepared(const std::string& name,
                                    const std::vector<std::optional<std::string>>& params);
  [[nodiscard]] Result<std::vector<Result<PgResult>>> SyncPipeline();
  [[nodiscard]] Status ExitPipeline();
  bool in_pipeline() const { return PQpipelineStatus(conn_) != PQ_PIPELINE_OFF; }

  // COPY ... FROM STDIN: after Exec() of the COPY statement put the data (any number of calls;
  // each is one or more whole lines in the COPY format), then PutCopyEnd(), which returns the
  // COPY's outcome: PostgreSQL checks rows (types, NOT NULL, constraints) as they arrive and
  // reports the first failure only there. `abort_reason` non-empty ends the COPY with that
  // error instead (PQputCopyEnd's errormsg), rolling back its rows. Blocking calls.
  [[nodiscard]] Status PutCopyData(std::string_view data);
  [[nodiscard]] Status PutCopyEnd(const std::string& abort_reason = "");

  // "user@host:port/db", for log and error messages (no password).
  std::string Describe() const;

  // The libpq handle, for code in apply/ that needs libpq directly (COPY). Still owned here.
  PGconn* raw() { return conn_; }

 private:
  Result<PgResult> Finish(PGresult* result, std::string_view sql);

  PGconn* conn_;
  size_t pipeline_sent_ = 0;  // statements sent since the last SyncPipeline
};

// The SQLSTATE in a Status made by PgConnection ("23505"), or "" when it carries none.
std::string SqlStateOf(const Status& status);

// The user a connection string or URI names ("" when it names none: libpq then takes PGUSER or
// the operating-system user), read as libpq reads it.
std::string ConninfoUser(const std::string& conninfo);

}  // namespace sqlift
