// The applier (`sqlift capture` + `sqlift apply`) into an existing target schema, against a
// throwaway PostgreSQL: the application's schema is deployed first (Prisma's conventions:
// quoted camelCase, timestamp(3), foreign keys that are not deferrable, a serial key, a
// tenant_id uuid NOT NULL filled from [target.constants], an extra index and a trigger), the
// SQLite source is in WAL mode. The snapshot loads into it, streamed inserts, updates and
// deletes follow, verify finds both sides equal, and a schema change on SQLite stops the
// stream without touching the application's schema. The switches work against it: after a
// cutover the application writes PostgreSQL (row-level security enabled and forced), the
// reverse path brings its rows back under SQLite's names and skips what SQLite has no place
// for (its uuid tenant column, another source's rows, the audit table its trigger fills), and
// a fallback loses nothing: a writer that follows only sqlift's refusals writes through both
// switches, and every note it was told was committed is on both sides exactly once.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
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
CREATE TABLE "Note" ("id" TEXT NOT NULL, "tenant_id" UUID NOT NULL, "body" TEXT NOT NULL,
  CONSTRAINT "Note_pkey" PRIMARY KEY ("id"));
CREATE INDEX "Lead_email_idx" ON "Lead"("email");
ALTER TABLE "Lead" ADD CONSTRAINT "Lead_tagId_fkey" FOREIGN KEY ("tagId") REFERENCES "Tag"("id")
  ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Visit" ADD CONSTRAINT "Visit_leadId_fkey" FOREIGN KEY ("leadId")
  REFERENCES "Lead"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE FUNCTION audit_lead() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO "Audit"("leadId") VALUES (NEW."id"); RETURN NEW; END $$;
CREATE TRIGGER "Lead_audit" AFTER INSERT ON "Lead" FOR EACH ROW EXECUTE FUNCTION audit_lead();
)";

// Prisma's SQLite models; in name order "Lead" comes before its parent "Tag", whose label
// fills the target's "name" ([mapping] column).
constexpr const char* kSource = R"(
PRAGMA journal_mode = WAL;
CREATE TABLE "Tag" ("id" TEXT NOT NULL PRIMARY KEY, "label" TEXT NOT NULL);
CREATE TABLE "Lead" ("id" TEXT NOT NULL PRIMARY KEY, "email" TEXT NOT NULL,
  "capturedAt" DATETIME NOT NULL, "score" INTEGER, "tagId" TEXT REFERENCES "Tag" ("id"));
