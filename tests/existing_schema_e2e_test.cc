// [target] schema_mode = "existing" end to end, against a throwaway PostgreSQL: the
// application's own schema is deployed first (Prisma's PostgreSQL conventions: quoted
// camelCase names, timestamp(3), text ids, a serial key, foreign keys that are not deferrable,
// plus a tenant_id uuid NOT NULL, an extra index and a trigger), and a SQLite database written
// with Prisma's SQLite conventions (DateTime as integer milliseconds mixed with ISO text,
// Boolean as 0/1) is planned against it, copied into it and verified.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/pg/pg_connection.h"
#include "common/process/process.h"
#include "common/sqlite/sqlite_db.h"
#include "tools/sandbox/pg_sandbox.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTenant = "8f14e45f-ceea-467e-a8f9-6a2f1f9d2f3c";

// The application's schema as `prisma migrate deploy` leaves it, with a tenant column added.
constexpr const char* kTargetDdl = R"(
CREATE TABLE "Tag" ("id" TEXT NOT NULL, "tenant_id" UUID NOT NULL, "name" VARCHAR(40) NOT NULL,
  CONSTRAINT "Tag_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Lead" ("id" TEXT NOT NULL, "tenant_id" UUID NOT NULL, "email" TEXT NOT NULL,
  "capturedAt" TIMESTAMP(3) NOT NULL, "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "consent" BOOLEAN NOT NULL DEFAULT false, "score" INTEGER, "tagId" TEXT, "note" TEXT,
  CONSTRAINT "Lead_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Visit" ("id" SERIAL NOT NULL, "tenant_id" UUID NOT NULL, "leadId" TEXT NOT NULL,
  "at" TIMESTAMP(3) NOT NULL, CONSTRAINT "Visit_pkey" PRIMARY KEY ("id"));
CREATE INDEX "Lead_email_idx" ON "Lead"("email");
ALTER TABLE "Lead" ADD CONSTRAINT "Lead_tagId_fkey" FOREIGN KEY ("tagId") REFERENCES "Tag"("id")
  ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Visit" ADD CONSTRAINT "Visit_leadId_fkey" FOREIGN KEY ("leadId")
  REFERENCES "Lead"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN NEW."updatedAt" := now(); RETURN NEW; END $$;
CREATE TRIGGER "Lead_touch" BEFORE UPDATE ON "Lead" FOR EACH ROW
  EXECUTE FUNCTION touch_updated_at();
)";

// The same models as Prisma's SQLite connector writes them; "visit" and "leadid" differ from
// the target's names only by case.
constexpr const char* kSource = R"(
CREATE TABLE "Tag" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL);
CREATE TABLE "Lead" ("id" TEXT NOT NULL PRIMARY KEY, "email" TEXT NOT NULL,
  "capturedAt" DATETIME NOT NULL, "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "consent" BOOLEAN NOT NULL DEFAULT false, "score" INTEGER,
  "tagId" TEXT REFERENCES "Tag" ("id"));
CREATE TABLE "visit" ("id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "leadid" TEXT NOT NULL REFERENCES "Lead" ("id"), "at" DATETIME NOT NULL);
INSERT INTO "Tag" VALUES ('t1', 'vip'), ('t2', 'new');
INSERT INTO "Lead" VALUES
  ('l1', 'ann@example.com', 1764979200000, '2025-12-06 00:00:00', 1, 10, 't1'),
  ('l2', 'bob@example.com', '2025-12-06T00:00:00.000Z', 1764979200123, 0, NULL, NULL),
  ('l3', 'cy@example.com', '2025-12-06 00:00:00.1234', '2025-12-06T00:00:00Z', 1, 7, 't2');
INSERT INTO "visit" VALUES (1, 'l1', 1764979200000), (2, 'l1', '2025-12-06T00:05:00Z'),
  (3, 'l2', 1764979300000);
)";

class ExistingSchemaTest : public PgSuiteTest {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sqlift_existing_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A database holding the target schema, and a connection to it.
  std::string Target(const std::string& name, const std::string& ddl) {
    auto uri = pg_->CreateDatabase(name);
    EXPECT_TRUE(uri.ok()) << uri.status().ToString();
    conn_ = std::move(PgConnection::Connect(*uri, std::chrono::seconds(10))).value();
    Status st = conn_->Exec(ddl);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return *uri;
  }

