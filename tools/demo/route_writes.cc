// The SQL of one RouteWriter write, per layout (see route_writes.h).
#include "tools/demo/route_writes.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <time.h>

#include <algorithm>
#include <optional>

#include "common/pg/pg_identifier.h"
#include "common/sqlite/sqlite_statement.h"

namespace sqlift {
std::string WriteSku(const std::string& writer, int64_t n) {
  return fmt::format("{}-{}", writer, n);
}

std::string CentsText(int64_t cents) {
  return fmt::format("{}.{:02d}", cents / 100, cents % 100);
}

namespace {

// "YYYY-MM-DD HH:MM:SS" (UTC) of the writer's n-th write: whole seconds, as both sides and the
// independent comparison spell them.
std::string WriteTime(int64_t n) {
  time_t t = static_cast<time_t>(1735689600 + n);  // 2025-01-01 00:00:00 UTC
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

Status SqliteCommerce(SqliteDb* db, const RouteWriterOptions& o, AckedWrite& a) {
  const std::string at = WriteTime(a.n);
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement p,
      db->Prepare("INSERT INTO products (product_id, tenant_id, sku, name, price, active, "
                  "created_at) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)"));
  SQLIFT_RETURN_IF_ERROR(p.BindText(1, a.key));
  SQLIFT_RETURN_IF_ERROR(p.BindText(2, o.tenant));
  SQLIFT_RETURN_IF_ERROR(p.BindText(3, WriteSku(o.writer, a.n)));
  SQLIFT_RETURN_IF_ERROR(p.BindText(4, "product " + WriteSku(o.writer, a.n)));
  SQLIFT_RETURN_IF_ERROR(p.BindDouble(5, static_cast<double>(a.cents) / 100.0));
  SQLIFT_RETURN_IF_ERROR(p.BindText(6, at));
  SQLIFT_RETURN_IF_ERROR(p.Run());
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement r,
      db->Prepare("INSERT INTO orders (order_id, tenant_id, external_order_id, customer_id, "
                  "total_amount, currency, order_status, order_date, raw_payload, created_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, 'USD', 'pending', ?6, ?7, ?6)"));
  SQLIFT_RETURN_IF_ERROR(r.BindText(1, a.order_id));
  SQLIFT_RETURN_IF_ERROR(r.BindText(2, o.tenant));
  SQLIFT_RETURN_IF_ERROR(r.BindText(3, "ext-" + WriteSku(o.writer, a.n)));
  SQLIFT_RETURN_IF_ERROR(r.BindText(4, o.customer_id));
  SQLIFT_RETURN_IF_ERROR(r.BindDouble(5, static_cast<double>(a.cents * a.quantity) / 100.0));
  SQLIFT_RETURN_IF_ERROR(r.BindText(6, at));
  SQLIFT_RETURN_IF_ERROR(
      r.BindText(7, fmt::format("{{\"n\": {}, \"writer\": \"{}\"}}", a.n, o.writer)));
  SQLIFT_RETURN_IF_ERROR(r.Run());
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement i,
      db->Prepare("INSERT INTO order_items (order_id, line_no, tenant_id, product_id, quantity, "
                  "unit_price) VALUES (?1, 1, ?2, ?3, ?4, ?5)"));
  SQLIFT_RETURN_IF_ERROR(i.BindText(1, a.order_id));
  SQLIFT_RETURN_IF_ERROR(i.BindText(2, o.tenant));
  SQLIFT_RETURN_IF_ERROR(i.BindText(3, a.key));
  SQLIFT_RETURN_IF_ERROR(i.BindInt64(4, a.quantity));
  SQLIFT_RETURN_IF_ERROR(i.BindDouble(5, static_cast<double>(a.cents) / 100.0));
  return i.Run();
}

Status SqliteBooking(SqliteDb* db, const RouteWriterOptions& o, AckedWrite& a) {
  const std::string at = WriteTime(a.n);
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement b,
      db->Prepare("INSERT INTO bookings (room_id, customer_name, customer_email, start_time, "
                  "end_time, status, total_price, created_at, updated_at) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, 'confirmed', ?6, ?4, ?4)"));
  SQLIFT_RETURN_IF_ERROR(b.BindInt64(1, o.room_id));
  SQLIFT_RETURN_IF_ERROR(b.BindText(2, WriteSku(o.writer, a.n)));
  SQLIFT_RETURN_IF_ERROR(b.BindText(3, WriteSku(o.writer, a.n) + "@example.com"));
  SQLIFT_RETURN_IF_ERROR(b.BindText(4, at));
  SQLIFT_RETURN_IF_ERROR(b.BindText(5, WriteTime(a.n + 3600)));
  SQLIFT_RETURN_IF_ERROR(b.BindDouble(6, static_cast<double>(a.cents) / 100.0));
  SQLIFT_RETURN_IF_ERROR(b.Run());
  a.key = std::to_string(sqlite3_last_insert_rowid(db->handle()));
  return Status::OK();
}

