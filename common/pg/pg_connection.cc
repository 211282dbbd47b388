#include "common/pg/pg_connection.h"

#include <poll.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

namespace sqlift {
namespace {

using Clock = std::chrono::steady_clock;

std::string TrimTrailingSpace(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.pop_back();
  return s;
}

// True when libpq would read `conninfo` as a connection string rather than a database name.
bool LooksLikeConnString(std::string_view conninfo) {
  return conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://") ||
         conninfo.find('=') != std::string_view::npos;
}

// Every way the password may be spelled in `conninfo`: as libpq decodes it, the raw
// user:password@ part of a URI, and the raw value after each "password=".
std::vector<std::string> PasswordSpellings(const std::string& conninfo) {
  std::vector<std::string> out;
  char* err = nullptr;
  if (PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err)) {
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr) out.emplace_back(o->val);
    }
    PQconninfoFree(opts);
  }
  if (err != nullptr) PQfreemem(err);
  if (size_t scheme = conninfo.find("://"); scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = std::min(conninfo.find_first_of("/?", start), conninfo.size());
    size_t at = conninfo.rfind('@', end);
    size_t colon = conninfo.find(':', start);
    if (at != std::string::npos && at >= start && colon < at) {
      out.push_back(conninfo.substr(colon + 1, at - colon - 1));
    }
  }
  for (size_t p = conninfo.find("password="); p != std::string::npos;
       p = conninfo.find("password=", p + 1)) {
    size_t start = p + 9;
    if (start < conninfo.size() && conninfo[start] == '\'') ++start;
    size_t end = std::min(conninfo.find_first_of(" &'", start), conninfo.size());
    out.push_back(conninfo.substr(start, end - start));
  }
  return out;
}

std::string Redact(std::string message, const std::string& conninfo) {
  for (const std::string& secret : PasswordSpellings(conninfo)) {
    if (secret.empty()) continue;
    for (size_t p = message.find(secret); p != std::string::npos; p = message.find(secret, p + 4)) {
      message.replace(p, secret.size(), "****");
    }
  }
  return message;
}

// Classifies a failed connection attempt from libpq's message (it carries no SQLSTATE).
Status ConnectError(const std::string& message) {
  if (message.find("authentication failed") != std::string::npos ||
      message.find("no password supplied") != std::string::npos ||
      message.find("pg_hba.conf") != std::string::npos) {
    return Status::FailedPrecondition(message);
  }
  if (message.find("does not exist") != std::string::npos) return Status::NotFound(message);
  if (message.starts_with("invalid ") || message.find("connection option") != std::string::npos) {
    return Status::InvalidArgument(message);  // e.g. a port that is not a number
  }
  return Status::Unavailable(message);
}

// Drives PQconnectPoll until the connection is made, fails, or the deadline passes.
Status WaitConnected(PGconn* conn, Clock::time_point deadline) {
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED || PQstatus(conn) == CONNECTION_BAD) {
      return ConnectError(TrimTrailingSpace(PQerrorMessage(conn)));
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Status::Unavailable("timed out while connecting");
    pollfd p{PQsocket(conn), static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT),
             0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno != EINTR) return Status::IOError(std::string("poll: ") + strerror(errno));
    if (r > 0) state = PQconnectPoll(conn);
  }
  return Status::OK();
}

Status::Code CodeForSqlState(std::string_view s) {
  using C = Status::Code;
  std::string_view cls = s.substr(0, 2);
  if (s == "XX001" || s == "XX002") return C::kCorruption;
  if (cls == "08" || s == "57P01" || s == "57P02" || s == "57P03") return C::kUnavailable;
  if (cls == "40" || s == "57014") return C::kAborted;
  if (s == "53100" || cls == "58") return C::kIOError;
  if (cls == "53") return C::kUnavailable;
  for (std::string_view missing : {"42P01", "42703", "3D000", "3F000", "42883", "42704"}) {
    if (s == missing) return C::kNotFound;
  }
  if (s == "42501") return C::kFailedPrecondition;  // insufficient privilege
  if (cls == "22" || cls == "23" || cls == "42") return C::kInvalidArgument;
  return C::kFailedPrecondition;
}

// "[SQLSTATE] primary message (detail)" with a code from the SQLSTATE; kUnavailable whenever
// the connection itself is gone.
Status ErrorFromResult(const PGresult* result, PGconn* conn) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  std::string msg;
  if (state != nullptr) msg = "[" + std::string(state) + "] ";
  msg += primary != nullptr ? std::string(primary) : TrimTrailingSpace(PQerrorMessage(conn));
  if (detail != nullptr) msg += " (" + std::string(detail) + ")";
  if (PQstatus(conn) == CONNECTION_BAD) return Status::Unavailable(msg);
  if (state == nullptr) return Status::FailedPrecondition(msg);
  return Status::FromCode(CodeForSqlState(state), msg);
}

