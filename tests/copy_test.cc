// `sqlift copy` as an operator runs it, against a throwaway PostgreSQL: chinook copies with
// every row (compared independently: both sides read and normalized here, not by sqlift), its
// constraints and foreign keys; bad values are dead-lettered or stop the copy, as asked;
// hostile identifiers copy; a second copy into full tables is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apply/pg_sink/pg_state_schema.h"
#include "common/pg/pg_connection.h"
#include "common/process/process.h"
#include "common/sqlite/sqlite_db.h"
#include "tests/testutil/table_compare.h"
#include "tools/sandbox/pg_sandbox.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;

class CopyTest : public PgSuiteTest {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sqlift_copy_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A fresh database on the sandbox and a connection to it.
  std::string NewDatabase(const std::string& name) {
    auto uri = pg_->CreateDatabase(name);
    EXPECT_TRUE(uri.ok()) << uri.status().ToString();
    conn_ = std::move(PgConnection::Connect(*uri, std::chrono::seconds(10))).value();
    return *uri;
  }

  static process::Output Copy(std::vector<std::string> args) {
    args.insert(args.begin(), {SQLIFT_BINARY, "copy"});
    Result<process::Output> r = process::RunCaptured(args);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : process::Output{};
  }

  std::string Sqlite(const std::string& name, const std::string& sql) {
    std::string path = (dir_ / name).string();
    auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadWriteCreate);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    Status st = (*db)->Exec(sql);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return path;
  }

  std::string PgValue(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << sql;
    return r.ok() && r->rows() > 0 ? std::string(r->get(0, 0)) : "";
  }

  std::unique_ptr<PgConnection> conn_;
  fs::path dir_;
};

using testing::PgRows;
using testing::SqliteRows;

TEST_F(CopyTest, ChinookCopiesEveryRowConstraintAndForeignKey) {
  std::string path = (dir_ / "chinook.sqlite").string();
  fs::copy_file(SQLIFT_TESTDATA "/chinook.sqlite", path);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  std::string uri = NewDatabase("chinook");
  process::Output p = Copy({"--sqlite", path, "--pg", uri});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_NE(p.out.find("total                                 15607"), std::string::npos) << p.out;

  auto db = std::move(SqliteDb::Open(path, SqliteDb::Mode::kReadOnly)).value();
  auto tables = std::move(db->Prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND "
                                      "name NOT LIKE 'sqlite_%' ORDER BY name"))
                    .value();
  int n = 0;
  while (*tables.Step()) {
    std::string t(tables.ColumnText(0));
    std::vector<std::string> want = SqliteRows(*db, t), got = PgRows(*conn_, t);
    EXPECT_EQ(got.size(), want.size()) << t;
    EXPECT_TRUE(got == want) << t << ": first rows " << (got.empty() ? "" : got[0]) << " vs "
                             << (want.empty() ? "" : want[0]);
    ++n;
  }
  EXPECT_EQ(n, 11);
  // 11 primary keys and 11 foreign keys, as in chinook; identities past the largest key.
  EXPECT_EQ(PgValue("SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND "
                    "connamespace = 'public'::regnamespace"),
            "11");
  EXPECT_EQ(PgValue("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND "
                    "connamespace = 'public'::regnamespace"),
            "11");
  EXPECT_EQ(PgValue("INSERT INTO \"Genre\" (\"Name\") VALUES ('new') RETURNING \"GenreId\""), "26");
  EXPECT_EQ(PgValue("SELECT count(*) FROM sqlift.dead_letter"), "0");

  // A second copy into full tables is refused, and --truncate replaces the rows.
  process::Output again = Copy({"--sqlite", path, "--pg", uri});
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_NE(again.err.find("give --truncate"), std::string::npos) << again.err;
  process::Output truncated = Copy({"--sqlite", path, "--pg", uri, "--truncate"});
  EXPECT_EQ(truncated.exit_code, 0) << truncated.out << truncated.err;
  EXPECT_EQ(PgValue("SELECT count(*) FROM \"Genre\""), "25");
}

