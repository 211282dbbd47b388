// BuildGapRepair against a throwaway PostgreSQL: both sides loaded equal by the copy engine, the
// applier's position set, then each side changed apart (SQLite: rows inserted, updated and
// deleted; PostgreSQL: a row changed, added, removed; an integer key over 20,000 rows, a
// composite key, a text key, a timestamp key, NULLs, REAL values, a tenant routed to postgres).
// The repair goes through the real applier sink as the log record after the position, and the
// two sides are then compared row for row by `sqlift verify`'s run. Also: an applier that has
// not caught up is Unavailable, one that is ahead is FailedPrecondition.
#include "tools/repair/gap_repair.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "apply/pg_sink/pg_batch_sink.h"
#include "apply/pg_sink/pg_state_schema.h"
#include "apply/translate/schema_translator.h"
#include "capture/outbox/outbox.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_schema.h"
#include "tools/copy/copy_run.h"
#include "tools/sandbox/pg_suite_test.h"
#include "tools/verify/verify_run.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;

constexpr char kSource[] = "app";

// The change of `op` to `table` whose first key value is `key` (as text), or null.
const wire::RowChange* FindChange(const wire::ChangeBatch& batch, const std::string& table,
                                  wire::RowChange::Op op, const std::string& key) {
  for (const wire::RowChange& ch : batch.transactions(0).changes()) {
    const wire::Value& k = ch.pk(0);
    std::string text = k.has_integer() ? std::to_string(k.integer()) : k.text();
    if (batch.tables(static_cast<int>(ch.table_index())).name() == table && ch.op() == op &&
        text == key)
      return &ch;
  }
  return nullptr;
}