// The demo's booking application: the id is the writer's, and an existing booking changes
// status. The values follow from n, so both sides store the same ones.
struct DemoBooking {
  int64_t id, room, other;
  std::string name, email, end, status;
};

DemoBooking DemoValues(const RouteWriterOptions& o, AckedWrite& a) {
  a.key = std::to_string(o.first_id + a.n);
  return {o.first_id + a.n,
          1 + (a.n * 7919) % 1000,
          1 + (a.n * 104729) % std::max<int64_t>(o.existing, 1),
          fmt::format("Guest {}-{}", o.writer, a.n),
          fmt::format("guest{}.{}@example.org", o.writer, a.n),
          fmt::format("2027-01-02 {:02d}:00:00", a.n % 24),
          a.n % 2 ? "checked_in" : "cancelled"};
}

Status SqliteDemo(SqliteDb* db, const RouteWriterOptions& o, AckedWrite& a) {
  const DemoBooking b = DemoValues(o, a);
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement insert,
      db->Prepare("INSERT INTO bookings (id, room_id, customer_name, customer_email, start_time, "
                  "end_time, status, total_price, created_at, updated_at) VALUES (?1, ?2, ?3, "
                  "?4, '2027-01-01 00:00:00', ?5, 'confirmed', ?6, datetime('now'), "
                  "datetime('now'))"));
  SQLIFT_RETURN_IF_ERROR(insert.BindInt64(1, b.id));
  SQLIFT_RETURN_IF_ERROR(insert.BindInt64(2, b.room));
  SQLIFT_RETURN_IF_ERROR(insert.BindText(3, b.name));
  SQLIFT_RETURN_IF_ERROR(insert.BindText(4, b.email));
  SQLIFT_RETURN_IF_ERROR(insert.BindText(5, b.end));
  SQLIFT_RETURN_IF_ERROR(insert.BindDouble(6, static_cast<double>(a.cents) / 100.0));
  SQLIFT_RETURN_IF_ERROR(insert.Run());
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement update,
      db->Prepare("UPDATE bookings SET status = ?2, updated_at = datetime('now') WHERE id = ?1"));
  SQLIFT_RETURN_IF_ERROR(update.BindInt64(1, b.other));
  SQLIFT_RETURN_IF_ERROR(update.BindText(2, b.status));
  return update.Run();
}

Status PgDemo(PgConnection* pg, const RouteWriterOptions& o, AckedWrite& a) {
  const DemoBooking b = DemoValues(o, a);
  SQLIFT_RETURN_IF_ERROR(
      pg->Query("INSERT INTO public.bookings (id, room_id, customer_name, customer_email, "
                "start_time, end_time, status, total_price, created_at, updated_at) VALUES "
                "($1, $2, $3, $4, '2027-01-01 00:00:00+00', $5, 'confirmed', $6, now(), now())",
                {std::to_string(b.id), std::to_string(b.room), b.name, b.email, b.end + "+00",
                 CentsText(a.cents)})
          .status());
  return pg
      ->Query("UPDATE public.bookings SET status = $2, updated_at = now() WHERE id = $1",
              {std::to_string(b.other), b.status})
      .status();
}

Status SqliteCounter(SqliteDb* db, const RouteWriterOptions& o) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement c,
                          db->Prepare("UPDATE writer_counters SET n = n + 1 WHERE writer = ?1"));
  SQLIFT_RETURN_IF_ERROR(c.BindText(1, o.writer));
  SQLIFT_RETURN_IF_ERROR(c.Run());
  if (sqlite3_changes(db->handle()) != 1) {
    return Status::Internal("writer_counters has no row for writer " + o.writer);
  }
  return Status::OK();
}

// Database-per-tenant (pg_tenant_column): the tenant's column on the booking and the counter.
std::string TenantColumn(const RouteWriterOptions& o) {
  return o.pg_tenant_column.empty() ? "" : QuoteIdentifier(o.pg_tenant_column);
}