CREATE TABLE "Note" ("id" TEXT NOT NULL PRIMARY KEY, "body" TEXT NOT NULL);
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
        "[mapping]\n\"Tag.label\" = {{ column = \"name\" }}\n"
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

  // `init`, then the applier and the agent, until the snapshot is applied.
  void StartMigration() {
    process::Output init = Run({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
    Start(&applier_, "apply");
    Start(&agent_, "capture");
    ASSERT_TRUE(WaitFor([&] { return Rows("SELECT count(*) FROM sqlift.positions") == "1\n"; }))
        << Log("apply") << Log("capture");
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
  ASSERT_NO_FATAL_FAILURE(StartMigration());

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
  Write("UPDATE \"Tag\" SET label = 'silver' WHERE id = 't3'");
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
  ASSERT_NO_FATAL_FAILURE(StartMigration());
  Write("INSERT INTO \"Tag\" VALUES ('t9', 'mine')");
  ASSERT_TRUE(WaitFor([&] {
    return Log("apply").find("holds a row of another source under this key") != std::string::npos;
  })) << Log("apply");
  EXPECT_EQ(Rows("SELECT id, tenant_id, name FROM \"Tag\" WHERE id = 't9'"),
            fmt::format("t9|{}|theirs\n", other));
}

// Cutover, writes on PostgreSQL as the application makes them, fallback: nothing lost, nothing
// of the application's own (audit rows, another source's rows, the tenant column) in SQLite.
TEST_F(ExistingApplyTest, CutoverAndFallbackRoundTripThroughThePrismaSchema) {
  Deploy("existing_switch");
  const std::string other = "0b7e2c1a-4d3f-4e5a-9b8c-7d6e5f4a3b2c";
  for (const char* table : {"Tag", "Lead", "Visit", "Note"}) {
    ASSERT_TRUE(conn_
                    ->Exec(fmt::format(
                        "ALTER TABLE \"{0}\" ENABLE ROW LEVEL SECURITY; ALTER TABLE \"{0}\" FORCE "
                        "ROW LEVEL SECURITY; CREATE POLICY tenant_isolation ON \"{0}\" USING "
                        "(tenant_id = current_setting('app.current_tenant_id', true)::uuid)",
                        table))
                    .ok());
  }
  ASSERT_NO_FATAL_FAILURE(StartMigration());
  Write("INSERT INTO \"Tag\" VALUES ('t3', 'gold')");
  ASSERT_TRUE(WaitFor([&] {
    return Rows("SELECT count(*) FROM \"Tag\" WHERE id = 't3'") == "1\n";
  })) << Log("apply")
      << Log("capture");

  // A replica identity without SQLite's key: refused before anything changes, naming the fix.
  ASSERT_TRUE(conn_->Exec("ALTER TABLE \"Tag\" REPLICA IDENTITY NOTHING").ok());
  process::Output refused_cutover = Run({"cutover", "--timeout", "60s"});
  EXPECT_NE(refused_cutover.exit_code, 0);
  EXPECT_NE(refused_cutover.out.find("REPLICA IDENTITY USING INDEX"), std::string::npos)
      << refused_cutover.out << refused_cutover.err;
  ASSERT_TRUE(conn_->Exec("ALTER TABLE \"Tag\" REPLICA IDENTITY DEFAULT").ok());
  // Another source loading into the same tables shares the whole database's route: refused.
  ASSERT_TRUE(
      conn_->Exec("INSERT INTO sqlift.positions (source, applied_seq) VALUES ('b', 0)").ok());
  refused_cutover = Run({"cutover", "--timeout", "60s"});
  EXPECT_NE(refused_cutover.exit_code, 0);
  EXPECT_NE(refused_cutover.out.find("sources b also load into this existing schema"),
            std::string::npos)
      << refused_cutover.out << refused_cutover.err;
  ASSERT_TRUE(conn_->Exec("DELETE FROM sqlift.positions WHERE source = 'b'").ok());

  // A writer that knows sqlift only by its refusals, through both switches: each note goes to
  // SQLite, and where SQLite refuses it to PostgreSQL (which refuses it while SQLite owns the
  // data, or while a switch is in flight); a note counts once one side committed it.
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0}, on_pg{0};
  std::thread writer([&] {
    auto lite = SqliteDb::Open(Path("app.db"), SqliteDb::Mode::kReadWrite);
    auto pg = PgConnection::Connect(uri_, 10s);
    if (!lite.ok() || !pg.ok()) return;
    for (int i = 0; !stop.load();) {
      const std::string id = fmt::format("n{}", i);
      bool ok = (*lite)->Exec(fmt::format("INSERT INTO \"Note\" VALUES ('{}', 'w')", id)).ok();
      if (!ok &&
          (*pg)
              ->Exec(fmt::format("INSERT INTO \"Note\" VALUES ('{}', '{}', 'w')", id, kTenant))
              .ok()) {
        ok = true;
        ++on_pg;
      }
      if (ok) acked = ++i;
    }
  });
  struct Joined {  // the writer stops and is joined on every way out of the test
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joined() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } joined{stop, writer};
  auto more_notes = [&](int n) {
    const int from = acked.load();
    return WaitFor([&] { return acked.load() >= from + n; });
  };
  ASSERT_TRUE(more_notes(20));

  process::Output cutover = Run({"cutover", "--timeout", "60s"});
  ASSERT_EQ(cutover.exit_code, 0) << cutover.out << cutover.err << Log("capture");
  EXPECT_TRUE(more_notes(20));  // on PostgreSQL now
  auto db = SqliteDb::Open(Path("app.db"), SqliteDb::Mode::kReadWrite);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Status refused = (*db)->Exec("INSERT INTO \"Tag\" VALUES ('t4', 'late')");
  EXPECT_NE(refused.ToString().find("is on postgres"), std::string::npos) << refused.ToString();

  // The application on PostgreSQL: its tenant set, as its policies read it.
  ASSERT_TRUE(
      conn_
          ->Exec(fmt::format(
              "BEGIN; SELECT set_config('app.current_tenant_id', '{0}', true);"
              "INSERT INTO \"Tag\" VALUES ('t5', '{0}', 'pg');"
              "INSERT INTO \"Lead\" (id, tenant_id, email, \"capturedAt\", score, \"tagId\") "
              "VALUES ('l4', '{0}', 'dee@example.com', '2025-12-08 09:00:00.25', 4, 't5');"
              "UPDATE \"Lead\" SET score = 99, note = 'pg only' WHERE id = 'l2';"
              "DELETE FROM \"Visit\" WHERE id = 1;"
              "INSERT INTO \"Visit\" (tenant_id, \"leadId\", at) "
              "VALUES ('{0}', 'l4', '2025-12-08 09:01:00');"
              "INSERT INTO \"Tag\" VALUES ('x1', '{1}', 'theirs'); COMMIT",
              kTenant, other))
          .ok());
  // The reverse path has applied the transaction once l4 is in SQLite.
  ASSERT_TRUE(WaitFor([&] {
    auto n = (*db)->QueryInt64("SELECT count(*) FROM \"Lead\" WHERE id = 'l4'");
    return n.ok() && *n == 1;
  })) << Log("capture");

  process::Output fallback = Run({"fallback", "--timeout", "60s"});
  ASSERT_EQ(fallback.exit_code, 0) << fallback.out << fallback.err << Log("capture");
  EXPECT_TRUE(more_notes(20));  // on SQLite again
  stop = true;
  writer.join();
  // Every acknowledged note once on both sides, none that was not.
  const std::string notes = fmt::format("{0}|{0}\n", acked.load());
  EXPECT_TRUE(WaitFor([&] {
    return Rows("SELECT count(*), count(DISTINCT id) FROM \"Note\"") == notes;
  })) << Rows("SELECT count(*), count(DISTINCT id) FROM \"Note\"")
      << notes;
  EXPECT_EQ(std::move((*db)->QueryInt64("SELECT count(*) FROM \"Note\"")).value(), acked.load());
  EXPECT_GE(on_pg.load(), 20);
  std::printf("notes: %d acknowledged, %d of them by PostgreSQL\n", acked.load(), on_pg.load());
  EXPECT_EQ(Rows(fmt::format("SELECT count(*) FROM \"Note\" WHERE id = 'n{}'", acked.load() - 1)),
            "1\n");
  Write("INSERT INTO \"Tag\" VALUES ('t6', 'back')");
  ASSERT_TRUE(WaitFor([&] {
    return Rows("SELECT count(*) FROM \"Tag\" WHERE id = 't6'") == "1\n";
  })) << Log("apply")
      << Log("capture");
  process::Output verify = Run({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // SQLite holds the application's writes under its own names, and nothing else.
  auto rows = [&](const std::string& sql) {
    std::vector<std::string> out;
    auto stmt = (*db)->Prepare(sql);
    if (!stmt.ok()) return std::vector<std::string>{stmt.status().ToString()};
    for (auto row = stmt->Step(); row.ok() && *row; row = stmt->Step())
      out.emplace_back(stmt->ColumnText(0));
    return out;
  };
  EXPECT_EQ(rows("SELECT id || '|' || label FROM \"Tag\" ORDER BY id"),
            (std::vector<std::string>{"t1|vip", "t2|new", "t3|gold", "t5|pg", "t6|back"}));
  EXPECT_EQ(rows("SELECT id || '|' || \"capturedAt\" || '|' || ifnull(score, '-') FROM \"Lead\" "
                 "ORDER BY id"),
            (std::vector<std::string>{"l1|1764979200000|10", "l2|2025-12-06T00:00:00.000Z|99",
                                      "l4|2025-12-08 09:00:00.25|4"}));
  EXPECT_EQ(rows("SELECT id || '|' || leadid || '|' || at FROM visit ORDER BY id"),
            (std::vector<std::string>{"2|l2|2025-12-06T00:05:00Z", "3|l4|2025-12-08 09:01:00"}));
  EXPECT_EQ(Rows("SELECT count(*) FROM sqlift.dead_letter"), "0\n");
}

}  // namespace
}  // namespace sqlift