class GapRepairTest : public PgSuiteTest {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = fs::temp_directory_path() / ("sqlift_gap_repair_" + std::to_string(getpid()) + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "app.db").string();
    auto db = SqliteDb::Open(path_, SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto uri = pg_->CreateDatabase("gap_" + name);
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
    conn_ = std::move(PgConnection::Connect(uri_, std::chrono::seconds(10))).value();
    cfg_.source_id = kSource;
    spec_.cfg = &cfg_, spec_.pg = uri_, spec_.source = kSource;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void SqliteExec(const std::string& sql) { ASSERT_TRUE(db_->Exec(sql).ok()) << sql; }
  void PgExec(const std::string& sql) {
    Status st = conn_->Exec(sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  std::string PgValue(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << sql;
    return r.ok() && r->rows() > 0 ? std::string(r->get(0, 0)) : "";
  }

  // The copy engine loads PostgreSQL; the applier's position is then `applied`.
  void CopyAndPosition(uint64_t applied) {
    CopyOptions copy;
    copy.sqlite = path_, copy.pg = uri_;
    int exit = -1;
    auto report = RunCopy(copy, nullptr, {}, &exit);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_TRUE(EnsureStateSchema(*conn_).ok());
    auto set =
        conn_->Query("INSERT INTO sqlift.positions(source, applied_seq) VALUES ('app', $1::bigint)",
                     {std::to_string(applied)});
    ASSERT_TRUE(set.ok()) << set.status().ToString();
  }

  // A read-only connection inside a read transaction, as the agent hands one over.
  std::unique_ptr<SqliteDb> Snapshot() {
    auto db = SqliteDb::Open(path_, SqliteDb::Mode::kReadOnly);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_TRUE((*db)->Exec("BEGIN").ok());
    EXPECT_TRUE((*db)->QueryInt64("SELECT count(*) FROM sqlite_schema").ok());
    return std::move(db).value();
  }

  // The batch as the log record after `logged`, through the real applier sink.
  void Apply(const GapRepairResult& repair, uint64_t logged) {
    auto tables = ReadTables(*db_, {});
    ASSERT_TRUE(tables.ok()) << tables.status().ToString();
    auto plan = TranslateSchema(*tables, TranslateOptions{});
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    apply::PgBatchSinkOptions options;
    options.tables = apply::SinkTablesFromPlan(*plan);
    apply::PgBatchSink sink(
        std::move(PgConnection::Connect(uri_, std::chrono::seconds(10))).value(), options);
    wire::ChangeBatch batch = repair.batch;
    batch.set_first_seq(logged + 1), batch.set_last_seq(logged + 1);
    batch.mutable_transactions(0)->set_seq(logged + 1);
    auto applied = sink.Apply(kSource, batch);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    EXPECT_EQ(*applied, logged + 1);
  }

  fs::path dir_;
  std::string path_, uri_;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<PgConnection> conn_;
  Config cfg_;
  GapRepairSpec spec_;
};

TEST_F(GapRepairTest, ChangesOnBothSidesAreRepairedRowForRow) {
  ASSERT_TRUE(outbox::CreateTables(db_->handle()).ok());
  SqliteExec(R"(
    CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, note TEXT, ok BOOLEAN);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
      INSERT INTO items SELECT i, 'item' || i, i * 0.1, CASE WHEN i % 3 = 0 THEN NULL ELSE 'n'
      END, i % 2 FROM n;
    CREATE TABLE pairs (a INTEGER, b TEXT, v TEXT, PRIMARY KEY (a, b));
    INSERT INTO pairs VALUES (1, 'x', 'one'), (1, 'y', 'two'), (2, 'x', 'three');
    CREATE TABLE tags (code TEXT PRIMARY KEY, label TEXT, weight REAL);
    INSERT INTO tags VALUES ('a', 'A', 1.5), ('b', 'B', NULL), ('c', 'C', 2.25);
    CREATE TABLE events (at DATETIME PRIMARY KEY, what TEXT);
    INSERT INTO events VALUES ('2024-05-06 07:08:09', 'start'), ('2024-05-06T08:00:00Z', 'stop');
    CREATE TABLE notes (id INTEGER PRIMARY KEY, tenant_id TEXT, body TEXT);
    INSERT INTO notes VALUES (1, 'a', 'a1'), (2, 'a', 'a2'), (3, 'moved', 'm1'),
                             (4, 'moved', 'm2');
    INSERT INTO _sqlift_route VALUES ('moved', 'postgres', 1, 0, 0);
  )");
  CopyAndPosition(7);
  cfg_.source_tenant_column = "tenant_id";

  // The gap: SQLite's transactions that never reached the log.
  SqliteExec(R"(
    INSERT INTO items VALUES (20001, 'new', NULL, NULL, NULL), (20002, 'new2', 0.1, 'x', 1),
                             (20003, '', 1e300, 'y', 0);
    UPDATE items SET price = 0.30000000000000004 WHERE id = 10;
    UPDATE items SET name = NULL WHERE id = 11;
    DELETE FROM items WHERE id IN (12, 13);
    UPDATE pairs SET v = 'ONE' WHERE a = 1 AND b = 'x';
    DELETE FROM pairs WHERE a = 2 AND b = 'x';
    INSERT INTO pairs VALUES (3, 'z', NULL);
    UPDATE tags SET weight = 0.5 WHERE code = 'b';
    INSERT INTO tags VALUES ('zz', 'Z', 3.0);
    UPDATE notes SET body = 'a1!' WHERE id = 1;
    UPDATE notes SET body = 'm1-sqlite' WHERE id = 3;
  )");
  // PostgreSQL changed apart (the moved tenant's rows are PostgreSQL's own).
  PgExec(R"(
    UPDATE items SET name = 'pg' WHERE id = 5;
    INSERT INTO items (id, name) VALUES (30000, 'pg only');
    DELETE FROM tags WHERE code = 'c';
    INSERT INTO events VALUES ('2030-01-01 00:00:00+00', 'pg only');
    UPDATE notes SET body = 'm2-pg' WHERE id = 4;
    INSERT INTO notes VALUES (5, 'moved', 'm5');
  )");

  std::unique_ptr<SqliteDb> snapshot = Snapshot();
  auto repair = BuildGapRepair(spec_, *snapshot, 7);
  ASSERT_TRUE(repair.ok()) << repair.status().ToString();
  EXPECT_EQ(repair->inserted, 6u);
  EXPECT_EQ(repair->updated, 6u);
  EXPECT_EQ(repair->deleted, 5u);
  ASSERT_EQ(repair->batch.transactions_size(), 1);
  EXPECT_EQ(repair->batch.transactions(0).kind(), wire::Transaction::CHANGES);
  EXPECT_EQ(repair->batch.transactions(0).seq(), 0u);
  EXPECT_EQ(repair->batch.transactions(0).changes_size(), 17);
  EXPECT_EQ(repair->batch.tables_size(), 5);
  std::string notes;
  for (const std::string& n : repair->notes)
    notes += n + "\n";
  EXPECT_NE(notes.find("items: 3 inserted, 3 updated, 3 deleted"), std::string::npos) << notes;
  EXPECT_NE(notes.find("rows of tenants routed to postgres left out: moved"), std::string::npos)
      << notes;

  // SQLite's values as read; PostgreSQL's turned into SQLite values; every column present but
  // an UPDATE's key in new_values.
  const wire::ChangeBatch& batch = repair->batch;
  const wire::RowChange* gone =
      FindChange(batch, "events", wire::RowChange::DELETE, "2030-01-01 00:00:00");
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->old_values(1).text(), "pg only");
  const wire::RowChange* extra = FindChange(batch, "items", wire::RowChange::DELETE, "30000");
  ASSERT_NE(extra, nullptr);
  ASSERT_EQ(extra->old_values_size(), 5);
  EXPECT_TRUE(extra->old_values(2).has_null());
  const wire::RowChange* back = FindChange(batch, "items", wire::RowChange::UPDATE, "5");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->new_values(0).kind_case(), wire::Value::KIND_NOT_SET);
  EXPECT_EQ(back->new_values(1).text(), "item5");
  EXPECT_DOUBLE_EQ(back->new_values(2).real(), 0.5);
  EXPECT_EQ(back->new_values(4).integer(), 1);
  EXPECT_EQ(back->old_values(0).integer(), 5);
  EXPECT_EQ(back->old_values(1).text(), "pg");
  const wire::RowChange* fresh = FindChange(batch, "items", wire::RowChange::INSERT, "20001");
  ASSERT_NE(fresh, nullptr);
  EXPECT_TRUE(fresh->new_values(2).has_null());
  EXPECT_NE(FindChange(batch, "pairs", wire::RowChange::DELETE, "2"), nullptr);
  EXPECT_NE(FindChange(batch, "tags", wire::RowChange::INSERT, "c"), nullptr);

