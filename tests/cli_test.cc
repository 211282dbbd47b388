// The `sqlift` command line as a user meets it: help, version, errors and exit codes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/process/process.h"

namespace sqlift {
namespace {

process::Output Sqlift(std::vector<std::string> args) {
  args.insert(args.begin(), SQLIFT_BINARY);
  Result<process::Output> r = process::RunCaptured(args);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : process::Output{};
}

TEST(CliTest, HelpListsEverySubcommand) {
  process::Output p = Sqlift({"--help"});
  EXPECT_EQ(p.exit_code, 0);
  for (const char* sub : {"plan", "init", "capture", "apply", "copy", "status", "verify", "cutover",
                          "fallback", "demo", "bench", "log", "pg-sandbox"}) {
    EXPECT_NE(p.out.find(std::string("\n  ") + sub + " "), std::string::npos)
        << "missing " << sub << " in:\n"
        << p.out;
  }
}

TEST(CliTest, EverySubcommandHasHelp) {
  for (const char* sub : {"plan", "init", "capture", "apply", "copy", "status", "verify", "cutover",
                          "fallback", "demo", "bench", "log", "pg-sandbox"}) {
    process::Output p = Sqlift({sub, "--help"});
    EXPECT_EQ(p.exit_code, 0) << sub;
    EXPECT_NE(p.out.find("Usage"), std::string::npos) << sub << ":\n" << p.out;
  }
}

TEST(CliTest, VersionNamesProtocol) {
  process::Output p = Sqlift({"--version"});
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_EQ(p.out.rfind("sqlift ", 0), 0u) << p.out;
  EXPECT_NE(p.out.find("wire protocol 3"), std::string::npos) << p.out;
}

TEST(CliTest, NoSubcommandIsAUsageError) {
  process::Output p = Sqlift({});
  EXPECT_EQ(p.exit_code, 2);
}

TEST(CliTest, UnknownOptionIsAUsageError) {
  process::Output p = Sqlift({"plan", "--no-such-flag"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("no-such-flag"), std::string::npos) << p.err;
}

TEST(CliTest, CutoverWithoutConfigIsAUsageError) {
  process::Output p = Sqlift({"cutover", "--tenant", "acme"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("--config"), std::string::npos) << p.err;
}

TEST(CliTest, JsonLogsAreOneObjectPerLine) {
  process::Output p = Sqlift({"--log-format", "json", "cutover"});
  EXPECT_EQ(p.exit_code, 2);
  ASSERT_FALSE(p.err.empty());
  EXPECT_EQ(p.err.front(), '{') << p.err;
  EXPECT_NE(p.err.find("\"level\":\"error\""), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("\"msg\":\"cutover: "), std::string::npos) << p.err;
}

TEST(CliTest, BadConfigNamesFileLineAndKey) {
  auto path = std::filesystem::temp_directory_path() /
              ("sqlift_cli_test_" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream f(path);
    f << "[source]\nid = \"app\"\n[log]\nlevel = \"loud\"\n";
  }
  process::Output p = Sqlift({"--config", path.string(), "pg-sandbox", "stop", "--dir", "/x"});
  std::filesystem::remove(path);
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find(path.string() + ":4:9: log.level: 'loud' is not one of"), std::string::npos)
      << p.err;
}

TEST(CliTest, MissingConfigFileIsNamed) {
  process::Output p = Sqlift({"status", "--config", "/nonexistent/sqlift.toml"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("/nonexistent/sqlift.toml"), std::string::npos) << p.err;
}

}  // namespace
}  // namespace sqlift
