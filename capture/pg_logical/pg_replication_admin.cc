#include "capture/pg_logical/pg_replication_admin.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "common/base/backoff.h"
#include "common/pg/pg_identifier.h"

namespace sqlift {
namespace {

using pgchange::Lsn;

constexpr char kSlotPrefix[] = "sqlift_";

uint32_t Fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

// An LSN column read as text; NULL is 0.
Status ReadLsn(const PgResult& r, int row, int col, Lsn* out) {
  *out = 0;
  if (r.is_null(row, col)) return Status::OK();
  if (!pgchange::ParseLsn(std::string(r.get(row, col)), out)) {
    return Status::Corruption("unreadable LSN \"" + std::string(r.get(row, col)) + "\"");
  }
  return Status::OK();
}

// A one-row query whose single value is an LSN.
Result<Lsn> QueryLsn(PgConnection& conn, const std::string& sql,
                     const std::vector<std::optional<std::string>>& params) {
  SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn.Query(sql, params));
  if (r.rows() != 1) return Status::Internal("expected one row from `" + sql + "`");
  Lsn lsn = 0;
  SQLIFT_RETURN_IF_ERROR(ReadLsn(r, 0, 0, &lsn));
  return lsn;
}

// Whether publication `name` publishes `schema` (all tables, or the schema); nullopt if absent.
Result<std::optional<bool>> PublicationCovers(PgConnection& conn, const std::string& name,
                                              const std::string& schema) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query("SELECT p.puballtables OR EXISTS (SELECT 1 FROM pg_publication_namespace pn "
                 "JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE pn.pnpubid = p.oid AND "
                 "n.nspname = $2) FROM pg_publication p WHERE p.pubname = $1",
                 {name, schema}));
  if (r.rows() == 0) return std::optional<bool>();
  return std::optional<bool>(r.get(0, 0) == "t");
}

// The confirmed_flush_lsn of `slot`, nullopt when there is no such slot; kFailedPrecondition
// when it is not a pgoutput slot of the connection's database.
Result<std::optional<Lsn>> ExistingSlot(PgConnection& conn, const std::string& slot) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query("SELECT plugin = 'pgoutput' AND slot_type = 'logical' AND database = "
                 "current_database(), confirmed_flush_lsn::text FROM pg_replication_slots "
                 "WHERE slot_name = $1",
                 {slot}));
  if (r.rows() == 0) return std::optional<Lsn>();
  if (r.get(0, 0) != "t") {
    return Status::FailedPrecondition("slot " + slot +
                                      " exists but is not a pgoutput slot of this database");
  }
  Lsn lsn = 0;
  SQLIFT_RETURN_IF_ERROR(ReadLsn(r, 0, 1, &lsn));
  return std::optional<Lsn>(lsn);
}

}  // namespace

std::string SlotNameFor(const std::string& source) {
  std::string name = kSlotPrefix;
  bool changed = false;
  for (char c : source) {
    char out = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (!((out >= 'a' && out <= 'z') || (out >= '0' && out <= '9') || out == '_')) out = '_';
    changed = changed || out != c;
    name.push_back(out);
  }
  if (!changed && name.size() <= kMaxPgIdentifierBytes) return name;
  char hash[16];
  std::snprintf(hash, sizeof hash, "_%08x", Fnv1a(source));
  name.resize(std::min(name.size(), kMaxPgIdentifierBytes - 9));
  return name + hash;
}

Status EnsurePublication(PgConnection& conn, const std::string& name, const std::string& schema) {
  const std::string what = "ensure publication " + name + " of schema " + schema;
  SQLIFT_RETURN_IF_ERROR(CheckIdentifier(name).With(what));
  SQLIFT_RETURN_IF_ERROR(CheckIdentifier(schema).With(what));
  Result<std::optional<bool>> covers = PublicationCovers(conn, name, schema);
  if (covers.ok() && !covers->has_value()) {
    Status st = conn.Exec("CREATE PUBLICATION " + QuoteIdentifier(name) + " FOR TABLES IN SCHEMA " +
                          QuoteIdentifier(schema));
    if (st.ok()) return st;
    if (SqlStateOf(st) != "42710") return st.With(what);
    covers = PublicationCovers(conn, name, schema);  // created meanwhile: what does it publish?
  }
  if (!covers.ok()) return covers.status().With(what);
  if (!covers->value_or(false)) {
    return Status::FailedPrecondition("publication " + name +
                                      " exists but does not publish schema " + schema)
        .With(what);
  }
  return Status::OK();
}

Status DropPublication(PgConnection& conn, const std::string& name) {
  SQLIFT_RETURN_IF_ERROR(CheckIdentifier(name).With("drop publication"));
  // Owner, member of the owner, or superuser: pg_has_role says yes to each.
  SQLIFT_ASSIGN_OR_RETURN(PgResult mine,
                          conn.Query("SELECT pg_catalog.pg_has_role(pubowner, 'USAGE') FROM "
                                     "pg_catalog.pg_publication WHERE pubname = $1",
                                     {name}));
  if (mine.rows() == 1 && mine.get(0, 0) != "t") return Status::OK();  // an administrator's
  return conn.Exec("DROP PUBLICATION IF EXISTS " + QuoteIdentifier(name))
      .With("drop publication " + name);
}

