#include "capture/shadow_sampler/shadow_sampler.h"

#include <fmt/format.h>
#include <strings.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <new>
#include <set>

#include "capture/shadow_sampler/sql_lexer.h"
#include "common/base/clock.h"

namespace sqlift {
namespace {

// Connections that have a sampler: one each.
std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::set<sqlite3*>& Registry() {
  static auto* set = new std::set<sqlite3*>;
  return *set;
}

// The session extension reads a changeset between these two statements (sqlite3session.c,
// sessionGenerateChangeset); its SELECTs there are the recorder's, not the application's.
constexpr char kChangesetBegin[] = "SAVEPOINT changeset";
constexpr char kChangesetEnd[] = "RELEASE changeset";

bool ContainsNoCase(std::string_view text, std::string_view part) {
  if (text.size() < part.size()) return false;
  for (size_t i = 0; i + part.size() <= text.size(); ++i) {
    if (strncasecmp(text.data() + i, part.data(), part.size()) == 0) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<ShadowSampler>> ShadowSampler::Attach(sqlite3* db, ShadowOptions options) {
  const std::string what = fmt::format("attach the shadow sampler (log {})", options.log_path);
  if (db == nullptr) return Status::InvalidArgument(what + ": no connection");
  if (!(options.rate >= 0 && options.rate <= 1)) {
    return Status::InvalidArgument(fmt::format("{}: rate {} is not in 0..1", what, options.rate));
  }
  if (options.log_path.empty()) return Status::InvalidArgument(what + ": no log path");
  if (options.max_log_bytes == 0) return Status::InvalidArgument(what + ": max_log_bytes is 0");
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    if (!Registry().insert(db).second) {
      return Status::FailedPrecondition(what + ": the connection already has a shadow sampler");
    }
  }
  Result<std::unique_ptr<ShadowLogWriter>> log =
      ShadowLogWriter::Open(options.log_path, options.max_log_bytes);
  if (!log.ok()) {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    Registry().erase(db);
    return log.status().With(what);
  }
  std::unique_ptr<ShadowSampler> s(
      new ShadowSampler(db, std::move(options), std::move(log).value()));
  int rc = sqlite3_trace_v2(db, SQLITE_TRACE_STMT, &ShadowSampler::OnTrace, s.get());
  if (rc != SQLITE_OK) {
    s->closing_ = true;  // nothing installed to remove
    return Status::Internal(fmt::format("{}: sqlite3_trace_v2: {}", what, sqlite3_errstr(rc)));
  }
  return s;
}

ShadowSampler::ShadowSampler(sqlite3* db, ShadowOptions options,
                             std::unique_ptr<ShadowLogWriter> log)
    : db_(db), options_(std::move(options)), log_(std::move(log)), prng_(options_.seed) {}

ShadowSampler::~ShadowSampler() {
  if (!closing_) sqlite3_trace_v2(db_, 0, nullptr, nullptr);
  (void)log_->Flush();
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry().erase(db_);
}

Status ShadowSampler::Flush() {
  return log_->Flush();
}

ShadowStats ShadowSampler::stats() const {
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return {get(candidates_), get(sampled_), get(skipped_), get(written_), get(dropped_)};
}

int ShadowSampler::OnTrace(unsigned type, void* self, void* stmt, void* sql) noexcept {
  if (type == SQLITE_TRACE_STMT) {
    static_cast<ShadowSampler*>(self)->Consider(static_cast<sqlite3_stmt*>(stmt),
                                                static_cast<const char*>(sql));
  }
  return 0;
}

// splitmix64: one multiply-xorshift step per draw, any seed (0 included) is fine.
bool ShadowSampler::Draw() noexcept {
  if (options_.rate >= 1) return true;
  if (options_.rate <= 0) return false;
  uint64_t z = (prng_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1p-53 < options_.rate;
}

// sqlift's own objects, or a schema other than main.
bool ShadowSampler::Excluded(const char* sql) const noexcept {
  SqlLexer lex(sql);
  SqlToken t, prev;
  while (lex.NextSignificant(&t)) {
    const bool name = t.kind == SqlToken::Kind::kWord || t.kind == SqlToken::Kind::kQuoted;
    if (name && ContainsNoCase(t.text, "sqlift_")) return true;
    if (t.IsChar('.') &&
        (prev.kind == SqlToken::Kind::kWord || prev.kind == SqlToken::Kind::kQuoted)) {
      std::string schema = prev.Identifier();
      if (strcasecmp(schema.c_str(), "temporary") == 0) return true;
      for (int i = 1; const char* db = sqlite3_db_name(db_, i); ++i) {
        if (strcasecmp(schema.c_str(), db) == 0) return true;  // temp, or an attached database
      }
    }
    prev = t;
  }
  return false;
}

void ShadowSampler::Consider(sqlite3_stmt* stmt, const char* sql) noexcept {
  // A trigger's sub-program reports "-- TRIGGER name", not the statement's own text.
  if (sql == nullptr || stmt == nullptr || sql != sqlite3_sql(stmt)) return;
  if (sql[0] == 'S' && std::strcmp(sql, kChangesetBegin) == 0) {
    in_changeset_ = true;
    return;
  }
  if (sql[0] == 'R' && std::strcmp(sql, kChangesetEnd) == 0) {
    in_changeset_ = false;
    return;
  }
  if (in_changeset_ || !sqlite3_stmt_readonly(stmt) || !StartsAsQuery(sql)) return;
  candidates_.fetch_add(1, std::memory_order_relaxed);
  if (!Draw()) return;
  sampled_.fetch_add(1, std::memory_order_relaxed);
  try {
    if (Excluded(sql)) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (log_closed_) {  // full, or a write failed: no text to build
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // NULL: out of memory, or the text is over SQLite's length limit.
    std::unique_ptr<char, decltype(&sqlite3_free)> expanded(sqlite3_expanded_sql(stmt),
                                                            &sqlite3_free);
    if (expanded == nullptr) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    ShadowLogWriter::Append added = log_->Add(ShadowEntry{NowMicros(), expanded.get()});
    if (added == ShadowLogWriter::Append::kAppended) {
      written_.fetch_add(1, std::memory_order_relaxed);
    } else {
      log_closed_ = true;
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
  } catch (const std::bad_alloc&) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace sqlift
