// Connection plumbing of PgLogicalStream: see pg_replication_conn.h.
#include "capture/pg_logical/pg_replication_conn.h"

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/pg/pg_identifier.h"

namespace sqlift::replconn {
namespace {

constexpr char kSessionOptions[] =
    "-c TimeZone=UTC -c DateStyle=ISO -c extra_float_digits=3 -c bytea_output=hex "
    "-c intervalstyle=postgres";

// libpq's message on one line, without the trailing newline.
std::string OneLine(const char* text) {
  std::string s;
  for (const char* p = text; *p != '\0'; ++p) {
    const bool space = *p == '\n' || *p == '\r' || *p == '\t';
    if (!space) {
      s.push_back(*p);
    } else if (!s.empty() && s.back() != ' ') {
      s.push_back(' ');
    }
  }
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

bool LooksLikeConnString(std::string_view conninfo) {
  return conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://") ||
         conninfo.find('=') != std::string_view::npos;
}

bool IsConnKeyword(const std::string& word) {
  bool found = false;
  if (PQconninfoOption* all = PQconndefaults()) {
    for (PQconninfoOption* o = all; o->keyword != nullptr && !found; ++o)
      found = word == o->keyword;
    PQconninfoFree(all);
  }
  return found;
}

// libpq's parse errors quote the piece of the string where they stopped, which may be a
// password: only quoted keywords and punctuation are kept.
std::string ScrubQuoted(const std::string& msg) {
  std::string out;
  size_t i = 0;
  for (;;) {
    size_t open = msg.find('"', i);
    size_t close = open == std::string::npos ? open : msg.find('"', open + 1);
    if (close == std::string::npos) return out + msg.substr(i);
    std::string piece = msg.substr(open + 1, close - open - 1);
    const bool keep = IsConnKeyword(piece) || std::none_of(piece.begin(), piece.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) != 0;
                      });
    out += msg.substr(i, open - i) + "\"" + (keep ? piece : "...") + "\"";
    i = close + 1;
  }
}

// The "options" the caller's connection string (or PGOPTIONS) gives, to keep them.
Result<std::string> CallerOptions(const std::string& conninfo) {
  const char* env = std::getenv("PGOPTIONS");
  std::string options = env != nullptr ? env : "";
  if (!LooksLikeConnString(conninfo)) return options;
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  std::string why = err != nullptr ? OneLine(err) : std::string("out of memory");
  if (err != nullptr) PQfreemem(err);
  if (opts == nullptr) {
    return Status::InvalidArgument("parse connection string: " + ScrubQuoted(why));
  }
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "options") == 0 && o->val != nullptr) options = o->val;
  }
  PQconninfoFree(opts);
  return options;
}

// Classifies a failed connection attempt from libpq's message (it carries no SQLSTATE), as
// PgConnection::Connect does.
Status ConnectError(const std::string& message) {
  for (const char* refused : {"authentication failed", "no password supplied", "pg_hba.conf"}) {
    if (message.find(refused) != std::string::npos) return Status::FailedPrecondition(message);
  }
  if (message.find("does not exist") != std::string::npos) return Status::NotFound(message);
  if (message.find(": invalid ") != std::string::npos) return Status::InvalidArgument(message);
  return Status::Unavailable(message);
}

// Waits for `conn` to become readable; kUnavailable once `deadline` passes.
Status WaitReadable(PGconn* conn, Clock::time_point deadline, const char* what, short events) {
  int left = MillisUntil(deadline);
  if (left == 0) return Status::Unavailable(std::string("timed out: ") + what);
  pollfd p{PQsocket(conn), events, 0};
  if (poll(&p, 1, left) < 0 && errno != EINTR) {
    return Status::IOError(std::string("poll: ") + strerror(errno));
  }
  return Status::OK();
}

}  // namespace

