#include "state/fault_injection_change_log.h"

#include "state/append_check.h"

namespace sqlift::state {

void FaultInjectionChangeLog::FailWritesAfter(uint64_t n) {
  std::lock_guard lock(mu_);
  writes_before_failure_ = n;
}

void FaultInjectionChangeLog::FailNextSync() {
  std::lock_guard lock(mu_);
  fail_next_sync_ = true;
}

void FaultInjectionChangeLog::Heal() {
  std::lock_guard lock(mu_);
  writes_before_failure_.reset();
  fail_next_sync_ = false;
  injected_ = Status::OK();
}

FaultInjectionChangeLog::Counts FaultInjectionChangeLog::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

Status FaultInjectionChangeLog::Write(const std::string& what, const std::function<Status()>& op) {
  std::lock_guard lock(mu_);
  ++counts_.writes;
  Status result;
  if (!injected_.ok()) {
    result = internal::RefusingWrites(injected_).With(what);
  } else if (writes_before_failure_ && *writes_before_failure_ == 0) {
    injected_ = Status::IOError("injected write failure (FailWritesAfter)");
    result = injected_.With(what);
  } else {
    if (writes_before_failure_) --*writes_before_failure_;
    result = op();
    if (result.ok() && fail_next_sync_) {
      fail_next_sync_ = false;
      injected_ = Status::IOError("injected sync failure (FailNextSync); the write was applied");
      result = injected_.With(what);
    }
  }
  if (!result.ok()) ++counts_.failed_writes;
  return result;
}

void FaultInjectionChangeLog::CountRead() {
  std::lock_guard lock(mu_);
  ++counts_.reads;
}

Result<std::vector<RouteRecord>> FaultInjectionChangeLog::Routes() {
  CountRead();
  return base_->Routes();
}

Status FaultInjectionChangeLog::Append(const std::vector<LogRecord>& records,
                                       const std::vector<RouteRecord>& routes,
                                       const std::vector<MetaRecord>& meta) {
  Status s =
      Write(internal::AppendWhat(records), [&] { return base_->Append(records, routes, meta); });
  if (s.ok()) {
    std::lock_guard lock(mu_);
    ++counts_.appends;
    counts_.records_appended += records.size();
  }
  return s;
}

Result<uint64_t> FaultInjectionChangeLog::GetPosition(std::string_view name) {
  CountRead();
  return base_->GetPosition(name);
}

Status FaultInjectionChangeLog::SetPosition(std::string_view name, uint64_t value) {
  return Write(fmt::format("set position {} to {}", name, value),
               [&] { return base_->SetPosition(name, value); });
}

Result<std::string> FaultInjectionChangeLog::GetMeta(std::string_view key) {
  CountRead();
  return base_->GetMeta(key);
}

Status FaultInjectionChangeLog::PutMeta(std::string_view key, std::string_view value) {
  return Write(fmt::format("write meta {}", key), [&] { return base_->PutMeta(key, value); });
}

Status FaultInjectionChangeLog::Scan(
    uint64_t first, uint64_t last,
    const std::function<Status(uint64_t seq, std::string_view value)>& fn) {
  CountRead();
  return base_->Scan(first, last, fn);
}

Status FaultInjectionChangeLog::TrimBefore(uint64_t seq) {
  return Write(fmt::format("trim log before seq {}", seq), [&] { return base_->TrimBefore(seq); });
}

Result<LogStats> FaultInjectionChangeLog::Stats() {
  CountRead();
  return base_->Stats();
}

}  // namespace sqlift::state
