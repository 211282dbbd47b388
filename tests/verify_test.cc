// `sqlift verify` as an operator runs it, after `sqlift copy`, against a throwaway PostgreSQL:
// chinook matches and the run is recorded; a changed value, a deleted row and an extra row are
// each found with their keys and values; spellings that mean the same value (timestamps,
// numeric scale, booleans, bytea) are not differences, while NULL vs '' is; hostile
// identifiers verify.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/pg/pg_connection.h"
#include "common/process/process.h"
#include "common/sqlite/sqlite_db.h"
#include "tools/sandbox/pg_sandbox.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;

class VerifyTest : public PgSuiteTest {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sqlift_verify_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string NewDatabase(const std::string& name) {
    auto uri = pg_->CreateDatabase(name);
    EXPECT_TRUE(uri.ok()) << uri.status().ToString();
    conn_ = std::move(PgConnection::Connect(*uri, std::chrono::seconds(10))).value();
    return *uri;
  }

  static process::Output Sqlift(const std::string& sub, std::vector<std::string> args) {
    args.insert(args.begin(), {SQLIFT_BINARY, sub});
    Result<process::Output> r = process::RunCaptured(args);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : process::Output{};
  }

  // A SQLite file made from `sql`, copied into a fresh database; returns the file's path.
  std::string CopiedSqlite(const std::string& name, const std::string& sql) {
    std::string path = (dir_ / (name + ".db")).string();
    auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadWriteCreate);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    Status st = (*db)->Exec(sql);
    EXPECT_TRUE(st.ok()) << st.ToString();
    uri_ = NewDatabase(name);
    process::Output p = Sqlift("copy", {"--sqlite", path, "--pg", uri_});
    EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
    return path;
  }

  std::string PgValue(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << sql;
    return r.ok() && r->rows() > 0 ? std::string(r->get(0, 0)) : "";
  }
  void PgExec(const std::string& sql) {
    Status st = conn_->Exec(sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  static bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  std::unique_ptr<PgConnection> conn_;
  std::string uri_;
  fs::path dir_;
};

TEST_F(VerifyTest, ChinookMatchesAfterCopyAndTheRunIsRecorded) {
  std::string path = (dir_ / "chinook.sqlite").string();
  fs::copy_file(SQLIFT_TESTDATA "/chinook.sqlite", path);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  std::string uri = NewDatabase("chinook");
  ASSERT_EQ(Sqlift("copy", {"--sqlite", path, "--pg", uri}).exit_code, 0);

  process::Output p = Sqlift("verify", {"--sqlite", path, "--pg", uri});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_TRUE(Has(p.out, "11 of 11 tables matched")) << p.out;
  EXPECT_TRUE(Has(p.out, "Track                                  3503         3503  Matched"))
      << p.out;
  EXPECT_EQ(
      PgValue("SELECT count(*) || ' ' || bool_and(matched) || ' ' || "
              "jsonb_array_length(report->'tables') || ' ' || "
              "(report->'tables'->10->>'sqlite_rows') FROM sqlift.verify_runs GROUP BY report"),
      "1 true 11 3503");

  // Planted in PostgreSQL: a changed value, a deleted row, an extra row.
  PgExec(
      "UPDATE \"Track\" SET \"UnitPrice\" = 9.99 WHERE \"TrackId\" = 1234;"
      "DELETE FROM \"InvoiceLine\" WHERE \"InvoiceLineId\" = 7;"
      "INSERT INTO \"Genre\" VALUES (999, 'Polka')");
  process::Output bad = Sqlift("verify", {"--sqlite", path, "--pg", uri});
  ASSERT_EQ(bad.exit_code, 3) << bad.out << bad.err;
  EXPECT_TRUE(Has(bad.out, "8 of 11 tables matched")) << bad.out;
  EXPECT_TRUE(Has(bad.out,
                  "Different  1 different\n    different key (1234): \"UnitPrice\" "
                  "sqlite 0.99 pg 9.99"))
      << bad.out;
  EXPECT_TRUE(Has(bad.out,
                  "Different  1 missing\n    missing key (7): \"InvoiceLineId\" 7, "
                  "\"InvoiceId\" 3, \"TrackId\" 16, \"UnitPrice\" 0.99, \"Quantity\" 1"))
      << bad.out;
  EXPECT_TRUE(Has(bad.out,
                  "Genre                                    25           26  Different  "
                  "1 extra\n    extra key (999): \"GenreId\" 999, \"Name\" 'Polka'"))
      << bad.out;

  // --json: one document; the run is recorded as not matched, with the same report.
  process::Output json =
      Sqlift("verify", {"--sqlite", path, "--pg", uri, "--json", "--tables", "Track"});
  ASSERT_EQ(json.exit_code, 3) << json.out << json.err;
  EXPECT_TRUE(Has(json.out,
                  "\"examples\":[{\"kind\":\"different\",\"key\":\"(1234)\","
                  "\"columns\":[\"UnitPrice\"],\"sqlite\":[\"0.99\"],\"pg\":[\"9.99\"]}]"))
      << json.out;
  EXPECT_EQ(PgValue("SELECT string_agg(matched || ':' || scope, ',' ORDER BY id) FROM "
                    "sqlift.verify_runs WHERE id > 1"),
            "false:" + path + " -> public: all tables,false:" + path + " -> public: tables Track");
  EXPECT_EQ(PgValue("SELECT report->'tables'->0->'examples'->0->'pg'->>0 FROM sqlift.verify_runs "
                    "ORDER BY id DESC LIMIT 1"),
            "9.99");
}

TEST_F(VerifyTest, EquivalentSpellingsMatchButNullIsNotEmpty) {
  std::string path = CopiedSqlite("spellings", R"(
    CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME, price DECIMAL(10,2), ok BOOLEAN,
                    data BLOB, note TEXT, score REAL);
    INSERT INTO t VALUES (1, '2024-05-06T07:08:09Z', 12.5, 1, x'00ff41', '', 0.1),
                         (2, '2024-05-06 09:08:09.250+02:00', '7', 'false', 'text', NULL, 1e300),
                         (3, 1714979289, 0.99, 't', NULL, 'x', -0.0);
  )");
  process::Output p = Sqlift("verify", {"--sqlite", path, "--pg", uri_});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_TRUE(Has(p.out, "1 of 1 tables matched")) << p.out;
  // PostgreSQL really holds other spellings of the same values.
  EXPECT_EQ(PgValue("SELECT price || ' ' || ok FROM t WHERE id = 1"), "12.50 true");

  // The same instant written with another offset is still equal; '' → NULL is not.
  PgExec("UPDATE t SET at = '2024-05-06 10:08:09+03' WHERE id = 1");
  EXPECT_EQ(Sqlift("verify", {"--sqlite", path, "--pg", uri_}).exit_code, 0);
  PgExec("UPDATE t SET note = NULL WHERE id = 1");
  process::Output bad = Sqlift("verify", {"--sqlite", path, "--pg", uri_});
  EXPECT_EQ(bad.exit_code, 3) << bad.out << bad.err;
  EXPECT_TRUE(Has(bad.out, "different key (1): \"note\" sqlite '' pg NULL")) << bad.out;
  // A microsecond is a difference.
  PgExec("UPDATE t SET note = '', at = at + interval '1 microsecond' WHERE id = 1");
  bad = Sqlift("verify", {"--sqlite", path, "--pg", uri_});
  EXPECT_TRUE(Has(bad.out, "\"at\" sqlite '2024-05-06 07:08:09' pg '2024-05-06 07:08:09.000001'"))
      << bad.out;
}