// The booking application's schema (DECIMAL, DATETIME, BOOLEAN, TEXT) with generated rows,
// read in many small chunks encoded on 3 threads: every row equal, and each spelling of times
// and booleans the type mapping accepts arrives as the same instant or truth value.
TEST_F(CopyTest, GeneratedBookingDatabaseCopiesWithParallelEncoding) {
  std::ifstream in(SQLIFT_TESTDATA "/booking_schema.sql");
  std::stringstream schema;
  schema << in.rdbuf();
  std::string path = Sqlite("booking.db", schema.str() + R"(
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
    INSERT INTO rooms (name, capacity, category, price_per_hour, is_active, created_at)
      SELECT 'Room ' || i, i, 'c', i * 1.25, i % 2, '2024-01-02 03:04:05' FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
    INSERT INTO bookings (room_id, customer_name, start_time, end_time, notes, total_price,
                          created_at, updated_at)
      SELECT 1 + i % 50, 'Customer ' || i, datetime(1700000000 + i * 3600, 'unixepoch'),
             datetime(1700000000 + i * 3600 + 7200, 'unixepoch'),
             CASE WHEN i % 3 = 0 THEN 'tab	new
line \ back' END, (i % 400) * 2.5, '2024-05-06 07:08:09', '2024-05-06 07:08:09' FROM n;
    UPDATE rooms SET is_active = 'true', created_at = '2024-01-02T05:04:05+02:00' WHERE id = 2;
    UPDATE rooms SET is_active = 'F', created_at = 1704164645 WHERE id = 3;
    UPDATE rooms SET created_at = '2024-01-02T03:04:05Z' WHERE id = 4;
  )");
  std::string uri = NewDatabase("booking");
  process::Output p = Copy({"--sqlite", path, "--pg", uri, "--jobs", "3", "--chunk-rows", "7"});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  auto db = std::move(SqliteDb::Open(path, SqliteDb::Mode::kReadOnly)).value();
  std::vector<std::string> want = SqliteRows(*db, "bookings"), got = PgRows(*conn_, "bookings");
  ASSERT_EQ(got.size(), 1000u);
  EXPECT_TRUE(got == want) << got[0] << " vs " << want[0];
  EXPECT_EQ(PgValue("SELECT string_agg(is_active::text, ',' ORDER BY id) FROM rooms WHERE id <= 4"),
            "true,true,false,false");
  EXPECT_EQ(PgValue("SELECT count(DISTINCT created_at) FROM rooms"), "1");  // four spellings
  EXPECT_EQ(PgValue("SELECT sum(price_per_hour) FROM rooms"), "1593.75");
  EXPECT_EQ(PgValue("SELECT count(*) FROM pg_constraint WHERE contype = 'f'"), "1");
}

const char kBadValues[] = R"(
  CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, ok BOOLEAN, note TEXT NOT NULL);
  INSERT INTO items VALUES (1, 5, 1, 'fine'), (2, 'many', 0, 'text in integer'),
                           (3, 7, 'maybe', 'bad boolean'), (4, 8, 'true', 'tab	and \ slash');
)";

TEST_F(CopyTest, SkipRowDeadLettersBadRowsAndCopiesTheRest) {
  std::string path = Sqlite("bad.db", kBadValues);
  std::string uri = NewDatabase("skiprow");
  process::Output p = Copy({"--sqlite", path, "--pg", uri, "--on-error", "skip-row"});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_EQ(PgValue("SELECT string_agg(id || ':' || qty || ':' || ok || ':' || note, ',' ORDER "
                    "BY id) FROM items"),
            "1:5:true:fine,4:8:true:tab\tand \\ slash");
  EXPECT_EQ(PgValue("SELECT string_agg(table_name || ' ' || key || ' ' || column_name || ' ' || "
                    "value || ' ' || error, ';' ORDER BY id) FROM sqlift.dead_letter"),
            "items (2) qty 'many' text that is not an integer (column type bigint);"
            "items (3) ok 'maybe' not 0/1/true/false/t/f (column type boolean)");
  EXPECT_NE(p.out.find("items                                     2"), std::string::npos) << p.out;
}