// The start of `sql` on one line, for error context.
std::string SqlSnippet(std::string_view sql) {
  constexpr size_t kMax = 80;
  std::string out;
  for (char c : sql.substr(0, kMax))
    out.push_back(c == '\n' || c == '\t' ? ' ' : c);
  if (sql.size() > kMax) out += "...";
  return out;
}

Status CheckNoNul(std::string_view text, std::string_view what) {
  if (text.find('\0') == std::string_view::npos) return Status::OK();
  return Status::InvalidArgument(std::string(what) + " contains a NUL byte");
}

// libpq's parameter array for text parameters (nullopt: NULL); a NUL byte cannot be sent.
Status ParamPointers(const std::vector<std::optional<std::string>>& params,
                     std::vector<const char*>* values) {
  values->reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i]) {
      SQLIFT_RETURN_IF_ERROR(CheckNoNul(*params[i], "parameter $" + std::to_string(i + 1)));
    }
    values->push_back(params[i] ? params[i]->c_str() : nullptr);
  }
  return Status::OK();
}

}  // namespace

// ---- PgResult ----

PgResult::PgResult(PgResult&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(result_);
}

int PgResult::rows() const {
  return result_ ? PQntuples(result_) : 0;
}
int PgResult::cols() const {
  return result_ ? PQnfields(result_) : 0;
}
bool PgResult::is_null(int row, int col) const {
  return PQgetisnull(result_, row, col) != 0;
}

std::string_view PgResult::get(int row, int col) const {
  return {PQgetvalue(result_, row, col), static_cast<size_t>(PQgetlength(result_, row, col))};
}

std::optional<std::string> PgResult::value(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return std::string(get(row, col));
}

std::string_view PgResult::column_name(int col) const {
  const char* name = PQfname(result_, col);
  return name != nullptr ? name : "";
}

int64_t PgResult::affected_rows() const {
  if (result_ == nullptr) return 0;
  std::string_view text = PQcmdTuples(result_);
  int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

// ---- PgConnection ----

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo,
                                                            std::chrono::seconds timeout) {
  auto deadline = Clock::now() + std::max(timeout, std::chrono::seconds(1));
  if (LooksLikeConnString(conninfo)) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    std::string why = err != nullptr ? TrimTrailingSpace(err) : "out of memory";
    if (err != nullptr) PQfreemem(err);
    if (opts == nullptr) {
      return Status::InvalidArgument(Redact(why, conninfo)).With("parse PostgreSQL connection");
    }
    PQconninfoFree(opts);
  }
  // Later keywords override what the expanded connection string says.
  const char* const keys[] = {"dbname", "client_encoding", nullptr};
  const char* const values[] = {conninfo.c_str(), "UTF8", nullptr};
  PGconn* raw = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (raw == nullptr) return Status::Internal("libpq: out of memory");
  auto conn = std::make_unique<PgConnection>(raw);
  Status st = WaitConnected(raw, deadline);
  if (!st.ok()) {
    Status redacted = Status::FromCode(st.code(), Redact(st.message(), conninfo));
    return redacted.With("connect to PostgreSQL at " + conn->Describe());
  }
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);  // NOTICEs are not errors
  return conn;
}

PgConnection::PgConnection(PgConnection&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)) {}

PgConnection& PgConnection::operator=(PgConnection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

std::string PgConnection::Describe() const {
  if (conn_ == nullptr) return "(closed connection)";
  auto str = [](const char* s) { return std::string(s != nullptr ? s : ""); };
  return str(PQuser(conn_)) + "@" + str(PQhost(conn_)) + ":" + str(PQport(conn_)) + "/" +
         str(PQdb(conn_));
}

Status PgConnection::Exec(std::string_view sql) {
  SQLIFT_RETURN_IF_ERROR(CheckNoNul(sql, "SQL text"));
  std::string text(sql);
  Result<PgResult> r = Finish(PQexec(conn_, text.c_str()), sql);
  return r.ok() ? Status::OK() : r.status();
}

Result<PgResult> PgConnection::Query(std::string_view sql,
                                     const std::vector<std::optional<std::string>>& params) {
  SQLIFT_RETURN_IF_ERROR(CheckNoNul(sql, "SQL text"));
  std::vector<const char*> values;
  SQLIFT_RETURN_IF_ERROR(ParamPointers(params, &values));
  std::string text(sql);
  PGresult* result = PQexecParams(conn_, text.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, /*resultFormat=*/0);
  return Finish(result, sql);
}

Status PgConnection::Prepare(const std::string& name, std::string_view sql, int nparams) {
  SQLIFT_RETURN_IF_ERROR(CheckNoNul(sql, "SQL text"));
  std::string text(sql);
  return Finish(PQprepare(conn_, name.c_str(), text.c_str(), nparams, nullptr), sql).status();
}

Result<PgResult> PgConnection::ExecPrepared(const std::string& name,
                                            const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  SQLIFT_RETURN_IF_ERROR(ParamPointers(params, &values));
  PGresult* result = PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                    values.data(), nullptr, nullptr, /*resultFormat=*/0);
  return Finish(result, "prepared statement " + name);
}

