// The replication protocol side of PgLogicalStream (see "Streaming Replication Protocol" in the
// PostgreSQL manual): inside COPY BOTH the server sends XLogData ('w': Int64 wal start, Int64
// wal end, Int64 send time, payload) and primary keepalives ('k': Int64 wal end, Int64 send
// time, Byte1 reply requested); the client sends standby status updates ('r': Int64 write,
// flush and apply positions, Int64 client time, Byte1 reply requested). Times are microseconds
// since 2000-01-01.
#include "capture/pg_logical/pg_logical_stream.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "capture/pg_logical/pg_replication_conn.h"
#include "capture/pg_logical/pgoutput_decoder.h"
#include "common/base/clock.h"
#include "common/pg/pg_identifier.h"

namespace sqlift {
namespace {

using pgchange::Lsn;
using replconn::Clock;
using replconn::ConnError;
using replconn::MillisUntil;

constexpr int64_t kPgEpochUnixUs = int64_t{946684800} * 1000000;
constexpr size_t kXLogDataHeader = 1 + 8 + 8 + 8;
constexpr size_t kKeepaliveSize = 1 + 8 + 8 + 1;

uint64_t BigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void PutBigEndian64(uint64_t v, char* p) {
  for (int i = 7; i >= 0; --i, v >>= 8)
    p[i] = static_cast<char>(v & 0xff);
}

int64_t PgNowUs() {
  return NowMicros() - kPgEpochUnixUs;
}

}  // namespace

struct PgLogicalStream::State {
  ~State() {
    if (conn != nullptr) PQfinish(conn);
  }

  Result<Event> Loop(Clock::time_point deadline);
  Status Handle(std::string_view msg, Event* ev, bool* have);
  Status SendFeedback(bool force);
  Status Wait(Clock::time_point deadline);
  Status StreamEnded();
  Status Fail(Status st) {
    if (failed.ok()) failed = st.With("stream slot " + options.slot + " from " + where);
    return failed;
  }