int MillisUntil(Clock::time_point t) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(t - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

std::string ConnError(PGconn* conn, const std::string& what) {
  return what + ": " + OneLine(PQerrorMessage(conn));
}

std::string DescribeConn(PGconn* conn) {
  auto str = [](const char* s) { return std::string(s != nullptr ? s : ""); };
  return str(PQuser(conn)) + "@" + str(PQhost(conn)) + ":" + str(PQport(conn)) + "/" +
         str(PQdb(conn));
}

Status CheckSlotName(const std::string& slot) {
  bool ok = !slot.empty() && slot.size() <= kMaxPgIdentifierBytes;
  for (char c : slot)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (ok) return Status::OK();
  return Status::InvalidArgument("replication slot name \"" + slot +
                                 "\" is not 1 to 63 characters of [a-z0-9_]");
}

Result<PGconn*> ConnectReplication(const std::string& conninfo, Clock::time_point deadline) {
  SQLIFT_ASSIGN_OR_RETURN(std::string options, CallerOptions(conninfo));
  options = options.empty() ? kSessionOptions : options + " " + kSessionOptions;
  // Later keywords override what the expanded connection string says.
  const char* const keys[] = {
      "dbname", "replication", "options", "client_encoding", "fallback_application_name", nullptr};
  const char* const values[] = {conninfo.c_str(), "database",       options.c_str(),
                                "UTF8",           "sqlift_logical", nullptr};
  PGconn* conn = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Internal("libpq: out of memory");
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  Status st;
  while (st.ok() && state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED || PQstatus(conn) == CONNECTION_BAD) {
      st = ConnectError(ConnError(conn, "connect to " + DescribeConn(conn)));
      break;
    }
    st = WaitReadable(conn, deadline, "connecting",
                      state == PGRES_POLLING_READING ? POLLIN : POLLOUT);
    if (st.ok()) state = PQconnectPoll(conn);
  }
  if (!st.ok()) {
    PQfinish(conn);
    return st;
  }
  return conn;
}

Status ServerError(PGconn* conn, const PGresult* res) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  std::string msg = state != nullptr ? "[" + std::string(state) + "] " : "";
  msg += primary != nullptr ? std::string(primary) : OneLine(PQerrorMessage(conn));
  if (detail != nullptr) msg += " (" + std::string(detail) + ")";
  const std::string s = state != nullptr ? state : "";
  const std::string cls = s.substr(0, 2);
  if (PQstatus(conn) == CONNECTION_BAD || cls == "08" || cls == "53" || s == "57P01" ||
      s == "57P02" || s == "57P03" || s == "55006") {  // 55006: the slot is held elsewhere
    return Status::Unavailable(msg);
  }
  if (s == "42704") return Status::NotFound(msg);
  if (cls == "42" || cls == "22") return Status::InvalidArgument(msg);
  return Status::FailedPrecondition(msg);
}

Status DrainResults(PGconn* conn, Status st) {
  for (int i = 0; i < 4 && PQisBusy(conn) == 0; ++i) {
    PGresult* res = PQgetResult(conn);
    if (res == nullptr) break;
    ExecStatusType status = PQresultStatus(res);
    if (st.ok() && status == PGRES_FATAL_ERROR) st = ServerError(conn, res);
    PQclear(res);
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) break;
  }
  return st;
}

// The publication is an identifier list inside a string literal: quoted as an identifier, then
// as a literal (the replication grammar's literals know only doubled quotes, no backslashes).
std::string StartReplicationCommand(const std::string& slot, const std::string& publication,
                                    Lsn start) {
  std::string literal;
  for (char c : QuoteIdentifier(publication))
    literal += c == '\'' ? std::string("''") : std::string(1, c);
  return "START_REPLICATION SLOT " + QuoteIdentifier(slot) + " LOGICAL " +
         pgchange::FormatLsn(start) + " (proto_version '1', publication_names '" + literal +
         "', messages 'true')";
}

Status StartCopyBoth(PGconn* conn, const std::string& command, Clock::time_point deadline) {
  if (PQsendQuery(conn, command.c_str()) != 1) {
    return Status::Unavailable(ConnError(conn, "send START_REPLICATION"));
  }
  for (;;) {
    if (PQconsumeInput(conn) == 0) {
      return Status::Unavailable(ConnError(conn, "read START_REPLICATION's answer"));
    }
    if (PQisBusy(conn) == 0) break;
    SQLIFT_RETURN_IF_ERROR(WaitReadable(conn, deadline, "START_REPLICATION", POLLIN));
  }
  PGresult* res = PQgetResult(conn);
  const bool copy_both = res != nullptr && PQresultStatus(res) == PGRES_COPY_BOTH;
  Status st = copy_both ? Status::OK() : ServerError(conn, res);
  if (res != nullptr) PQclear(res);
  return copy_both ? st : DrainResults(conn, st);
}

}  // namespace sqlift::replconn
