// The incremental check's inputs (see verify_fast.h).
#include "tools/verify/verify_fast.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <limits>
#include <set>

#include "common/json/json.h"
#include "state/change_log.h"

namespace sqlift {
namespace {

// The counts a run proved: its report's matched tables, unless a table says its counts were
// not proven (a switch's check that started from a run without counts).
std::map<std::string, int64_t> ProvenCounts(const std::string& tables_json) {
  std::map<std::string, int64_t> out;
  Result<Json> doc = ParseJson(tables_json);
  if (!doc.ok() || !doc->is_array()) return out;
  for (const Json& t : *doc) {
    if (!t.is_object() || t.value("status", "") != "Matched" || !t.value("counted", true) ||
        !t.contains("table") || !t["table"].is_string() || !t.contains("sqlite_rows") ||
        !t["sqlite_rows"].is_number_integer())
      continue;
    out[t["table"].get<std::string>()] = t["sqlite_rows"].get<int64_t>();
  }
  return out;
}

// A value as the tenant filter compares it: text, or an integer's digits.
std::optional<std::string> TenantOf(const wire::Value& v) {
  if (v.kind_case() == wire::Value::kText) return v.text();
  if (v.kind_case() == wire::Value::kInteger) return std::to_string(v.integer());
  return std::nullopt;
}

int ColumnIndex(const wire::TableShape& shape, const std::string& column) {
  for (int i = 0; !column.empty() && i < shape.columns_size(); ++i) {
    if (strcasecmp(shape.columns(i).c_str(), column.c_str()) == 0) return i;
  }
  return -1;
}

// Collects each changed key once, with its fate, while the log is scanned.
class KeyCollector {
 public:
  KeyCollector(ChangedKeys* out, std::string tenant_column, size_t max_keys)
      : out_(out), tenant_column_(std::move(tenant_column)), max_keys_(max_keys) {
    for (const auto& [table, keys] : out_->keys) {  // resuming a scan made without the index
      std::map<std::string, size_t>& index = out_->index[table];
      if (index.size() == keys.size()) continue;
      index.clear();
      for (size_t i = 0; i < keys.size(); ++i)
        index[keys[i].SerializeAsString()] = i;
    }
  }

  Status Add(const wire::TableShape& shape, const wire::RowChange& c) {
    wire::Row key;
    for (const wire::Value& part : c.pk())
      *key.add_values() = part;
    auto [it, fresh] = out_->index[shape.name()].try_emplace(key.SerializeAsString(), 0);
    std::vector<KeyFate>& fates = out_->fates[shape.name()];
    if (fresh) {
      it->second = fates.size();
      out_->keys[shape.name()].push_back(std::move(key));
      fates.push_back(KeyFate{c.op() != wire::RowChange::INSERT, false, std::nullopt});
      if (++out_->count > max_keys_) return Status::Aborted("too many changed keys");
    }
    // Changed again after a settle: its row has to be read again.
    std::vector<bool>& settled = out_->settled[shape.name()];
    if (it->second < settled.size()) settled[it->second] = false;
    KeyFate& fate = fates[it->second];
    fate.exists_after = c.op() != wire::RowChange::DELETE;
    const auto& whole = c.op() == wire::RowChange::INSERT ? c.new_values() : c.old_values();
    const int col = ColumnIndex(shape, tenant_column_);
    if (!fate.tenant && c.op() != wire::RowChange::UPDATE && col >= 0 && col < whole.size()) {
      fate.tenant = TenantOf(whole[col]);
    }
    return Status::OK();
  }

