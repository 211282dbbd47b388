// SettleChangedKeys (see verify_run.h): the fallback's settle before its fence.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tools/verify/verify_engine.h"
#include "tools/verify/verify_normalize.h"
#include "tools/verify/verify_run.h"
#include "tools/verify/verify_run_internal.h"

namespace sqlift {
namespace {

using verify_internal::Run;
using verify_internal::TableRows;

// The engine's key of a row: its key columns' canonical values, encoded.
std::string KeyOf(const CanonicalRow& row, const std::vector<size_t>& key_columns) {
  std::string out;
  for (size_t c : key_columns) {
    if (c < row.size()) EncodeCanonical(row[c], &out);
  }
  return out;
}

std::string RowOf(const CanonicalRow& row) {
  std::string out;
  for (const CanonicalValue& v : row)
    EncodeCanonical(v, &out);
  return out;
}

// One side's rows of a batch: key → the whole row encoded; a key seen twice maps to "" (a row
// encodes to at least its values' kind bytes, so "" equals no row) and so never settles.
using Rows = std::map<std::string, std::string>;

Status Collect(VerifyTableReader& reader, const std::vector<size_t>& key_columns, Rows* out) {
  return reader.Scan([&](const CanonicalRow& row) {
    auto [it, fresh] = out->try_emplace(KeyOf(row, key_columns), RowOf(row));
    if (!fresh) it->second.clear();
    return Status::OK();
  });
}

// Which of `keys` (of table i) are equal on both sides, as the engine compares rows (the same
// canonical values and encoding): the same row on both, or in the scope on neither. A batch
// whose rows do not all map back to one of its keys settles nothing (a key the reads spell
// differently than the log is left to the fence).
Result<std::vector<bool>> EqualKeys(Run& run, size_t i, const TableRows& scope,
                                    const std::vector<wire::Row>& keys) {
  const TableSchema& t = run.tables[i];
  const TablePlan& plan = run.plan.tables[i];
  const std::vector<size_t> key_columns = verify_internal::KeyColumns(t);
  RowFilter filter = scope.pg_filter;
  SQLIFT_RETURN_IF_ERROR(verify_internal::KeyFilter(t, plan, keys, &filter));
  Rows sqlite_rows, pg_rows;
  WireTableReader sqlite(scope.types, [&](const WireTableReader::WireSink& sink) {
    return run.reader->ReadKeys(
        t, keys, [&](const wire::Row& r) { return scope.Keep(r) ? sink(r) : Status::OK(); });
  });
  SQLIFT_RETURN_IF_ERROR(Collect(sqlite, key_columns, &sqlite_rows).With("read SQLite rows"));
  PgTableReader pg(*run.conn, run.s.schema, plan, filter);
  SQLIFT_RETURN_IF_ERROR(Collect(pg, key_columns, &pg_rows).With("read PostgreSQL rows"));

  std::vector<bool> equal(keys.size(), false);
  std::map<std::string, size_t> asked;  // each key as the engine spells it → its place
  for (size_t k = 0; k < keys.size(); ++k) {
    std::string key;
    for (size_t j = 0; j < key_columns.size(); ++j) {
      if (static_cast<int>(j) >= keys[k].values_size() || key_columns[j] >= scope.types.size()) {
        return equal;  // not a key of this table's shape: nothing settles
      }
      EncodeCanonical(
          CanonicalFromSqlite(keys[k].values(static_cast<int>(j)), scope.types[key_columns[j]]),
          &key);
    }
    asked.emplace(std::move(key), k);
  }
  for (const Rows* side : {&sqlite_rows, &pg_rows}) {
    for (const auto& [key, row] : *side) {
      if (!asked.count(key)) return equal;
    }
  }
  for (const auto& [key, k] : asked) {
    auto s = sqlite_rows.find(key);
    auto p = pg_rows.find(key);
    const bool neither = s == sqlite_rows.end() && p == pg_rows.end();
    const bool same = s != sqlite_rows.end() && p != pg_rows.end() && !s->second.empty() &&
                      s->second == p->second;
    equal[k] = neither || same;
  }
  return equal;
}

}  // namespace

Result<SettleCounts> SettleChangedKeys(const VerifySpec& spec, ChangedKeys* changed, size_t batch) {
  VerifySpec at = spec;
  at.hold_source.clear();
  at.still_at = changed->to_seq;  // the SQLite snapshot as it is now, opened before PostgreSQL's
  at.changed = changed;
  Run run{at, {}, {}, {}, {}, {}, {}, {}, changed, {}, {}};
  int exit = 0;
  SQLIFT_RETURN_IF_ERROR(verify_internal::Prepare(run, &exit));
  SettleCounts out;
  batch = std::max<size_t>(batch, 1);
  for (size_t i = 0; i < run.tables.size(); ++i) {
    auto keys = changed->keys.find(run.tables[i].name);
    if (keys == changed->keys.end()) continue;
    std::vector<bool>& done = changed->settled[keys->first];
    done.resize(keys->second.size(), false);
    std::vector<size_t> left;  // the keys not settled yet, batched in turn
    for (size_t k = 0; k < done.size(); ++k) {
      if (!done[k]) left.push_back(k);
    }
    if (left.empty()) continue;
    // The catalog once per table and round: a table missing in PostgreSQL, or with columns
    // that differ, settles nothing (the check inside the fence reports it).
    TableVerdict verdict;
    SQLIFT_ASSIGN_OR_RETURN(std::optional<TableRows> scope,
                            verify_internal::BeginTable(run, i, &verdict));
    if (!scope) continue;
    for (size_t from = 0; from < left.size(); from += batch) {
      const size_t to = std::min(left.size(), from + batch);
      std::vector<wire::Row> rows;
      for (size_t k = from; k < to; ++k)
        rows.push_back(keys->second[left[k]]);
      Result<std::vector<bool>> equal = EqualKeys(run, i, *scope, rows);
      if (!equal.ok()) return equal.status().With("settle the keys of " + keys->first);
      ++out.batches;
      // A key that differs (a change in flight, or not equal) stays to be read inside the
      // fence; the others of its batch are settled all the same.
      for (size_t k = from; k < to; ++k) {
        if (!(*equal)[k - from]) continue;
        done[left[k]] = true;
        ++out.settled;
      }
    }
  }
  (void)run.conn->Exec("ROLLBACK");
  SQLIFT_RETURN_IF_ERROR(run.reader->Close());
  return out;
}

}  // namespace sqlift
