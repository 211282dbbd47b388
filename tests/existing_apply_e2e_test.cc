// The applier (`sqlift capture` + `sqlift apply`) into an existing target schema, against a
// throwaway PostgreSQL: the application's schema is deployed first (Prisma's conventions:
// quoted camelCase, timestamp(3), foreign keys that are not deferrable, a serial key, a
// tenant_id uuid NOT NULL filled from [target.constants], an extra index and a trigger), the
// SQLite source is in WAL mode. The snapshot loads into it, streamed inserts, updates and
// deletes follow, verify finds both sides equal, and a schema change on SQLite stops the
// stream without touching the application's schema.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <thread>

#include "common/pg/pg_connection.h"
#include "common/process/process.h"
#include "common/sqlite/sqlite_db.h"
#include "tests/testutil/wait_for.h"
#include "tools/sandbox/pg_cluster.h"
#include "tools/sandbox/pg_sandbox.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kTenant = "8f14e45f-ceea-467e-a8f9-6a2f1f9d2f3c";

// The application's schema as `prisma migrate deploy` leaves it, with a tenant column, an
// index and an audit trigger of its own.
constexpr const char* kTargetDdl = R"(
CREATE TABLE "Tag" ("id" TEXT NOT NULL, "tenant_id" UUID NOT NULL, "name" VARCHAR(40) NOT NULL,
  CONSTRAINT "Tag_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Lead" ("id" TEXT NOT NULL, "tenant_id" UUID NOT NULL, "email" TEXT NOT NULL,
  "capturedAt" TIMESTAMP(3) NOT NULL, "score" INTEGER, "tagId" TEXT, "note" TEXT,
  CONSTRAINT "Lead_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Visit" ("id" SERIAL NOT NULL, "tenant_id" UUID NOT NULL, "leadId" TEXT NOT NULL,
  "at" TIMESTAMP(3) NOT NULL, CONSTRAINT "Visit_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Audit" ("leadId" TEXT NOT NULL, "at" TIMESTAMP(3) NOT NULL DEFAULT now());
CREATE INDEX "Lead_email_idx" ON "Lead"("email");
ALTER TABLE "Lead" ADD CONSTRAINT "Lead_tagId_fkey" FOREIGN KEY ("tagId") REFERENCES "Tag"("id")
  ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Visit" ADD CONSTRAINT "Visit_leadId_fkey" FOREIGN KEY ("leadId")
  REFERENCES "Lead"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE FUNCTION audit_lead() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO "Audit"("leadId") VALUES (NEW."id"); RETURN NEW; END $$;
CREATE TRIGGER "Lead_audit" AFTER INSERT ON "Lead" FOR EACH ROW EXECUTE FUNCTION audit_lead();
)";

// Prisma's SQLite models; in name order "Lead" comes before its parent "Tag".
constexpr const char* kSource = R"(
PRAGMA journal_mode = WAL;
CREATE TABLE "Tag" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL);
CREATE TABLE "Lead" ("id" TEXT NOT NULL PRIMARY KEY, "email" TEXT NOT NULL,
  "capturedAt" DATETIME NOT NULL, "score" INTEGER, "tagId" TEXT REFERENCES "Tag" ("id"));
CREATE TABLE "visit" ("id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "leadid" TEXT NOT NULL REFERENCES "Lead" ("id"), "at" DATETIME NOT NULL);
INSERT INTO "Tag" VALUES ('t1', 'vip'), ('t2', 'new');
INSERT INTO "Lead" VALUES ('l1', 'ann@example.com', 1764979200000, 10, 't1'),
  ('l2', 'bob@example.com', '2025-12-06T00:00:00.000Z', NULL, NULL);
INSERT INTO "visit" VALUES (1, 'l1', 1764979200000), (2, 'l2', '2025-12-06T00:05:00Z');
)";

class ExistingApplyTest : public PgSuiteTest {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sqlift_existing_apply_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    for (std::optional<process::Child>* p : {&agent_, &applier_}) {
      if (*p) (*p)->Kill(SIGTERM), (void)(*p)->Wait();
    }
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // The target database with the application's schema; the SQLite source; the configuration.
  void Deploy(const std::string& database) {
    auto uri = pg_->CreateDatabase(database);
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
    conn_ = std::move(PgConnection::Connect(uri_, 10s)).value();
    ASSERT_TRUE(conn_->Exec(kTargetDdl).ok());
    auto db = SqliteDb::Open(Path("app.db"), SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Exec(kSource).ok());
    std::ofstream(dir_ / "token") << "0123456789abcdef0123456789abcdef\n";
    fs::permissions(dir_ / "token", fs::perms::owner_read | fs::perms::owner_write);
    auto port = pgcluster::PickFreePort();
    ASSERT_TRUE(port.ok());
    std::ofstream(Path("sqlift.toml")) << fmt::format(
        "[source]\nid = \"app\"\nsqlite = \"{0}/app.db\"\n[state]\ndir = \"{0}/state\"\n"
        "[capture]\nmode = \"wal\"\npoll_ms = 50\n"
        "[target]\npg = \"{1}\"\nschema_mode = \"existing\"\n"
        "[target.constants]\ntenant_id = \"{3}\"\n"
        "[transport]\nlisten = \"127.0.0.1:{2}\"\nconnect = \"127.0.0.1:{2}\"\n"
        "token_file = \"{0}/token\"\n",
        dir_.string(), uri_, *port, kTenant);
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  process::Output Run(std::vector<std::string> args) {
    args.insert(args.begin(), {SQLIFT_BINARY, "--config", Path("sqlift.toml")});
    Result<process::Output> r = process::RunCaptured(args);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : process::Output{};
  }

  void Start(std::optional<process::Child>* child, const std::string& command) {
    auto p = process::Child::Spawn(
        {.argv = {SQLIFT_BINARY, "--config", Path("sqlift.toml"), command},
         .out = process::Stream::File(Path(command + ".log"), /*append=*/true),
         .err = process::Stream::SameAsStdout()});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    child->emplace(std::move(*p));
  }

  void Write(const std::string& sql) {
    auto db = SqliteDb::Open(Path("app.db"), SqliteDb::Mode::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Status st = (*db)->Exec(sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // The rows of a query, one line each, values separated by '|' (NULL as "-"); "" on error.
  std::string Rows(const std::string& sql) {
    auto r = conn_->Query(sql);
    std::string out;
    for (int i = 0; r.ok() && i < r->rows(); ++i) {
      for (int j = 0; j < r->cols(); ++j)
        out += (j ? "|" : "") + (r->is_null(i, j) ? std::string("-") : std::string(r->get(i, j)));
      out += "\n";
    }
    return out;
  }

  // Until `done` holds, 60 s at most.
  static bool WaitFor(const std::function<bool()>& done) { return testutil::WaitFor(done, 60s); }

  std::string Log(const std::string& command) const {
    std::stringstream text;
    text << std::ifstream(dir_ / (command + ".log")).rdbuf();
    return text.str();
  }

  fs::path dir_;
  std::string uri_;
  std::unique_ptr<PgConnection> conn_;
  std::optional<process::Child> agent_, applier_;
};

TEST_F(ExistingApplyTest, SnapshotAndStreamLoadIntoThePrismaSchema) {
  Deploy("existing_apply");
  process::Output plan = Run({"plan"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  process::Output init = Run({"init"});
  ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
  Start(&applier_, "apply");
  Start(&agent_, "capture");
  ASSERT_TRUE(WaitFor([&] { return Rows("SELECT count(*) FROM sqlift.positions") == "1\n"; }))
      << Log("apply") << Log("capture");

  // Parents before children: the foreign keys are not deferrable.
  EXPECT_EQ(Rows("SELECT id, tenant_id, email, \"capturedAt\", score, \"tagId\", note "
                 "FROM \"Lead\" ORDER BY id"),
            fmt::format("l1|{0}|ann@example.com|2025-12-06 00:00:00|10|t1|-\n"
                        "l2|{0}|bob@example.com|2025-12-06 00:00:00|-|-|-\n",
                        kTenant));
  EXPECT_EQ(Rows("SELECT id, tenant_id, \"leadId\", at FROM \"Visit\" ORDER BY id"),
            fmt::format("1|{0}|l1|2025-12-06 00:00:00\n2|{0}|l2|2025-12-06 00:05:00\n", kTenant));

  Write("INSERT INTO \"Tag\" VALUES ('t3', 'gold')");
  Write("INSERT INTO \"Lead\" VALUES ('l3', 'cy@example.com', '2025-12-07 10:00:00.5', 3, 't3')");
  Write("UPDATE \"Lead\" SET score = 11, \"tagId\" = 't2' WHERE id = 'l1'");
  Write("DELETE FROM \"visit\" WHERE id = 2");
  Write("UPDATE \"Tag\" SET name = 'silver' WHERE id = 't3'");
  Write("INSERT INTO \"visit\" (leadid, at) VALUES ('l3', 1765101600000)");
  ASSERT_TRUE(WaitFor([&] { return Rows("SELECT count(*) FROM \"Visit\" WHERE id = 3") == "1\n"; }))
      << Log("apply") << Log("capture");

  EXPECT_EQ(Rows("SELECT id, tenant_id, name FROM \"Tag\" ORDER BY id"),
            fmt::format("t1|{0}|vip\nt2|{0}|new\nt3|{0}|silver\n", kTenant));
  EXPECT_EQ(Rows("SELECT id, tenant_id, \"capturedAt\", score, \"tagId\" FROM \"Lead\" "
                 "ORDER BY id"),
            fmt::format("l1|{0}|2025-12-06 00:00:00|11|t2\nl2|{0}|2025-12-06 00:00:00|-|-\n"
                        "l3|{0}|2025-12-07 10:00:00.5|3|t3\n",
                        kTenant));
  EXPECT_EQ(Rows("SELECT id, tenant_id, \"leadId\", at FROM \"Visit\" ORDER BY id"),
            fmt::format("1|{0}|l1|2025-12-06 00:00:00\n3|{0}|l3|2025-12-07 10:00:00\n", kTenant));
  EXPECT_EQ(Rows("SELECT count(*) FROM sqlift.dead_letter"), "0\n");
  // The application's trigger fired once per lead; its index is as deployed.
  EXPECT_EQ(Rows("SELECT \"leadId\" FROM \"Audit\" ORDER BY 1"), "l1\nl2\nl3\n");
  EXPECT_EQ(Rows("SELECT indexname FROM pg_indexes WHERE tablename = 'Lead' ORDER BY 1"),
            "Lead_email_idx\nLead_pkey\n");
  process::Output verify = Run({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // Cutover is refused: the reverse path does not map the application's schema back.
  process::Output cutover = Run({"cutover"});
  EXPECT_EQ(cutover.exit_code, 3) << cutover.out << cutover.err;
  EXPECT_NE(cutover.err.find("cutover and fallback are not yet"), std::string::npos) << cutover.err;

  // A schema change on SQLite is never carried into the application's schema.
  Write("ALTER TABLE \"Tag\" ADD COLUMN color TEXT");
  Write("INSERT INTO \"Tag\" VALUES ('t4', 'red', 'red')");
  ASSERT_TRUE(WaitFor([&] {
    return Log("apply").find("never changes the target schema") != std::string::npos;
  })) << Log("apply");
  EXPECT_NE(Log("apply").find("Tag has no column of this name"), std::string::npos) << Log("apply");
  EXPECT_EQ(Rows("SELECT count(*) FROM information_schema.columns WHERE table_name = 'Tag'"),
            "3\n");
  EXPECT_EQ(Rows("SELECT count(*) FROM \"Tag\" WHERE id = 't4'"), "0\n");
}

// Another tenant's row under a key this source inserts: the stream stops, and that row keeps
// its tenant and values (an upsert would otherwise have overwritten it).
TEST_F(ExistingApplyTest, AnotherTenantsRowUnderTheKeyStopsTheStream) {
  Deploy("existing_apply_key");
  const std::string other = "0b7e2c1a-4d3f-4e5a-9b8c-7d6e5f4a3b2c";
  ASSERT_TRUE(
      conn_->Exec(fmt::format("INSERT INTO \"Tag\" VALUES ('t9', '{}', 'theirs')", other)).ok());
  process::Output init = Run({"init"});
  ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
  Start(&applier_, "apply");
  Start(&agent_, "capture");
  ASSERT_TRUE(WaitFor([&] { return Rows("SELECT count(*) FROM sqlift.positions") == "1\n"; }))
      << Log("apply") << Log("capture");
  Write("INSERT INTO \"Tag\" VALUES ('t9', 'mine')");
  ASSERT_TRUE(WaitFor([&] {
    return Log("apply").find("holds a row of another source under this key") != std::string::npos;
  })) << Log("apply");
  EXPECT_EQ(Rows("SELECT id, tenant_id, name FROM \"Tag\" WHERE id = 't9'"),
            fmt::format("t9|{}|theirs\n", other));
}

}  // namespace
}  // namespace sqlift