  // A SQLite source `name`.db and a configuration naming both sides and the file's tenant.
  std::string Config(const std::string& uri, const std::string& sql,
                     const std::string& name = "app", const std::string& tenant = kTenant) {
    std::string path = (dir_ / (name + ".db")).string();
    fs::remove(path);
    auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadWriteCreate);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    Status st = (*db)->Exec(sql);
    EXPECT_TRUE(st.ok()) << st.ToString();
    std::string cfg = (dir_ / (name + ".toml")).string();
    std::ofstream(cfg) << "[source]\nsqlite = \"" << path << "\"\n[target]\npg = \"" << uri
                       << "\"\nschema_mode = \"existing\"\n[target.constants]\ntenant_id = \""
                       << tenant << "\"\n";
    return cfg;
  }

  static process::Output Run(std::vector<std::string> args) {
    args.insert(args.begin(), SQLIFT_BINARY);
    Result<process::Output> r = process::RunCaptured(args);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : process::Output{};
  }

  // The rows of a query, one line each, values separated by '|' (NULL as "-").
  std::string Rows(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << sql;
    std::string out;
    for (int i = 0; r.ok() && i < r->rows(); ++i) {
      for (int j = 0; j < r->cols(); ++j)
        out += (j ? "|" : "") + (r->is_null(i, j) ? std::string("-") : std::string(r->get(i, j)));
      out += "\n";
    }
    return out;
  }

  std::unique_ptr<PgConnection> conn_;
  fs::path dir_;
};

TEST_F(ExistingSchemaTest, PlanMatchesAndCopyLoadsIntoThePrismaSchema) {
  std::string cfg = Config(Target("prisma", kTargetDdl), kSource);
  process::Output plan = Run({"plan", "--config", cfg, "--json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  for (const char* want : {
           R"("table":"visit","column":"leadid","target_table":"Visit","target_column":"leadId")",
           R"("column":"capturedAt","target_table":"Lead","target_column":"capturedAt",)"
           R"x("from":"timestamptz","to":"timestamp(3)")x",
           R"("target_only":["Lead.note: text NULL"])",
           R"("ddl":[])",
       }) {
    EXPECT_NE(plan.out.find(want), std::string::npos) << want << "\n" << plan.out;
  }
  process::Output text = Run({"plan", "--config", cfg});
  EXPECT_NE(text.out.find("Tag.name → \"Tag\".\"name\" varchar(40): text longer than 40"),
            std::string::npos)
      << text.out;

  process::Output copy = Run({"copy", "--config", cfg});
  ASSERT_EQ(copy.exit_code, 0) << copy.out << copy.err;
  EXPECT_EQ(Rows("SELECT id, tenant_id, \"capturedAt\", \"updatedAt\", consent, score, \"tagId\", "
                 "note FROM \"Lead\" ORDER BY id"),
            fmt::format("l1|{0}|2025-12-06 00:00:00|2025-12-06 00:00:00|t|10|t1|-\n"
                        "l2|{0}|2025-12-06 00:00:00|2025-12-06 00:00:00.123|f|-|-|-\n"
                        "l3|{0}|2025-12-06 00:00:00.123|2025-12-06 00:00:00|t|7|t2|-\n",
                        kTenant));
  EXPECT_EQ(Rows("SELECT id, tenant_id, \"leadId\", at FROM \"Visit\" ORDER BY id"),
            fmt::format("1|{0}|l1|2025-12-06 00:00:00\n2|{0}|l1|2025-12-06 00:05:00\n"
                        "3|{0}|l2|2025-12-06 00:01:40\n",
                        kTenant));
  EXPECT_EQ(Rows("SELECT count(*) FROM sqlift.dead_letter"), "0\n");
  // verify compares with the target's names and types, this source's tenant only.
  process::Output same = Run({"verify", "--config", cfg});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  ASSERT_TRUE(conn_->Exec("UPDATE \"Lead\" SET score = 11 WHERE id = 'l1'").ok());
  process::Output changed = Run({"verify", "--config", cfg});
  EXPECT_EQ(changed.exit_code, 3) << changed.out << changed.err;
  EXPECT_NE(changed.out.find("Lead"), std::string::npos) << changed.out;
  // Put back without the application's trigger, which stamps "updatedAt" on every update.
  ASSERT_TRUE(conn_
                  ->Exec("SET session_replication_role = replica; UPDATE \"Lead\" SET score "
                         "= 10, \"updatedAt\" = '2025-12-06' WHERE id = 'l1'; RESET "
                         "session_replication_role")
                  .ok());
  // Another tenant's rows in the same tables are not this source's.
  ASSERT_TRUE(conn_->Exec("INSERT INTO \"Tag\" VALUES ('t9', gen_random_uuid(), 'other')").ok());
  process::Output scoped = Run({"verify", "--config", cfg});
  EXPECT_EQ(scoped.exit_code, 0) << scoped.out << scoped.err;
  ASSERT_TRUE(conn_->Exec("DELETE FROM \"Tag\" WHERE id = 't9'").ok());
  // The serial moved past the loaded keys; the index and trigger are as deployed; no table
  // of sqlift's own making appeared in the application's schema.
  EXPECT_EQ(Rows(fmt::format("INSERT INTO \"Visit\" (tenant_id, \"leadId\", at) VALUES ('{}', "
                             "'l2', now()) RETURNING id",
                             kTenant)),
            "4\n");
  EXPECT_EQ(Rows("SELECT indexname FROM pg_indexes WHERE tablename = 'Lead' ORDER BY 1"),
            "Lead_email_idx\nLead_pkey\n");
  EXPECT_EQ(Rows("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"), "Lead_touch\n");
  EXPECT_EQ(Rows("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM "
                 "information_schema.tables WHERE table_schema = 'public'"),
            "Lead,Tag,Visit\n");
}