 private:
  ChangedKeys* out_;
  std::string tenant_column_;
  size_t max_keys_;
};

Status ScanRecord(uint64_t seq, std::string_view v, const KeyScan& scan, KeyCollector& keys) {
  wire::ChangeBatch batch;
  if (!batch.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
    return Status::Corruption(fmt::format("log record of seq {} does not parse", seq));
  }
  for (const wire::Transaction& txn : batch.transactions()) {
    if (txn.kind() == wire::Transaction::DDL) return Status::Aborted("a schema change");
    if (txn.kind() == wire::Transaction::ROUTE && txn.route().side() == wire::Route::POSTGRES &&
        !scan.reverse_logged &&
        (txn.route().tenant() == scan.tenant || txn.route().tenant() == "*")) {
      return Status::Aborted("it was routed to postgres since");
    }
    for (const wire::RowChange& c : txn.changes()) {
      SQLIFT_RETURN_IF_ERROR(keys.Add(batch.tables(static_cast<int>(c.table_index())), c));
    }
  }
  return Status::OK();
}

}  // namespace

std::vector<wire::Row> KeysToRead(const ChangedKeys& changed, const std::string& table) {
  auto keys = changed.keys.find(table);
  if (keys == changed.keys.end()) return {};
  auto settled = changed.settled.find(table);
  if (settled == changed.settled.end()) return keys->second;
  std::vector<wire::Row> out;
  for (size_t i = 0; i < keys->second.size(); ++i) {
    if (i >= settled->second.size() || !settled->second[i]) out.push_back(keys->second[i]);
  }
  return out;
}

size_t UnsettledCount(const ChangedKeys& changed) {
  size_t n = changed.count;
  for (const auto& [table, settled] : changed.settled)
    n -= static_cast<size_t>(std::count(settled.begin(), settled.end(), true));
  return n;
}

Result<std::optional<VerifiedAt>> LastProof(PgConnection& pg, const std::string& source,
                                            const std::string& tenant,
                                            const std::vector<std::string>& skipped) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult exists,
      pg.Query("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('sqlift.verify_runs') "
               "AND attname = 'still'",
               {}));
  if (exists.rows() == 0) return std::optional<VerifiedAt>();  // no run recorded (as such) yet
  SQLIFT_ASSIGN_OR_RETURN(std::string skip, DumpJsonExact(Json(skipped)));
  // A run over more tenants than asked counted their rows too: its counts apply only to the
  // same scope (exact_scope).
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      pg.Query("SELECT id, position, report->'tables', coalesce(tenant, '*') = $2 AND "
               "coalesce(skipped, '[]') <@ $3::jsonb AND $3::jsonb <@ coalesce(skipped, '[]') "
               "FROM sqlift.verify_runs WHERE source = $1 "
               "AND matched AND all_tables AND (held OR still) AND position IS NOT NULL AND ("
               "tenant = $2 OR ((tenant IS NULL OR tenant = '*') AND "
               "(CASE WHEN $2 = '*' THEN coalesce(skipped, '[]') <@ $3::jsonb "
               "ELSE NOT coalesce(skipped, '[]') ? $2 END))) ORDER BY id DESC LIMIT 1",
               {source, tenant, skip}));
  if (r.rows() == 0) return std::optional<VerifiedAt>();
  VerifiedAt at;
  SQLIFT_ASSIGN_OR_RETURN(at.run_id, r.GetInt64(0, 0));
  SQLIFT_ASSIGN_OR_RETURN(at.position, r.GetUint64(0, 1));
  SQLIFT_ASSIGN_OR_RETURN(bool exact_scope, r.GetBool(0, 3));
  if (exact_scope) at.counts = ProvenCounts(r.value(0, 2).value_or("[]"));
  return std::optional<VerifiedAt>(std::move(at));
}

namespace {

// Reads (out->to_seq or since, scan.to_seq] into *out, which holds an earlier scan from the same
// proof when `resumed`; false (with *why) when the incremental check does not apply. On an
// error *out may hold part of the records.
Result<bool> ScanInto(state::ChangeLog& log, const VerifiedAt& since, const KeyScan& scan,
                      std::string* why, bool resumed, ChangedKeys* out) {
  SQLIFT_ASSIGN_OR_RETURN(state::LogStats stats, log.Stats());
  const uint64_t from = resumed ? out->to_seq : since.position;
  constexpr uint64_t kToTheEnd = std::numeric_limits<uint64_t>::max();
  if (scan.to_seq != kToTheEnd && scan.to_seq > from && stats.last_seq < scan.to_seq) {
    return Status::Unavailable(fmt::format("the log read holds seqs up to {}, not yet seq {}",
                                           stats.last_seq, scan.to_seq));
  }
  const uint64_t end = std::min(scan.to_seq, std::max(stats.last_seq, from));
  if (from < end && (stats.count == 0 || stats.first_seq > from + 1)) {
    *why = fmt::format("the log no longer holds seq {} (retention)", from + 1);
    return false;
  }
  out->since_run = since.run_id;
  out->since_seq = since.position;
  out->counts_at_since = since.counts;
  out->to_seq = std::max(from, end);
  KeyCollector keys(out, scan.tenant_column, scan.max_keys);
  Status st = log.Scan(from + 1, out->to_seq, [&](uint64_t seq, std::string_view v) {
    return ScanRecord(seq, v, scan, keys);
  });
  if (st.code() == Status::Code::kAborted) {
    *why =
        st.message() + fmt::format(" after verify run {} at seq {}", since.run_id, since.position);
    return false;
  }
  SQLIFT_RETURN_IF_ERROR(st.With("read the log for the incremental check"));
  return true;
}

}  // namespace

Result<std::optional<ChangedKeys>> ChangedKeysInLog(state::ChangeLog& log, const VerifiedAt& since,
                                                    const KeyScan& scan, std::string* why,
                                                    const ChangedKeys* prior) {
  ChangedKeys out;
  if (prior) out = *prior;
  SQLIFT_ASSIGN_OR_RETURN(bool sound, ScanInto(log, since, scan, why, prior != nullptr, &out));
  if (!sound) return std::optional<ChangedKeys>();
  return std::optional<ChangedKeys>(std::move(out));
}

Status ExtendChangedKeys(state::ChangeLog& log, const VerifiedAt& since, const KeyScan& scan,
                         std::string* why, std::optional<ChangedKeys>* keys) {
  Result<bool> sound = ScanInto(log, since, scan, why, true, &**keys);
  if (sound.ok() && *sound) return Status::OK();
  keys->reset();  // unsound, or part of the records read
  return sound.status();
}

}  // namespace sqlift
