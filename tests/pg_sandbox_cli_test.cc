// `sqlift pg-sandbox start|stop` as a script uses it: start prints a URI that works, the
// server outlives the command, and stop removes everything.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/pg/pg_connection.h"
#include "common/process/process.h"

namespace sqlift {
namespace {

TEST(PgSandboxCliTest, StartPrintsUsableUriAndStopRemovesDir) {
  auto dir =
      std::filesystem::temp_directory_path() / ("sqlift_sandbox_cli_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);

  Result<process::Output> start =
      process::RunCaptured({SQLIFT_BINARY, "pg-sandbox", "start", "--dir", dir.string()});
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  ASSERT_EQ(start->exit_code, 0) << start->err;
  std::string uri = start->out.substr(0, start->out.find('\n'));
  ASSERT_EQ(uri.rfind("postgresql://", 0), 0u) << start->out;

  {
    auto conn = PgConnection::Connect(uri, std::chrono::seconds(10));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    ASSERT_TRUE((*conn)->Exec("CREATE TABLE t (id int PRIMARY KEY, v text)").ok());
    auto ins = (*conn)->Query("INSERT INTO t VALUES ($1, $2)", {"7", "seven"});
    ASSERT_TRUE(ins.ok()) << ins.status().ToString();
    auto sel = (*conn)->Query("SELECT v FROM t WHERE id = $1", {"7"});
    ASSERT_TRUE(sel.ok()) << sel.status().ToString();
    ASSERT_EQ(sel->rows(), 1);
    EXPECT_EQ(sel->get(0, 0), "seven");
  }

  Result<process::Output> stop =
      process::RunCaptured({SQLIFT_BINARY, "pg-sandbox", "stop", "--dir", dir.string()});
  ASSERT_TRUE(stop.ok());
  EXPECT_EQ(stop->exit_code, 0) << stop->err;
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(PgConnection::Connect(uri, std::chrono::seconds(2)).ok());
}

TEST(PgSandboxCliTest, StopOfUnknownDirFails) {
  Result<process::Output> stop =
      process::RunCaptured({SQLIFT_BINARY, "pg-sandbox", "stop", "--dir", "/nonexistent/sandbox"});
  ASSERT_TRUE(stop.ok());
  EXPECT_EQ(stop->exit_code, 1);
  EXPECT_NE(stop->err.find("/nonexistent/sandbox"), std::string::npos) << stop->err;
}

}  // namespace
}  // namespace sqlift