TEST_F(CopyTest, StopNamesTheTableAndKeyAndKeepsNoRows) {
  std::string path = Sqlite("bad.db", kBadValues);
  std::string uri = NewDatabase("stop");
  process::Output p = Copy({"--sqlite", path, "--pg", uri});  // stop is the default
  EXPECT_EQ(p.exit_code, 1) << p.out << p.err;
  EXPECT_NE(p.err.find("table items key (2) column qty value 'many': text that is not an integer"),
            std::string::npos)
      << p.err;
  EXPECT_EQ(PgValue("SELECT to_regclass('public.items') IS NULL"), "t");  // all or nothing
  EXPECT_EQ(PgValue("SELECT count(*) FROM sqlift.dead_letter"), "1");
  // The same with rows encoded on several threads: the first bad row in read order stops it.
  process::Output jobs = Copy({"--sqlite", path, "--pg", uri, "--jobs", "4", "--chunk-rows", "1"});
  EXPECT_EQ(jobs.exit_code, 1) << jobs.out << jobs.err;
  EXPECT_NE(jobs.err.find("table items key (2) column qty"), std::string::npos) << jobs.err;
}

TEST_F(CopyTest, HostileIdentifiersCopy) {
  std::string path = Sqlite("hostile.db", R"(
    CREATE TABLE x (id INTEGER PRIMARY KEY);
    CREATE TABLE "user" (id INTEGER PRIMARY KEY, """; DROP TABLE x; --" TEXT, "Mixed Case" REAL);
    INSERT INTO x VALUES (1);
    INSERT INTO "user" VALUES (1, 'a''b', 1.5), (2, NULL, NULL);
  )");
  std::string uri = NewDatabase("hostile");
  process::Output p = Copy({"--sqlite", path, "--pg", uri});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_EQ(PgValue("SELECT string_agg(id || ':' || coalesce(\"\"\"; DROP TABLE x; --\", '-') || "
                    "':' || coalesce(\"Mixed Case\"::text, '-'), ',' ORDER BY id) FROM \"user\""),
            "1:a'b:1.5,2:-:-");
  EXPECT_EQ(PgValue("SELECT count(*) FROM x"), "1");

  // Dead letters of such a table name it exactly (every field is a bound parameter).
  Sqlite("hostile.db", R"(INSERT INTO "user" VALUES (3, CAST(x'6100' AS TEXT), 2.5))");
  process::Output skip =
      Copy({"--sqlite", path, "--pg", uri, "--truncate", "--on-error", "skip-row"});
  ASSERT_EQ(skip.exit_code, 0) << skip.out << skip.err;
  EXPECT_EQ(PgValue("SELECT table_name || '|' || column_name || '|' || key || '|' || error "
                    "FROM sqlift.dead_letter"),
            "user|\"; DROP TABLE x; --|(3)|text holds a NUL byte (column type text)");
}

TEST_F(CopyTest, SchemaBlockersStopWithExit3) {
  std::string path = Sqlite("blocked.db", R"(CREATE TABLE t (id INTEGER PRIMARY KEY, "" TEXT);
                                             INSERT INTO t VALUES (1, 'a');)");
  std::string uri = NewDatabase("blocked");
  process::Output p = Copy({"--sqlite", path, "--pg", uri});
  EXPECT_EQ(p.exit_code, 3) << p.out << p.err;
  EXPECT_NE(p.err.find("blocker t: "), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("name is empty"), std::string::npos) << p.err;
  EXPECT_EQ(PgValue("SELECT to_regclass('public.t') IS NULL"), "t");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A one-shot copy needs no capture: tables without a primary key (a join table, a log with
// identical rows) are copied whole, with a warning that live replication needs a key, and
// verify matches their rows whole.
TEST_F(CopyTest, TablesWithoutPrimaryKeyAreCopiedWhole) {
  std::string path = Sqlite("prisma.db", ReadFile(SQLIFT_TESTDATA "/prisma_leads.sql"));
  std::string uri = NewDatabase("nopk");
  process::Output p = Copy({"--sqlite", path, "--pg", uri});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_NE(p.err.find("table _LeadToTag has no primary key: copied whole, but live replication"),
            std::string::npos)
      << p.err;
  EXPECT_NE(p.err.find("table AuditLog has no primary key"), std::string::npos) << p.err;
  EXPECT_EQ(PgValue("SELECT string_agg(\"A\" || '>' || \"B\", ',' ORDER BY \"A\", \"B\") "
                    "FROM \"_LeadToTag\""),
            "clx9f2k1p0000qz8h3v5y7w1a>clx9f2k1t0000tag000000001,"
            "clx9f2k1p0000qz8h3v5y7w1a>clx9f2k1t0001tag000000002,"
            "clx9f2k1p0002qz8h3v5y7w1c>clx9f2k1t0001tag000000002");
  EXPECT_EQ(PgValue("SELECT string_agg(message || ' ' || at, ',' ORDER BY at, message) "
                    "FROM \"AuditLog\""),
            "login 2025-12-06 00:00:00+00,login 2025-12-06 00:00:00+00,"
            "logout 2025-12-06 00:05:00+00");
  // The join table keeps its unique index and foreign keys.
  EXPECT_EQ(PgValue("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND "
                    "conrelid = 'public.\"_LeadToTag\"'::regclass"),
            "2");
  Result<process::Output> v =
      process::RunCaptured({SQLIFT_BINARY, "verify", "--sqlite", path, "--pg", uri});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->exit_code, 0) << v->out << v->err;
  EXPECT_NE(v->out.find("no primary key: rows are matched whole"), std::string::npos) << v->out;
}

// Prisma's conventions (testdata/prisma_leads.sql): DATETIME columns holding integer
// milliseconds and ISO text mixed load as the instants the application meant, in text and
// binary COPY alike; verify agrees with what was loaded.
TEST_F(CopyTest, PrismaMillisecondsAndIsoTextLoadAsTheInstantsMeant) {
  std::string path = Sqlite("prisma.db", ReadFile(SQLIFT_TESTDATA "/prisma_leads.sql"));
  std::string uri = NewDatabase("prisma");
  process::Output p = Copy({"--sqlite", path, "--pg", uri});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_EQ(PgValue("SELECT count(*) FROM \"Lead\" WHERE \"capturedAt\" = "
                    "'2025-12-06 00:00:00+00'"),
            "3");
  EXPECT_EQ(PgValue("SELECT string_agg(\"updatedAt\"::text || ' ' || consent, ',' ORDER BY id) "
                    "FROM \"Lead\""),
            "2025-12-06 00:00:00+00 true,2025-12-06 00:00:00.123+00 false,"
            "2025-12-06 00:00:00+00 true");
  EXPECT_EQ(PgValue("SELECT meta FROM \"Lead\" WHERE id = 'clx9f2k1p0000qz8h3v5y7w1a'"),
            "{\"source\":\"ads\",\"score\":0.5}");
  EXPECT_EQ(PgValue("SELECT count(*) FROM sqlift.dead_letter"), "0");
  Result<process::Output> v =
      process::RunCaptured({SQLIFT_BINARY, "verify", "--sqlite", path, "--pg", uri});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->exit_code, 0) << v->out << v->err;
}

// Values that would be implausible instants are dead letters with the reason, never loaded:
// a number too large for any unit, and a number in a column whose declared unit makes it
// year 3170843. The declared unit wins over the magnitude rule.
TEST_F(CopyTest, ImplausibleInstantsAreDeadLettersAndDeclaredUnitsWin) {
  std::string path = Sqlite("prisma.db", ReadFile(SQLIFT_TESTDATA "/prisma_leads.sql") + R"(
    INSERT INTO "Lead" VALUES ('clx9f2k1p0003qz8h3v5y7w1d', 'd@example.com', 100000000000000000,
                               5, 1, NULL),
                              ('clx9f2k1p0004qz8h3v5y7w1e', 'e@example.com', 1764979200,
                               99999999999999999, 0, NULL);
  )");
  std::string cfg = (dir_ / "sqlift.toml").string();
  std::ofstream(cfg) << "[mapping]\n\"Lead.updatedAt\" = { type = \"timestamptz(3)\", unit = "
                        "\"ms\" }\n";
  std::string uri = NewDatabase("implausible");
  process::Output p =
      Copy({"--config", cfg, "--sqlite", path, "--pg", uri, "--on-error", "skip-row"});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_EQ(PgValue("SELECT string_agg(key || ' ' || column_name || ' ' || value || ': ' || error, "
                    "';' ORDER BY key) FROM sqlift.dead_letter"),
            "('clx9f2k1p0003qz8h3v5y7w1d') capturedAt 100000000000000000: a number too large for "
            "unix seconds, milliseconds or microseconds (|v| >= 1e17); declare its unit in "
            "[mapping] (column type timestamptz);"
            "('clx9f2k1p0004qz8h3v5y7w1e') updatedAt 99999999999999999: read as unix "
            "milliseconds, it is year 3170843 (UTC), outside 1..9999 (column type "
            "timestamptz(3))");
  EXPECT_EQ(PgValue("SELECT count(*) FROM \"Lead\""), "3");
  EXPECT_EQ(PgValue("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                    "attrelid = 'public.\"Lead\"'::regclass AND attname = 'updatedAt'"),
            "timestamp(3) with time zone");
  EXPECT_EQ(PgValue("SELECT \"updatedAt\" FROM \"Lead\" WHERE id = 'clx9f2k1p0001qz8h3v5y7w1b'"),
            "2025-12-06 00:00:00.123+00");
}

TEST_F(CopyTest, NotNullViolationFailsWithTableAndMessage) {
  // Only PostgreSQL finds this one: NOT NULL on a column whose SQLite rows hold NULL cannot
  // happen through SQLite, so a [mapping]-free way is a table already created with NOT NULL.
  std::string path = Sqlite("nn.db",
                            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
                            "INSERT INTO t VALUES (1, NULL);");
  std::string uri = NewDatabase("notnull");
  ASSERT_TRUE(conn_->Exec("CREATE TABLE public.t (id bigint PRIMARY KEY, v text NOT NULL)").ok());
  process::Output p = Copy({"--sqlite", path, "--pg", uri});
  EXPECT_EQ(p.exit_code, 1) << p.out << p.err;
  EXPECT_NE(p.err.find("copy into t: "), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("violates not-null constraint"), std::string::npos) << p.err;
}

// The pieces under `copy`, driven directly: PgConnection's COPY calls and the state schema.
TEST_F(CopyTest, CopyApiAndStateSchema) {
  NewDatabase("copyapi");
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)").ok());
  // A row PostgreSQL refuses is reported when the COPY ends; the connection stays usable.
  ASSERT_TRUE(conn_->Exec("COPY t FROM STDIN").ok());
  ASSERT_TRUE(conn_->PutCopyData("1\ta\n2\t\\N\n").ok());
  Status end = conn_->PutCopyEnd();
  EXPECT_EQ(SqlStateOf(end), "23502") << end.ToString();
  EXPECT_EQ(PgValue("SELECT count(*) FROM t"), "0");
  // An aborted COPY keeps nothing; a good one keeps its rows.
  ASSERT_TRUE(conn_->Exec("COPY t FROM STDIN").ok());
  ASSERT_TRUE(conn_->PutCopyData("3\tb\n").ok());
  EXPECT_FALSE(conn_->PutCopyEnd("stopped by the caller").ok());
  ASSERT_TRUE(conn_->Exec("COPY t FROM STDIN").ok());
  ASSERT_TRUE(conn_->PutCopyData("4\tc\\td\n").ok());
  EXPECT_TRUE(conn_->PutCopyEnd().ok());
  EXPECT_EQ(PgValue("SELECT string_agg(id || '=' || v, ',') FROM t"), "4=c\td");

  ASSERT_TRUE(EnsureStateSchema(*conn_).ok());
  ASSERT_TRUE(EnsureStateSchema(*conn_).ok());  // idempotent
  DeadLetter d;
  d.table = "it's \"t\"";
  d.key = "('a'';--')";
  d.error = "$1 and $2";
  ASSERT_TRUE(InsertDeadLetter(*conn_, d).ok());
  EXPECT_EQ(PgValue("SELECT table_name || key || error || coalesce(seq::text, '-') || "
                    "(at IS NOT NULL) FROM sqlift.dead_letter"),
            "it's \"t\"('a'';--')$1 and $2-true");
}

}  // namespace
}  // namespace sqlift