Status PgBooking(PgConnection* pg, const RouteWriterOptions& o, AckedWrite& a) {
  const std::string at = WriteTime(a.n) + "+00";
  const std::string tenant_col = TenantColumn(o);
  const bool constant = !tenant_col.empty();
  std::vector<std::optional<std::string>> params = {std::to_string(o.room_id),
                                                    WriteSku(o.writer, a.n),
                                                    WriteSku(o.writer, a.n) + "@example.com",
                                                    at,
                                                    WriteTime(a.n + 3600) + "+00",
                                                    CentsText(a.cents)};
  if (constant) params.push_back(o.tenant);
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      pg->Query(fmt::format("INSERT INTO public.bookings (room_id, customer_name, "
                            "customer_email, start_time, end_time, status, total_price, "
                            "created_at, updated_at{}) VALUES ($1, $2, $3, $4, $5, "
                            "'confirmed', $6, $4, $4{}) RETURNING id",
                            constant ? ", " + tenant_col : "", constant ? ", $7" : ""),
                params));
  a.key = std::string(r.get(0, 0));
  return Status::OK();
}

Status PgCommerce(PgConnection* pg, const RouteWriterOptions& o, AckedWrite& a) {
  const std::string at = WriteTime(a.n) + "+00";
  SQLIFT_RETURN_IF_ERROR(
      pg->Query("INSERT INTO public.products (product_id, tenant_id, sku, name, price, active, "
                "created_at) VALUES ($1, $2, $3, $4, $5, true, $6)",
                {a.key, o.tenant, WriteSku(o.writer, a.n), "product " + WriteSku(o.writer, a.n),
                 CentsText(a.cents), at})
          .status());
  SQLIFT_RETURN_IF_ERROR(
      pg->Query("INSERT INTO public.orders (order_id, tenant_id, external_order_id, "
                "customer_id, total_amount, currency, order_status, order_date, raw_payload, "
                "created_at) VALUES ($1, $2, $3, $4, $5, 'USD', 'pending', $6, $7, $6)",
                {a.order_id, o.tenant, "ext-" + WriteSku(o.writer, a.n), o.customer_id,
                 CentsText(a.cents * a.quantity), at,
                 fmt::format("{{\"n\": {}, \"writer\": \"{}\"}}", a.n, o.writer)})
          .status());
  SQLIFT_RETURN_IF_ERROR(
      pg->Query("INSERT INTO public.order_items (order_id, line_no, tenant_id, product_id, "
                "quantity, unit_price) VALUES ($1, 1, $2, $3, $4, $5)",
                {a.order_id, o.tenant, a.key, std::to_string(a.quantity), CentsText(a.cents)})
          .status());
  return Status::OK();
}

Status PgCounter(PgConnection* pg, const RouteWriterOptions& o) {
  const std::string tenant_col = TenantColumn(o);
  const bool constant = !tenant_col.empty();
  std::vector<std::optional<std::string>> counter = {o.writer};
  if (constant) counter.push_back(o.tenant);
  SQLIFT_ASSIGN_OR_RETURN(PgResult c,
                          pg->Query(fmt::format("UPDATE public.writer_counters SET n = n + 1 "
                                                "WHERE writer = $1{}",
                                                constant ? " AND " + tenant_col + " = $2" : ""),
                                    counter));
  if (c.affected_rows() != 1) {
    return Status::Internal("writer_counters has no row for writer " + o.writer + " on PostgreSQL");
  }
  return Status::OK();
}

}  // namespace

Status WriteOnSqlite(SqliteDb& db, const RouteWriterOptions& o, AckedWrite& a) {
  switch (o.layout) {
    case WriterLayout::kCommerce:
      SQLIFT_RETURN_IF_ERROR(SqliteCommerce(&db, o, a));
      break;
    case WriterLayout::kBooking:
      SQLIFT_RETURN_IF_ERROR(SqliteBooking(&db, o, a));
      break;
    case WriterLayout::kDemo:
      return SqliteDemo(&db, o, a);  // the demo's schema has no writer_counters
  }
  return SqliteCounter(&db, o);
}

Status WriteOnPostgres(PgConnection& pg, const RouteWriterOptions& o, AckedWrite& a) {
  switch (o.layout) {
    case WriterLayout::kCommerce:
      SQLIFT_RETURN_IF_ERROR(PgCommerce(&pg, o, a));
      break;
    case WriterLayout::kBooking:
      SQLIFT_RETURN_IF_ERROR(PgBooking(&pg, o, a));
      break;
    case WriterLayout::kDemo:
      return PgDemo(&pg, o, a);
  }
  return PgCounter(&pg, o);
}

}  // namespace sqlift