Status PgConnection::EnterPipeline() {
  if (PQenterPipelineMode(conn_) != 1) {
    return ErrorFromResult(nullptr, conn_).With("enter pipeline mode on " + Describe());
  }
  pipeline_sent_ = 0;
  return Status::OK();
}

Status PgConnection::SendPrepared(const std::string& name,
                                  const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  SQLIFT_RETURN_IF_ERROR(ParamPointers(params, &values));
  if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(),
                          nullptr, nullptr, /*resultFormat=*/0) != 1) {
    return ErrorFromResult(nullptr, conn_).With("send prepared statement " + name);
  }
  ++pipeline_sent_;
  return Status::OK();
}

Result<std::vector<Result<PgResult>>> PgConnection::SyncPipeline() {
  if (PQpipelineSync(conn_) != 1) {
    return ErrorFromResult(nullptr, conn_).With("pipeline sync on " + Describe());
  }
  std::vector<Result<PgResult>> out;
  out.reserve(pipeline_sent_);
  // Each statement gives one result and then NULL; the sync point gives PGRES_PIPELINE_SYNC.
  while (true) {
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) {
      if (PQstatus(conn_) == CONNECTION_BAD) {
        return ErrorFromResult(nullptr, conn_).With("read pipeline results on " + Describe());
      }
      continue;  // the end of one statement's results
    }
    ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(raw);
      break;
    }
    if (status == PGRES_PIPELINE_ABORTED) {
      PQclear(raw);
      out.emplace_back(Status::Aborted("skipped: an earlier statement of the pipeline failed"));
    } else {
      out.push_back(Finish(raw, "pipelined statement"));
    }
  }
  if (out.size() != pipeline_sent_) {
    return Status::Internal("pipeline gave " + std::to_string(out.size()) + " results for " +
                            std::to_string(pipeline_sent_) + " statements");
  }
  pipeline_sent_ = 0;
  return out;
}

Status PgConnection::ExitPipeline() {
  if (PQexitPipelineMode(conn_) != 1) {
    return ErrorFromResult(nullptr, conn_).With("exit pipeline mode on " + Describe());
  }
  return Status::OK();
}

Result<PgResult> PgConnection::Finish(PGresult* raw, std::string_view sql) {
  PgResult result(raw);  // cleared on every path
  switch (raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
      return result;
    default:
      return ErrorFromResult(raw, conn_).With("run `" + SqlSnippet(sql) + "` on " + Describe());
  }
}

Status PgConnection::PutCopyData(std::string_view data) {
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1) {
    return ErrorFromResult(nullptr, conn_).With("send COPY data to " + Describe());
  }
  return Status::OK();
}

Status PgConnection::PutCopyEnd(const std::string& abort_reason) {
  if (PQputCopyEnd(conn_, abort_reason.empty() ? nullptr : abort_reason.c_str()) != 1) {
    return ErrorFromResult(nullptr, conn_).With("end COPY on " + Describe());
  }
  Status outcome;
  // The COPY's own result, then the NULL that ends the command; every result is read so the
  // connection is ready for the next statement whatever happened.
  while (PGresult* raw = PQgetResult(conn_)) {
    Result<PgResult> r = Finish(raw, "COPY");
    if (!r.ok() && outcome.ok()) outcome = r.status();
  }
  return outcome;
}

std::string SqlStateOf(const Status& status) {
  const std::string& m = status.message();
  if (m.size() >= 7 && m[0] == '[' && m[6] == ']') return m.substr(1, 5);
  return "";
}

std::string ConninfoUser(const std::string& conninfo) {
  if (!LooksLikeConnString(conninfo)) return "";
  std::string user;
  char* err = nullptr;
  if (PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err)) {
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, "user") == 0 && o->val != nullptr) user = o->val;
    }
    PQconninfoFree(opts);
  }
  if (err != nullptr) PQfreemem(err);
  return user;
}

}  // namespace sqlift