  Apply(*repair, 7);
  VerifySpec verify;
  verify.sqlite = path_, verify.pg = uri_;
  verify.tenant_column = "tenant_id", verify.skip_tenants = {"moved"};
  int exit = -1;
  auto report = RunVerification(verify, &exit);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(exit, 0) << ReportText(*report);
  EXPECT_EQ(PgValue("SELECT string_agg(id || ':' || body, ',' ORDER BY id) FROM notes"),
            "1:a1!,2:a2,3:m1,4:m2-pg,5:m5");
  EXPECT_EQ(PgValue("SELECT price::text || ' ' || (name IS NULL)::text FROM items WHERE id = 10 "
                    "OR id = 11 ORDER BY id LIMIT 1"),
            "0.30000000000000004 false");
  EXPECT_EQ(PgValue("SELECT count(*) FROM events"), "2");

  // Repaired: at the new position the two sides agree and a second repair carries nothing.
  snapshot = Snapshot();
  auto again = BuildGapRepair(spec_, *snapshot, 8);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->inserted + again->updated + again->deleted, 0u);
  ASSERT_EQ(again->batch.transactions_size(), 1);
  EXPECT_EQ(again->batch.transactions(0).changes_size(), 0);
}

TEST_F(GapRepairTest, AnApplierBehindIsUnavailableAndOneAheadIsRefused) {
  SqliteExec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');");
  CopyAndPosition(3);
  spec_.wait_applied = std::chrono::milliseconds(100);
  std::unique_ptr<SqliteDb> snapshot = Snapshot();

  auto behind = BuildGapRepair(spec_, *snapshot, 5);
  ASSERT_FALSE(behind.ok());
  EXPECT_EQ(behind.status().code(), Status::Code::kUnavailable) << behind.status().ToString();
  EXPECT_TRUE(behind.status().Retryable());
  EXPECT_NE(behind.status().message().find("the applier has applied seq 3 of 5"), std::string::npos)
      << behind.status().ToString();

  // No position at all: no snapshot loaded yet, which will cover the gap; nothing to repair.
  spec_.source = "nobody";
  auto none = BuildGapRepair(spec_, *snapshot, 5);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->inserted + none->updated + none->deleted, 0u);
  ASSERT_EQ(none->batch.transactions_size(), 1);
  EXPECT_EQ(none->batch.transactions(0).changes_size(), 0);
  ASSERT_FALSE(none->notes.empty());
  EXPECT_NE(none->notes[0].find("holds no position for source nobody"), std::string::npos);

  spec_.source = kSource;
  auto ahead = BuildGapRepair(spec_, *snapshot, 2);
  ASSERT_FALSE(ahead.ok());
  EXPECT_EQ(ahead.status().code(), Status::Code::kFailedPrecondition) << ahead.status().ToString();

  auto caught_up = BuildGapRepair(spec_, *snapshot, 3);
  ASSERT_TRUE(caught_up.ok()) << caught_up.status().ToString();
  EXPECT_EQ(caught_up->batch.transactions(0).changes_size(), 0);
}