TEST_F(VerifyTest, HostileIdentifiersVerify) {
  std::string path = CopiedSqlite("hostile", R"(
    CREATE TABLE x (id INTEGER PRIMARY KEY);
    CREATE TABLE "user" (id INTEGER PRIMARY KEY, """; DROP TABLE x; --" TEXT, "Mixed Case" REAL);
    INSERT INTO x VALUES (1);
    INSERT INTO "user" VALUES (1, 'a''b', 1.5), (2, NULL, NULL);
  )");
  process::Output p = Sqlift("verify", {"--sqlite", path, "--pg", uri_, "--tables", "user,x"});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_TRUE(Has(p.out, "2 of 2 tables matched")) << p.out;
  PgExec("UPDATE \"user\" SET \"\"\"; DROP TABLE x; --\" = 'c' WHERE id = 1");
  process::Output bad = Sqlift("verify", {"--sqlite", path, "--pg", uri_});
  EXPECT_EQ(bad.exit_code, 3) << bad.out << bad.err;
  EXPECT_TRUE(Has(bad.out, "different key (1): \"\"\"; DROP TABLE x; --\" sqlite 'a''b' pg 'c'"))
      << bad.out;
  EXPECT_EQ(PgValue("SELECT count(*) FROM x"), "1");
}

TEST_F(VerifyTest, MissingAndExtraTablesAndUsageErrors) {
  std::string path = CopiedSqlite("tables", R"(
    CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);
    CREATE TABLE b (id INTEGER PRIMARY KEY);
    INSERT INTO a VALUES (1, 'one');
  )");
  PgExec("DROP TABLE b; CREATE TABLE stray (id int)");
  process::Output p = Sqlift("verify", {"--sqlite", path, "--pg", uri_});
  EXPECT_EQ(p.exit_code, 3) << p.out << p.err;
  EXPECT_TRUE(Has(p.out, "Missing    table \"public\".\"b\" is not in PostgreSQL")) << p.out;
  EXPECT_TRUE(Has(p.out, "stray                                     0            0  Extra"))
      << p.out;
  EXPECT_EQ(Sqlift("verify", {"--sqlite", path, "--pg", uri_, "--tables", "nope"}).exit_code, 2);
  EXPECT_EQ(Sqlift("verify", {"--sqlite", path}).exit_code, 2);
  EXPECT_EQ(
      Sqlift("verify", {"--sqlite", path, "--pg", "postgresql://nobody@127.0.0.1:1/x"}).exit_code,
      1);
}

}  // namespace
}  // namespace sqlift
