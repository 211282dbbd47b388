#include "common/process/process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sqlift::process {
namespace {

TEST(ProcessTest, TrueExitsZero) {
  Result<Output> r = process::Run({.argv = {"/bin/true"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->signal, 0);
  EXPECT_FALSE(r->timed_out);
}

TEST(ProcessTest, FalseExitsOne) {
  Result<Output> r = process::Run({.argv = {"/bin/false"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 1);
}

TEST(ProcessTest, EchoWithoutShellIsCaptured) {
  // A shell would expand $HOME and split on ';'; argv reaches the program as it is.
  Result<Output> r = RunCaptured({"/bin/echo", "a b; $HOME", "c"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "a b; $HOME c\n");
  EXPECT_EQ(r->err, "");
}

TEST(ProcessTest, BareNameIsFoundOnPath) {
  Result<Output> r = RunCaptured({"echo", "found"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "found\n");
}

TEST(ProcessTest, InputEnvironmentAndWorkingDirectory) {
  Options o{.argv = {"/bin/sh", "-c", "cat; echo \"$SQLIFT_PROCESS_TEST\"; pwd"},
            .env = {"SQLIFT_PROCESS_TEST=extra"},
            .cwd = "/",
            .input = "typed\n",
            .out = Stream::Capture(),
            .err = Stream::Capture()};
  Result<Output> r = process::Run(std::move(o));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "typed\nextra\n/\n");
}

TEST(ProcessTest, StderrCanJoinStdoutInAFile) {
  std::string path = ::testing::TempDir() + "/process_test.log";
  Options o{.argv = {"/bin/sh", "-c", "echo out; echo err >&2"},
            .out = Stream::File(path),
            .err = Stream::SameAsStdout()};
  Result<Output> r = process::Run(std::move(o));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "out\nerr\n");
}

TEST(ProcessTest, DeadlineKillsTheChild) {
  Result<Output> r = process::Run({.argv = {"/bin/sleep", "5"}}, std::chrono::milliseconds(100));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_EQ(r->exit_code, 128 + SIGKILL);
}

TEST(ProcessTest, KillEndsTheChildWithThatSignal) {
  Result<Child> child = Child::Spawn({.argv = {"/bin/sleep", "5"}});
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  child->Kill(SIGKILL);
  Result<Exit> e = child->Wait();
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->signal, SIGKILL);
  EXPECT_FALSE(e->timed_out);
  ASSERT_TRUE(child->Poll().has_value());
  EXPECT_EQ(child->Poll()->signal, SIGKILL);
}

TEST(ProcessTest, CapturedStdoutReadsLineByLine) {
  Result<Child> child =
      Child::Spawn({.argv = {"/bin/sh", "-c", "echo one; echo two"}, .out = Stream::Capture()});
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  std::string line;
  ASSERT_TRUE(child->ReadOutLine(&line));
  EXPECT_EQ(line, "one");
  ASSERT_TRUE(child->ReadOutLine(&line));
  EXPECT_EQ(line, "two");
  EXPECT_FALSE(child->ReadOutLine(&line));
  Result<Exit> e = child->Wait();
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->exit_code, 0);
}

TEST(ProcessTest, PeakRssIsReported) {
  Result<Output> r = process::Run({.argv = {"/bin/true"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->peak_rss_kb, 0);
}

TEST(ProcessTest, MissingProgramFails) {
  Result<Output> r = process::Run({.argv = {"sqlift-no-such-program"}});
  EXPECT_FALSE(r.ok());
  Result<Output> exec = RunCaptured({"/nonexistent/program"});
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  EXPECT_EQ(exec->exit_code, 127);
}

}  // namespace
}  // namespace sqlift::process