TEST_F(GapRepairTest, SchemaChangesAndRoutesDuringTheGap) {
  ASSERT_TRUE(outbox::CreateTables(db_->handle()).ok());
  SqliteExec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');");
  CopyAndPosition(4);

  // A table created in the gap: PostgreSQL does not have it yet, so it is compared as empty.
  SqliteExec(
      "CREATE TABLE fresh (k TEXT PRIMARY KEY, n INTEGER); "
      "INSERT INTO fresh VALUES ('x', 1), ('y', NULL);");
  std::unique_ptr<SqliteDb> snapshot = Snapshot();
  auto repair = BuildGapRepair(spec_, *snapshot, 4);
  ASSERT_TRUE(repair.ok()) << repair.status().ToString();
  EXPECT_EQ(repair->inserted, 2u);
  ASSERT_FALSE(repair->notes.empty());
  EXPECT_NE(repair->notes[0].find("fresh: not in PostgreSQL"), std::string::npos)
      << repair->notes[0];
  snapshot.reset();

  // A column added in the gap: its values cannot be compared.
  SqliteExec("ALTER TABLE t ADD COLUMN w INTEGER");
  snapshot = Snapshot();
  auto added = BuildGapRepair(spec_, *snapshot, 4);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(added.status().ToString().find("lacks column(s) \"w\""), std::string::npos)
      << added.status().ToString();
  snapshot.reset();

  // The whole database routed to postgres: PostgreSQL owns every row.
  SqliteExec("INSERT INTO _sqlift_route VALUES ('*', 'postgres', 1, 0, 0)");
  snapshot = Snapshot();
  auto routed = BuildGapRepair(spec_, *snapshot, 4);
  ASSERT_TRUE(routed.ok()) << routed.status().ToString();
  EXPECT_EQ(routed->batch.transactions(0).changes_size(), 0);
  ASSERT_EQ(routed->notes.size(), 1u);
  EXPECT_NE(routed->notes[0].find("the whole database is routed to postgres"), std::string::npos)
      << routed->notes[0];
}

}  // namespace
}  // namespace sqlift
