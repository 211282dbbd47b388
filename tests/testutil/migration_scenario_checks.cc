// MigrationScenario's writes through plain SQL or a recorder, and its checks: every acknowledged
// write of a writer looked up, with its values, on the side that should hold it, and single values
// of either side, read with plain SQL (not sqlift's code).
#include <fmt/format.h>

#include <map>

#include "capture/recorder/recorder.h"
#include "capture/recorder/transaction.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "common/sqlite/sqlite_statement.h"
#include "tests/testutil/migration_scenario.h"

namespace sqlift::testing {
namespace {

using Row = std::vector<std::string>;
using Rows = std::map<std::string, Row>;  // by the first column

// The queries of one side; each takes the writer's LIKE pattern "<writer>-%" as parameter 1.
struct CheckSql {
  const char* products;
  const char* orders;
  const char* items;
  const char* bookings;
  const char* counter;  // parameter 1: the writer
};

const CheckSql kSqliteSql = {
    "SELECT product_id, tenant_id, sku, CAST(round(price * 100) AS INTEGER) FROM products "
    "WHERE sku LIKE ?1",
    "SELECT order_id, tenant_id, external_order_id, CAST(round(total_amount * 100) AS INTEGER) "
    "FROM orders WHERE external_order_id LIKE 'ext-' || ?1",
    "SELECT i.order_id, i.product_id, i.quantity, CAST(round(i.unit_price * 100) AS INTEGER) "
    "FROM order_items i JOIN orders o USING (order_id) "
    "WHERE o.external_order_id LIKE 'ext-' || ?1",
    "SELECT id, customer_name, CAST(round(total_price * 100) AS INTEGER) FROM bookings "
    "WHERE customer_name LIKE ?1",
    "SELECT n FROM writer_counters WHERE writer = ?1",
};

const CheckSql kPgSql = {
    "SELECT product_id, tenant_id, sku, round(price * 100)::bigint::text FROM public.products "
    "WHERE sku LIKE $1",
    "SELECT order_id, tenant_id, external_order_id, round(total_amount * 100)::bigint::text "
    "FROM public.orders WHERE external_order_id LIKE 'ext-' || $1",
    "SELECT i.order_id, i.product_id, i.quantity::text, round(i.unit_price * 100)::bigint::text "
    "FROM public.order_items i JOIN public.orders o USING (order_id) "
    "WHERE o.external_order_id LIKE 'ext-' || $1",
    "SELECT id::text, customer_name, round(total_price * 100)::bigint::text FROM public.bookings "
    "WHERE customer_name LIKE $1",
    "SELECT n::text FROM public.writer_counters WHERE writer = $1",
};

// Reads one query's rows on one side.
class SideReader {
 public:
  virtual ~SideReader() = default;
  virtual Result<Rows> Read(const char* sql, const std::string& param) = 0;
};

class SqliteReader : public SideReader {
 public:
  explicit SqliteReader(SqliteDb& db) : db_(db) {}
  Result<Rows> Read(const char* sql, const std::string& param) override {
    SQLIFT_ASSIGN_OR_RETURN(SqliteStatement q, db_.Prepare(sql));
    SQLIFT_RETURN_IF_ERROR(q.BindText(1, param));
    Rows rows;
    for (;;) {
      SQLIFT_ASSIGN_OR_RETURN(bool more, q.Step());
      if (!more) return rows;
      Row row;
      for (int c = 1; c < q.ColumnCount(); ++c)
        row.emplace_back(q.ColumnText(c));
      rows[std::string(q.ColumnText(0))] = std::move(row);
    }
  }

 private:
  SqliteDb& db_;
};

class PgReader : public SideReader {
 public:
  explicit PgReader(PgConnection& conn) : conn_(conn) {}
  Result<Rows> Read(const char* sql, const std::string& param) override {
    SQLIFT_ASSIGN_OR_RETURN(PgResult r, conn_.Query(sql, {param}));
    Rows rows;
    for (int i = 0; i < r.rows(); ++i) {
      Row row;
      for (int c = 1; c < r.cols(); ++c)
        row.emplace_back(r.get(i, c));
      rows[std::string(r.get(i, 0))] = std::move(row);
    }
    return rows;
  }