TEST_F(ExistingSchemaTest, MismatchesBlockThePlanAndTheCopy) {
  // No "score", and a NOT NULL "region" nothing fills.
  std::string ddl = kTargetDdl;
  ddl +=
      "ALTER TABLE \"Lead\" DROP COLUMN score; ALTER TABLE \"Lead\" ADD COLUMN region text "
      "NOT NULL;";
  std::string cfg = Config(Target("mismatch", ddl), kSource);
  process::Output plan = Run({"plan", "--config", cfg});
  EXPECT_EQ(plan.exit_code, 3) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("blocker Lead.score: Lead has no column of this name"), std::string::npos)
      << plan.out;
  EXPECT_NE(plan.out.find("blocker Lead.region: Lead.region is NOT NULL without a default"),
            std::string::npos)
      << plan.out;
  process::Output copy = Run({"copy", "--config", cfg});
  EXPECT_EQ(copy.exit_code, 3) << copy.out << copy.err;
  EXPECT_EQ(Rows("SELECT count(*) FROM \"Lead\""), "0\n");
}

TEST_F(ExistingSchemaTest, ValuesTheTargetTypeRefusesAreCountedAndDeadLettered) {
  std::string source = kSource;
  source += "UPDATE \"Lead\" SET score = 99999999999 WHERE id = 'l3';";
  std::string cfg = Config(Target("badvalue", kTargetDdl), source);
  process::Output plan = Run({"plan", "--config", cfg});
  EXPECT_EQ(plan.exit_code, 3) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("blocker Lead.score: 1 values do not fit"), std::string::npos)
      << plan.out;
  process::Output copy = Run({"copy", "--config", cfg});
  EXPECT_NE(copy.exit_code, 0) << copy.out << copy.err;
  EXPECT_EQ(Rows("SELECT table_name, column_name, key, value, error FROM sqlift.dead_letter"),
            "Lead|score|('l3')|99999999999|out of range for integer (column type integer)\n");
  EXPECT_EQ(Rows("SELECT count(*) FROM \"Lead\""), "0\n");
}

// Database per tenant: a second file loads beside the first; a reload of one (--truncate)
// replaces its rows only, and each verifies against its own rows.
TEST_F(ExistingSchemaTest, TenantFilesShareTheTablesAndReloadOnlyTheirRows) {
  const std::string other = "0b7e2c1a-4d3f-4e5a-9b8c-7d6e5f4a3b2c";
  std::string uri = Target("tenants", kTargetDdl);
  std::string a = Config(uri, kSource, "a");
  std::string b = Config(uri,
                         R"(
CREATE TABLE "Tag" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL);
CREATE TABLE "Lead" ("id" TEXT NOT NULL PRIMARY KEY, "email" TEXT NOT NULL,
  "capturedAt" DATETIME NOT NULL, "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "consent" BOOLEAN NOT NULL DEFAULT false, "score" INTEGER,
  "tagId" TEXT REFERENCES "Tag" ("id"));
CREATE TABLE "visit" ("id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "leadid" TEXT NOT NULL REFERENCES "Lead" ("id"), "at" DATETIME NOT NULL);
INSERT INTO "Tag" VALUES ('t3', 'gold');
INSERT INTO "Lead" VALUES ('m1', 'dee@example.com', 1764979200000, 1764979200000, 0, 1, 't3');
INSERT INTO "visit" VALUES (10, 'm1', 1764979200000);
)",
                         "b", other);
  process::Output copy_a = Run({"copy", "--config", a});
  ASSERT_EQ(copy_a.exit_code, 0) << copy_a.out << copy_a.err;
  process::Output copy_b = Run({"copy", "--config", b});
  ASSERT_EQ(copy_b.exit_code, 0) << copy_b.out << copy_b.err;
  process::Output again = Run({"copy", "--config", a});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("(rows of tenant_id = '" + std::string(kTenant) + "')"),
            std::string::npos)
      << again.err;
  process::Output reload = Run({"copy", "--config", a, "--truncate"});
  ASSERT_EQ(reload.exit_code, 0) << reload.out << reload.err;
  EXPECT_EQ(Rows("SELECT tenant_id, count(*) FROM \"Lead\" GROUP BY 1 ORDER BY 1"),
            fmt::format("{}|1\n{}|3\n", other, kTenant));
  EXPECT_EQ(Rows("SELECT tenant_id, count(*) FROM \"Visit\" GROUP BY 1 ORDER BY 1"),
            fmt::format("{}|1\n{}|3\n", other, kTenant));
  for (const std::string& cfg : {a, b}) {
    process::Output v = Run({"verify", "--config", cfg});
    EXPECT_EQ(v.exit_code, 0) << cfg << "\n" << v.out << v.err;
  }
}

}  // namespace
}  // namespace sqlift