  LogicalStreamOptions options;
  PGconn* conn = nullptr;  // owned
  std::string where;       // user@host:port/db
  PgOutputDecoder decoder;
  Lsn confirmed = 0;
  Lsn idle_lsn = 0;
  bool reply_due = false;  // a status update must go out before the next interval
  Clock::time_point next_feedback;
  Status failed;  // the first error; permanent
};

PgLogicalStream::PgLogicalStream(std::unique_ptr<State> state) : s_(std::move(state)) {}
PgLogicalStream::~PgLogicalStream() = default;

Lsn PgLogicalStream::confirmed_lsn() const {
  return s_->confirmed;
}

std::string PgLogicalStream::Describe() const {
  return s_->where + " slot " + s_->options.slot;
}

Result<std::unique_ptr<PgLogicalStream>> PgLogicalStream::Open(const LogicalStreamOptions& o) {
  SQLIFT_RETURN_IF_ERROR(replconn::CheckSlotName(o.slot));
  SQLIFT_RETURN_IF_ERROR(CheckIdentifier(o.publication).With("publication name"));
  const std::string what = "open replication stream of slot " + o.slot;
  const auto timeout =
      std::max<std::chrono::milliseconds>(o.connect_timeout, std::chrono::seconds(1));
  Result<PGconn*> raw = replconn::ConnectReplication(o.conninfo, Clock::now() + timeout);
  if (!raw.ok()) return raw.status().With(what);
  auto state = std::make_unique<State>();
  state->conn = *raw;
  state->options = o;
  state->where = replconn::DescribeConn(*raw);
  state->decoder = PgOutputDecoder({.max_transaction_bytes = o.max_transaction_bytes});
  const std::string command = replconn::StartReplicationCommand(o.slot, o.publication, o.start_lsn);
  SQLIFT_RETURN_IF_ERROR(replconn::StartCopyBoth(*raw, command, Clock::now() + timeout)
                             .With(what + " at " + state->where));
  if (PQsetnonblocking(*raw, 1) != 0) {
    return Status::Internal("set the replication connection non-blocking").With(what);
  }
  state->next_feedback = Clock::now() + o.feedback_interval;
  return std::unique_ptr<PgLogicalStream>(new PgLogicalStream(std::move(state)));
}

Result<PgLogicalStream::Event> PgLogicalStream::Next(std::chrono::milliseconds timeout) {
  if (!s_->failed.ok()) return s_->failed;
  Result<Event> r = s_->Loop(Clock::now() + std::max(timeout, std::chrono::milliseconds(0)));
  if (!r.ok()) return s_->Fail(r.status());
  return r;
}

Status PgLogicalStream::Confirm(Lsn lsn) {
  if (!s_->failed.ok()) return s_->failed;
  s_->confirmed = std::max(s_->confirmed, lsn);
  s_->reply_due = true;
  Status st = s_->SendFeedback(/*force=*/true);
  return st.ok() ? st : s_->Fail(st);
}

Result<PgLogicalStream::Event> PgLogicalStream::State::Loop(Clock::time_point deadline) {
  for (;;) {
    SQLIFT_RETURN_IF_ERROR(SendFeedback(/*force=*/false));
    // Everything libpq already holds comes first; one event at most per call.
    for (;;) {
      char* buf = nullptr;
      int n = PQgetCopyData(conn, &buf, /*async=*/1);
      if (n == 0) break;
      if (n == -1) return StreamEnded();
      if (n < 0) return Status::Unavailable(ConnError(conn, "read replication stream"));
      Event ev;
      bool have = false;
      Status st = Handle(std::string_view(buf, static_cast<size_t>(n)), &ev, &have);
      PQfreemem(buf);
      SQLIFT_RETURN_IF_ERROR(st);
      if (have) return ev;
      SQLIFT_RETURN_IF_ERROR(SendFeedback(/*force=*/false));  // a keepalive may want a reply
    }
    if (Clock::now() >= deadline) {
      Event idle;
      idle.kind = Event::Kind::kIdle;
      idle.lsn = idle_lsn;
      return idle;
    }
    SQLIFT_RETURN_IF_ERROR(Wait(deadline));
  }
}

// Waits until the socket is readable (then reads what arrived), the next status update is due
// or `deadline` passes. Output that did not fit into the socket is pushed out; while some is
// left, the wait is for the socket to become writable instead of the next update.
Status PgLogicalStream::State::Wait(Clock::time_point deadline) {
  const int flush_left = PQflush(conn);
  if (flush_left < 0) return Status::Unavailable(ConnError(conn, "send status update"));
  const auto until = flush_left == 1 ? deadline : std::min(deadline, next_feedback);
  pollfd p{PQsocket(conn), static_cast<short>(POLLIN | (flush_left == 1 ? POLLOUT : 0)), 0};
  if (p.fd < 0) return Status::Unavailable(ConnError(conn, "replication connection"));
  int r = poll(&p, 1, MillisUntil(until));
  if (r < 0 && errno != EINTR) return Status::IOError(std::string("poll: ") + strerror(errno));
  if (r > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0 && PQconsumeInput(conn) == 0) {
    return Status::Unavailable(ConnError(conn, "read replication stream"));
  }
  return Status::OK();
}

Status PgLogicalStream::State::Handle(std::string_view msg, Event* ev, bool* have) {
  if (!msg.empty() && msg[0] == 'k') {
    if (msg.size() != kKeepaliveSize) {
      return Status::Corruption("keepalive message of " + std::to_string(msg.size()) + " bytes");
    }
    const Lsn wal_end = BigEndian64(msg.data() + 1);
    if (!decoder.in_transaction()) idle_lsn = std::max(idle_lsn, wal_end);
    if (msg[17] != 0) reply_due = true;
    return Status::OK();
  }
  if (msg.empty() || msg[0] != 'w') {
    return Status::Corruption(
        "unknown replication message of " + std::to_string(msg.size()) + " bytes" +
        (msg.empty() ? "" : " starting with byte " + std::to_string(uint8_t(msg[0]))));
  }
  if (msg.size() < kXLogDataHeader) {
    return Status::Corruption("XLogData message of " + std::to_string(msg.size()) + " bytes");
  }
  const Lsn wal_start = BigEndian64(msg.data() + 1);
  PgOutputDecoder::Event out;
  SQLIFT_RETURN_IF_ERROR(decoder.Feed(msg.substr(kXLogDataHeader), wal_start, &out));
  switch (out.kind) {
    case PgOutputDecoder::Event::Kind::kNone:
      return Status::OK();
    case PgOutputDecoder::Event::Kind::kTransaction:
      ev->kind = Event::Kind::kTransaction;
      ev->txn = std::move(out.txn);
      break;
    case PgOutputDecoder::Event::Kind::kMarker:
      ev->kind = Event::Kind::kMarker;
      ev->lsn = out.lsn;
      ev->prefix = std::move(out.prefix);
      ev->content = std::move(out.content);
      break;
  }
  *have = true;
  return Status::OK();
}

// Sends a standby status update when one is asked for, forced, or the interval has passed.
// Before the first Confirm every position is 0, which the server ignores.
Status PgLogicalStream::State::SendFeedback(bool force) {
  const auto now = Clock::now();
  if (!force && !reply_due && now < next_feedback) return Status::OK();
  char msg[1 + 8 + 8 + 8 + 8 + 1];
  msg[0] = 'r';
  PutBigEndian64(confirmed, msg + 1);   // written
  PutBigEndian64(confirmed, msg + 9);   // flushed
  PutBigEndian64(confirmed, msg + 17);  // applied
  PutBigEndian64(static_cast<uint64_t>(PgNowUs()), msg + 25);
  msg[33] = 0;  // no reply requested
  const int put = PQputCopyData(conn, msg, sizeof msg);
  if (put < 0) return Status::Unavailable(ConnError(conn, "send status update"));
  if (put == 0) return Status::OK();  // the socket's buffer is full: retried from Next()
  if (PQflush(conn) < 0) return Status::Unavailable(ConnError(conn, "send status update"));
  reply_due = false;
  next_feedback = now + options.feedback_interval;
  return Status::OK();
}

// The server left COPY mode: it says why in a result, or the connection is gone.
Status PgLogicalStream::State::StreamEnded() {
  Status st = replconn::DrainResults(conn, Status::OK());
  return st.ok() ? Status::Unavailable("the server ended the replication stream") : st;
}

}  // namespace sqlift
