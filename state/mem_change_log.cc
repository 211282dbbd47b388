// The in-memory ChangeLog fake (NewMemChangeLog in state/change_log.h): a std::map per
// concern under one mutex. It applies the same checks as the RocksDB log (append_check.h)
// and never fails a write; FaultInjectionChangeLog adds failures on top.
//
// Thread safety: every method takes mu_; Scan releases it around each call of `fn`, so `fn`
// may call back into the log.
#include <fmt/format.h>

#include <map>
#include <mutex>

#include "state/append_check.h"
#include "state/change_log.h"

namespace sqlift::state {
namespace {

class MemChangeLog final : public ChangeLog {
 public:
  using ChangeLog::Append;
  Status Append(const std::vector<LogRecord>& records, const std::vector<RouteRecord>& routes,
                const std::vector<MetaRecord>& meta) override {
    std::lock_guard lock(mu_);
    Result<uint64_t> next = internal::CheckAppend(LoggedSeqLocked(), records);
    if (!next.ok()) return next.status().With(internal::AppendWhat(records));
    for (const LogRecord& r : records)
      log_[r.seq] = r.value;
    for (const RouteRecord& r : routes)
      routes_[r.tenant] = r.value;
    for (const MetaRecord& m : meta)
      meta_[m.key] = m.value;
    positions_[std::string(kMetaLoggedSeq)] = *next;
    return Status::OK();
  }

  Result<std::vector<RouteRecord>> Routes() override {
    std::lock_guard lock(mu_);
    std::vector<RouteRecord> out;
    for (const auto& [tenant, value] : routes_)
      out.push_back({tenant, value});
    return out;
  }

  Result<uint64_t> GetPosition(std::string_view name) override {
    SQLIFT_RETURN_IF_ERROR(
        internal::CheckPositionName(name).With(fmt::format("read position {}", name)));
    std::lock_guard lock(mu_);
    auto it = positions_.find(name);
    return it == positions_.end() ? 0 : it->second;
  }

  Status SetPosition(std::string_view name, uint64_t value) override {
    Status s = internal::CheckSettablePosition(name);
    if (!s.ok()) return s.With(fmt::format("set position {} to {}", name, value));
    std::lock_guard lock(mu_);
    positions_[std::string(name)] = value;
    return Status::OK();
  }

  Result<std::string> GetMeta(std::string_view key) override {
    SQLIFT_RETURN_IF_ERROR(internal::CheckMetaKey(key).With(fmt::format("read meta {}", key)));
    std::lock_guard lock(mu_);
    auto it = meta_.find(key);
    if (it == meta_.end()) return Status::NotFound(fmt::format("meta key {} is not set", key));
    return it->second;
  }

  Status PutMeta(std::string_view key, std::string_view value) override {
    SQLIFT_RETURN_IF_ERROR(internal::CheckMetaKey(key).With(fmt::format("write meta {}", key)));
    std::lock_guard lock(mu_);
    meta_[std::string(key)] = std::string(value);
    return Status::OK();
  }

  Status Scan(uint64_t first, uint64_t last,
              const std::function<Status(uint64_t seq, std::string_view value)>& fn) override {
    uint64_t seq = first;
    while (seq <= last) {
      std::string value;
      {
        std::lock_guard lock(mu_);
        auto it = log_.lower_bound(seq);
        if (it == log_.end() || it->first > last) return Status::OK();
        seq = it->first;
        value = it->second;
      }
      SQLIFT_RETURN_IF_ERROR(fn(seq, value));
      if (seq == last) break;  // also keeps seq + 1 from wrapping at UINT64_MAX
      ++seq;
    }
    return Status::OK();
  }

  Status TrimBefore(uint64_t seq) override {
    std::lock_guard lock(mu_);
    log_.erase(log_.begin(), log_.lower_bound(seq));
    return Status::OK();
  }

  Result<LogStats> Stats() override {
    std::lock_guard lock(mu_);
    LogStats stats;
    if (log_.empty()) return stats;
    stats.first_seq = log_.begin()->first;
    stats.last_seq = log_.rbegin()->first;
    stats.count = log_.size();
    for (const auto& [seq, value] : log_)
      stats.bytes += value.size();
    return stats;
  }

 private:
  uint64_t LoggedSeqLocked() const {
    auto it = positions_.find(kMetaLoggedSeq);
    return it == positions_.end() ? 0 : it->second;
  }

  std::mutex mu_;
  std::map<uint64_t, std::string> log_;                     // guarded by mu_
  std::map<std::string, uint64_t, std::less<>> positions_;  // guarded by mu_
  std::map<std::string, std::string, std::less<>> meta_;    // guarded by mu_
  std::map<std::string, std::string> routes_;               // guarded by mu_
};

}  // namespace

std::unique_ptr<ChangeLog> NewMemChangeLog() {
  return std::make_unique<MemChangeLog>();
}

}  // namespace sqlift::state
