// Internal to `sqlift demo` (demo_run.cc: setting up, snapshot, stream, verify;
// demo_switch.cc: cutover, fallback, finish): one demo run and what it owns.
//
// Thread safety: one thread (the writers run on their own, inside DemoWriters).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/config/config.h"
#include "common/pg/pg_connection.h"
#include "tools/bench/bench_stream.h"
#include "tools/bench/bench_util.h"
#include "tools/demo/demo_run.h"
#include "tools/demo/demo_writer.h"
#include "tools/sandbox/pg_sandbox.h"

namespace sqlift::demo {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t);

class Demo {
 public:
  explicit Demo(const DemoOptions& o) : o_(o) {}
  DemoReport Run();

 private:
  // Runs one stage, timing it; false when it failed (the later stages are then skipped).
  bool Stage(const std::string& name, const std::function<Status(std::string*)>& body);
  void Skip(const std::string& name, const std::string& why);
  Status StartPg(std::string* note);
  Status MakeApp(std::string* note);
  Status Plan(std::string* note);
  Status Init(std::string* note);
  Status WaitSnapshot(std::string* note);
  Status Stream(std::string* note);
  Status Verify(std::string* note);
  // demo_switch.cc
  Status Cutover(std::string* note, std::optional<double>* pause_ms);
  Status WritesOnPostgres(std::string* note);
  Status Fallback(std::string* note);
  Status Finish(std::string* note);
  Status StopApplier(std::string* note);

  Result<uint64_t> Position(const char* column);
  // Until applied_seq >= the outbox high-water mark (forward replication has caught up).
  Status CatchUp(std::chrono::seconds timeout);
  std::string Path(const std::string& name) const { return (dir_.dir / name).string(); }

  const DemoOptions& o_;
  DemoReport r_;
  ScratchDir dir_;
  Config cfg_;
  std::unique_ptr<PgSandbox> sandbox_;
  std::unique_ptr<PgConnection> conn_;
  std::unique_ptr<DemoWriters> writers_;
  std::optional<process::Child> applier_, agent_;
};

}  // namespace sqlift::demo