Result<Lsn> EnsureSlot(PgConnection& conn, const std::string& slot) {
  const std::string what = "ensure replication slot " + slot;
  Result<std::optional<Lsn>> existing = ExistingSlot(conn, slot);
  if (existing.ok() && !existing->has_value()) {
    Result<Lsn> created = QueryLsn(
        conn, "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", {slot});
    if (created.ok()) return created;
    if (SqlStateOf(created.status()) != "42710") return created.status().With(what);
    existing = ExistingSlot(conn, slot);  // created meanwhile
  }
  if (!existing.ok()) return existing.status().With(what);
  if (!existing->has_value()) return Status::Aborted("slot vanished while created").With(what);
  return **existing;
}

Result<SlotInfo> GetSlot(PgConnection& conn, const std::string& slot) {
  Result<PgResult> r = conn.Query(
      "SELECT active, coalesce(active_pid, 0), confirmed_flush_lsn::text, restart_lsn::text "
      "FROM pg_replication_slots WHERE slot_name = $1",
      {slot});
  const std::string what = "read replication slot " + slot;
  if (!r.ok()) return r.status().With(what);
  SlotInfo info;
  if (r->rows() == 0) return info;
  info.exists = true;
  info.active = r->get(0, 0) == "t";
  Result<int64_t> pid = r->GetInt64(0, 1);
  if (!pid.ok()) return pid.status().With(what);
  info.active_pid = static_cast<int>(*pid);
  SQLIFT_RETURN_IF_ERROR(ReadLsn(*r, 0, 2, &info.confirmed_flush).With(what));
  SQLIFT_RETURN_IF_ERROR(ReadLsn(*r, 0, 3, &info.restart).With(what));
  return info;
}

Status DropSlot(PgConnection& conn, const std::string& slot, std::chrono::milliseconds wait) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + wait;
  const std::string what = "drop replication slot " + slot;
  Backoff pause(std::chrono::milliseconds(10), std::chrono::milliseconds(200));
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(SlotInfo info, GetSlot(conn, slot));
    if (!info.exists) return Status::OK();
    if (!info.active) {
      Result<PgResult> r = conn.Query("SELECT pg_drop_replication_slot($1)", {slot});
      const std::string state = r.ok() ? "" : SqlStateOf(r.status());
      if (r.ok() || state == "42704") return Status::OK();  // 42704: dropped meanwhile
      if (state != "55006") return r.status().With(what);   // 55006: active again
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      return Status::FailedPrecondition("slot " + slot + " is still active for PID " +
                                        std::to_string(info.active_pid) + " after " +
                                        std::to_string(wait.count()) + " ms")
          .With(what);
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(pause.Next(), deadline - now));
  }
}

Status EnsureOrigin(PgConnection& conn, const std::string& name) {
  const std::string what = "ensure replication origin " + name;
  SQLIFT_ASSIGN_OR_RETURN(PgResult r,
                          conn.Query("SELECT pg_replication_origin_oid($1) IS NOT NULL", {name}));
  if (r.get(0, 0) == "t") return Status::OK();
  Result<PgResult> created = conn.Query("SELECT pg_replication_origin_create($1)", {name});
  if (created.ok() || SqlStateOf(created.status()) == "23505") return Status::OK();  // raced
  return created.status().With(what);
}

Status DropOrigin(PgConnection& conn, const std::string& name) {
  const std::string what = "drop replication origin " + name;
  SQLIFT_ASSIGN_OR_RETURN(PgResult r,
                          conn.Query("SELECT pg_replication_origin_oid($1) IS NOT NULL", {name}));
  if (r.get(0, 0) != "t") return Status::OK();
  Result<PgResult> dropped = conn.Query("SELECT pg_replication_origin_drop($1)", {name});
  if (dropped.ok()) return Status::OK();
  if (SqlStateOf(dropped.status()) == "55006") {  // object_in_use: a session has it set up
    return Status::FailedPrecondition(dropped.status().message()).With(what);
  }
  return dropped.status().With(what);
}

Status SetupOriginSession(PgConnection& conn, const std::string& name) {
  SQLIFT_RETURN_IF_ERROR(EnsureOrigin(conn, name));
  Result<PgResult> r = conn.Query("SELECT pg_replication_origin_session_setup($1)", {name});
  if (r.ok()) return Status::OK();
  const std::string what = "set up replication origin session " + name;
  if (r.status().message().find("already active for PID") != std::string::npos) {
    return Status::Unavailable(r.status().message()).With(what);
  }
  return r.status().With(what);
}

Result<Lsn> EmitMarker(PgConnection& conn, const std::string& prefix, const std::string& content) {
  // A non-transactional message is not flushed by itself (PostgreSQL 15 has no flush argument),
  // and the walsender sends only flushed WAL: the marker would wait for the WAL writer (up to
  // wal_writer_delay). A transaction that wrote WAL (the message) and holds an xid flushes the
  // WAL up to its commit record at COMMIT, and so past the marker.
  SQLIFT_RETURN_IF_ERROR(conn.Exec("BEGIN").With("emit marker " + prefix));
  Result<Lsn> lsn =
      QueryLsn(conn, "SELECT pg_logical_emit_message(false, $1, $2)::text", {prefix, content});
  Status st = lsn.ok() ? conn.Query("SELECT pg_catalog.txid_current()", {}).status() : lsn.status();
  if (st.ok()) st = conn.Exec("COMMIT");
  if (!st.ok()) {
    (void)conn.Exec("ROLLBACK");
    return st.With("emit marker " + prefix);
  }
  return lsn;
}

Result<Lsn> CurrentWalLsn(PgConnection& conn) {
  Result<Lsn> lsn = QueryLsn(conn, "SELECT pg_current_wal_lsn()::text", {});
  if (!lsn.ok()) return lsn.status().With("read the current WAL position");
  return lsn;
}

}  // namespace sqlift
