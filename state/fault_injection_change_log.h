// FaultInjectionChangeLog: a ChangeLog that forwards every call to another one and fails
// writes on command, in the manner of LevelDB's FaultInjectionTestEnv. Tests put it between
// the agent and a real or in-memory log to check that nothing is acknowledged past a failure.
//
// Writes are Append, SetPosition, PutMeta and TrimBefore. Once a write fails by injection,
// every later write fails too (IOError, "refusing writes until reopened"), as the real log
// does, until Heal() stands in for reopening. Errors from the base log pass through as they
// are. Reads (GetPosition, GetMeta, Scan, Stats) always pass through.
//
// Thread safety: all methods may be called concurrently. Writes are serialized by the wrapper,
// so "the n-th write" is well defined; reads take no lock while in the base log.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "state/change_log.h"

namespace sqlift::state {

class FaultInjectionChangeLog final : public ChangeLog {
 public:
  // Calls made through the wrapper, for assertions.
  struct Counts {
    uint64_t writes = 0;            // write calls, failed or not
    uint64_t failed_writes = 0;     // write calls that returned an error (injected or not)
    uint64_t appends = 0;           // Append calls that returned OK
    uint64_t records_appended = 0;  // records in those calls
    uint64_t reads = 0;             // read calls
  };

  // Wraps *base, which must outlive this object.
  explicit FaultInjectionChangeLog(ChangeLog* base) : base_(base) {}
  // Wraps base and owns it.
  explicit FaultInjectionChangeLog(std::unique_ptr<ChangeLog> base)
      : owned_(std::move(base)), base_(owned_.get()) {}

  // The next `n` writes pass through; the one after fails with IOError without reaching the
  // base log (the data is not written), and every later write fails until Heal().
  void FailWritesAfter(uint64_t n);
  // The next write that the base log accepts is applied and then reported as IOError, like a
  // failed fsync whose data reached the disk anyway: the caller was told "not durable" about
  // data that is there. Every later write fails until Heal().
  void FailNextSync();
  // Clears the injected failures and the refusal they caused, as reopening the log would.
  void Heal();

  Counts counts() const;

  using ChangeLog::Append;
  Status Append(const std::vector<LogRecord>& records, const std::vector<RouteRecord>& routes,
                const std::vector<MetaRecord>& meta) override;
  Result<std::vector<RouteRecord>> Routes() override;
  Result<uint64_t> GetPosition(std::string_view name) override;
  Status SetPosition(std::string_view name, uint64_t value) override;
  Result<std::string> GetMeta(std::string_view key) override;
  Status PutMeta(std::string_view key, std::string_view value) override;
  Status Scan(uint64_t first, uint64_t last,
              const std::function<Status(uint64_t seq, std::string_view value)>& fn) override;
  Status TrimBefore(uint64_t seq) override;
  Result<LogStats> Stats() override;

 private:
  // Runs one write through the injection rules. `what` names it for error messages.
  Status Write(const std::string& what, const std::function<Status()>& op);
  void CountRead();

  std::unique_ptr<ChangeLog> owned_;  // null when the base is not owned
  ChangeLog* const base_;

  mutable std::mutex mu_;                          // held for the whole of each write
  std::optional<uint64_t> writes_before_failure_;  // guarded by mu_; set by FailWritesAfter
  bool fail_next_sync_ = false;                    // guarded by mu_
  Status injected_;  // guarded by mu_; the injected failure, sticky until Heal()
  Counts counts_;    // guarded by mu_
};

}  // namespace sqlift::state