 private:
  PgConnection& conn_;
};

// Appends a problem, keeping the message short.
void Problem(std::string* out, int* count, const std::string& what) {
  if ((*count)++ < 5) *out += what + "\n";
}

std::string Show(const Rows& rows, const std::string& key) {
  auto it = rows.find(key);
  if (it == rows.end()) return "missing";
  std::string s;
  for (const std::string& v : it->second)
    s += (s.empty() ? "" : "|") + v;
  return s;
}

std::string Join(const Row& row) {
  std::string s;
  for (const std::string& v : row)
    s += (s.empty() ? "" : "|") + v;
  return s;
}

Status CheckAll(SideReader& side, const CheckSql& sql, const RouteWriter& w, bool commerce,
                bool exact, std::string* out) {
  const RouteWriterOptions& o = w.options();
  const std::string pattern = o.writer + "-%";
  const std::vector<AckedWrite> acked = w.acked();
  const WriterStats stats = w.stats();
  SQLIFT_ASSIGN_OR_RETURN(Rows main, side.Read(commerce ? sql.products : sql.bookings, pattern));
  Rows orders, items;
  if (commerce) {
    SQLIFT_ASSIGN_OR_RETURN(orders, side.Read(sql.orders, pattern));
    SQLIFT_ASSIGN_OR_RETURN(items, side.Read(sql.items, pattern));
  }
  SQLIFT_ASSIGN_OR_RETURN(Rows counter, side.Read(sql.counter, o.writer));
  int problems = 0;
  for (const AckedWrite& a : acked) {
    const std::string sku = WriteSku(o.writer, a.n), cents = std::to_string(a.cents);
    Row want = commerce ? Row{o.tenant, sku, cents} : Row{sku, cents};
    if (Show(main, a.key) != Join(want)) {
      Problem(out, &problems,
              fmt::format("write {} ({}): row {} is {}, want {}", a.n,
                          a.side == WriteSide::kSqlite ? "acked on SQLite" : "acked on PostgreSQL",
                          a.key, Show(main, a.key), Join(want)));
    }
    if (!commerce) continue;
    Row want_order = {o.tenant, "ext-" + sku, std::to_string(a.cents * a.quantity)};
    Row want_item = {a.key, std::to_string(a.quantity), cents};
    if (Show(orders, a.order_id) != Join(want_order) ||
        Show(items, a.order_id) != Join(want_item)) {
      Problem(out, &problems,
              fmt::format("write {}: order {} is {} / item {}", a.n, a.order_id,
                          Show(orders, a.order_id), Show(items, a.order_id)));
    }
  }
  // Exactly once: no row besides the acknowledged ones (but those whose COMMIT's outcome the
  // writer could not learn), and the counter incremented once per row.
  if (!exact) {
    if (problems > 5) *out += fmt::format("... {} problems in all\n", problems);
    return Status::OK();
  }
  if (main.size() < acked.size() || main.size() > acked.size() + stats.uncertain) {
    Problem(out, &problems,
            fmt::format("writer {}: {} rows, {} writes acknowledged, {} uncertain", o.writer,
                        main.size(), acked.size(), stats.uncertain));
  }
  if (commerce && (orders.size() != main.size() || items.size() != main.size())) {
    Problem(out, &problems,
            fmt::format("writer {}: {} products, {} orders, {} items", o.writer, main.size(),
                        orders.size(), items.size()));
  }
  const std::string n = counter.empty() ? "missing" : counter.begin()->first;
  if (n != std::to_string(main.size())) {
    Problem(out, &problems,
            fmt::format("writer {}: writer_counters.n is {}, {} rows written", o.writer, n,
                        main.size()));
  }
  if (problems > 5) *out += fmt::format("... {} problems in all\n", problems);
  return Status::OK();
}

}  // namespace

std::string SqliteWritesBetween(const std::vector<RouteWriter*>& writers, uint64_t from,
                                uint64_t to) {
  std::string out;
  int problems = 0;
  for (RouteWriter* w : writers) {
    for (const AckedWrite& a : w->acked()) {
      if (a.side != WriteSide::kSqlite || a.seq < from || a.seq > to) continue;
      Problem(&out, &problems,
              fmt::format("{} write {} committed on SQLite at seq {}", w->options().writer, a.n,
                          a.seq));
    }
  }
  return out;
}

std::string MigrationScenario::PgValue(const std::string& sql) {
  auto conn = PgConnection::Connect(uri_, std::chrono::seconds(10));
  if (!conn.ok()) return conn.status().ToString();
  auto r = (*conn)->Query(sql);
  if (!r.ok()) return r.status().ToString();
  return r->rows() == 0 ? "no row" : r->is_null(0, 0) ? "NULL" : std::string(r->get(0, 0));
}

Status MigrationScenario::PgWrite(const std::string& sql) {
  SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(uri_, std::chrono::seconds(10)));
  return conn->Query(sql).status();
}

std::string MigrationScenario::SqliteValue(const std::string& sql) {
  auto db = SqliteDb::Open(sqlite_path(), SqliteDb::Mode::kReadOnly);
  if (!db.ok()) return db.status().ToString();
  auto q = (*db)->Prepare(sql);
  if (!q.ok()) return q.status().ToString();
  auto row = q->Step();
  if (!row.ok()) return row.status().ToString();
  return !*row ? "no row" : q->IsNull(0) ? "NULL" : std::string(q->ColumnText(0));
}

std::string MigrationScenario::CheckWrites(const RouteWriter& w, WriteSide side, bool exact) {
  const bool commerce = layout_ == MigrationLayout::kCommerce;
  std::string out;
  Status st;
  if (side == WriteSide::kSqlite) {
    auto db = SqliteDb::Open(sqlite_path(), SqliteDb::Mode::kReadOnly);
    if (!db.ok()) return db.status().ToString();
    SqliteReader reader(**db);
    st = CheckAll(reader, kSqliteSql, w, commerce, exact, &out);
  } else {
    auto conn = PgConnection::Connect(uri_, std::chrono::seconds(10));
    if (!conn.ok()) return conn.status().ToString();
    PgReader reader(**conn);
    st = CheckAll(reader, kPgSql, w, commerce, exact, &out);
  }
  return st.ok() ? out : st.ToString();
}

Status MigrationScenario::PlainWrite(const std::string& sql) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(sqlite_path(), SqliteDb::Mode::kReadWrite));
  return db->Exec(sql);
}

Status MigrationScenario::RecordedWrite(const std::string& sql) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(sqlite_path(), SqliteDb::Mode::kReadWrite));
  SQLIFT_ASSIGN_OR_RETURN(auto rec, Recorder::Attach(db->handle()));
  SQLIFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(*rec));
  SQLIFT_RETURN_IF_ERROR(db->Exec(sql));
  return txn.Commit().status();
}

}  // namespace sqlift::testing
