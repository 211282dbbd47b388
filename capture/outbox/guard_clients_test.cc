// The guard triggers seen by clients that know nothing of sqlift, each in a process of its own:
// the `sqlite3` shell and Python's sqlite3 module (no extension loaded). A tenant on postgres
// is refused with the exact message and its rows stay as they were; another tenant writes; a
// fenced tenant gets the retryable message; the whole-database route refuses every captured
// table.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "capture/outbox/testing/guard_fixture.h"

namespace sqlift {
namespace {

constexpr const char* kShell = "/usr/bin/sqlite3";
constexpr const char* kPython = "/usr/bin/python3";

// Runs each statement of a script file in autocommit mode and stops at the first error, which it
// prints as "ERROR: <message>".
constexpr const char* kPythonClient =
    "import sqlite3, sys\n"
    "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "try:\n"
    "    db.executescript(open(sys.argv[2]).read())\n"
    "except sqlite3.Error as e:\n"
    "    print('ERROR: ' + str(e)); sys.exit(1)\n";

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

class GuardClientsTest : public testing::GuardFixture,
                         public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(GetParam())) GTEST_SKIP() << GetParam() << " is not installed";
    GuardFixture::SetUp();
  }

  Outcome Run(const std::string& sql) {
    std::string script = (dir_ / "script.sql").string();
    std::ofstream(script) << sql << "\n";
    std::string command;
    if (std::string(GetParam()) == kShell) {
      command = fmt::format("{} -bail '{}' < '{}' 2>&1", kShell, path_, script);
    } else {
      std::string client = (dir_ / "client.py").string();
      std::ofstream(client) << kPythonClient;
      command = fmt::format("{} '{}' '{}' '{}' 2>&1", kPython, client, path_, script);
    }
    Outcome out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return out;
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
      out.output.append(buf, n);
    int status = ::pclose(pipe);
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
  }

  // `sql` fails with `message`, and the tables are as they were.
  void ExpectRefused(const std::string& sql, const std::string& message) {
    std::string before = Tables();
    Outcome out = Run(sql);
    EXPECT_NE(out.exit_code, 0) << sql;
    if (std::string(GetParam()) == kPython) {
      EXPECT_EQ(out.output, "ERROR: " + message + "\n") << sql;
    } else {
      EXPECT_NE(out.output.find(": " + message + " (19)"), std::string::npos)
          << sql << ": " << out.output;
    }
    EXPECT_EQ(Tables(), before) << sql;
  }
  void ExpectWritten(const std::string& sql) {
    Outcome out = Run(sql);
    EXPECT_EQ(out.exit_code, 0) << sql << ": " << out.output;
    EXPECT_EQ(out.output, "") << sql;
  }
};

TEST_P(GuardClientsTest, TenantOnPostgresIsRefusedAnotherWrites) {
  SetRoute("acme", "postgres", 3);
  const std::string msg = "sqlift: tenant \"acme\" is on postgres (epoch 3)";
  ExpectRefused("INSERT INTO orders VALUES ('acme', 2, 'x');", msg);
  ExpectRefused("UPDATE orders SET v = 'y' WHERE tenant_id = 'acme';", msg);
  ExpectRefused("DELETE FROM orders WHERE tenant_id = 'acme';", msg);
  ExpectRefused(
      "BEGIN; INSERT INTO orders VALUES ('globex', 5, 'x'); "
      "UPDATE orders SET tenant_id = 'acme' WHERE id = 5; COMMIT;",
      msg);
  ExpectWritten(
      "INSERT INTO orders VALUES ('globex', 2, 'x');"
      "UPDATE orders SET v = 'h' WHERE tenant_id = 'globex';"
      "DELETE FROM orders WHERE tenant_id = 'globex' AND id = 1;");
  EXPECT_EQ(Rows("SELECT * FROM orders ORDER BY tenant_id, id"), "acme|1|a\nglobex|2|h\n");
}

TEST_P(GuardClientsTest, FencedTenantGetsTheRetryableMessage) {
  SetRoute("acme", "sqlite", 3, /*fenced=*/true);
  const std::string msg = "sqlift: tenant \"acme\" is being switched (epoch 3); retry shortly";
  ExpectRefused("INSERT INTO orders VALUES ('acme', 2, 'x');", msg);
  ExpectRefused("UPDATE orders SET v = 'y' WHERE tenant_id = 'acme';", msg);
  ExpectRefused("DELETE FROM orders WHERE tenant_id = 'acme';", msg);
  ExpectWritten("INSERT INTO orders VALUES ('globex', 2, 'x');");
}

TEST_P(GuardClientsTest, WholeDatabaseOnPostgresRefusesEveryCapturedTable) {
  SetRoute("*", "postgres", 3);
  const std::string msg = "sqlift: the whole database is on postgres (epoch 3)";
  ExpectRefused("INSERT INTO countries VALUES ('de', 'Germany');", msg);
  ExpectRefused("UPDATE countries SET name = 'x';", msg);
  ExpectRefused("DELETE FROM countries;", msg);
  ExpectRefused("INSERT INTO orders VALUES ('globex', 2, 'x');", msg);
  ExpectRefused("DELETE FROM orders;", msg);
  // sqlift's own tables are not guarded; a table nobody captures neither.
  ExpectWritten(
      "INSERT INTO _sqlift_state (key, value) VALUES ('k', 1);"
      "CREATE TABLE scratch (a); INSERT INTO scratch VALUES (1);");
}

TEST_P(GuardClientsTest, RouteBackOnSqliteWritesAgain) {
  SetRoute("acme", "postgres", 3);
  ExpectRefused("INSERT INTO orders VALUES ('acme', 2, 'x');",
                "sqlift: tenant \"acme\" is on postgres (epoch 3)");
  SetRoute("acme", "sqlite", 4);
  ExpectWritten("INSERT INTO orders VALUES ('acme', 2, 'x');");
  ASSERT_TRUE(RemoveGuards(*db_).ok());
  SetRoute("acme", "postgres", 5);  // without guards, nothing refuses
  ExpectWritten("INSERT INTO orders VALUES ('acme', 3, 'x');");
}

INSTANTIATE_TEST_SUITE_P(Clients, GuardClientsTest, ::testing::Values(kShell, kPython),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param) == kShell ? "Sqlite3Shell" : "Python";
                         });

}  // namespace
}  // namespace sqlift
