#include "tools/plan/data_profiler.h"

#include <fmt/format.h>

#include <algorithm>

#include "capture/snapshot/wire_value.h"
#include "common/base/text.h"
#include "proto/wire/value_text.h"

namespace sqlift {
namespace {

// "SELECT "a", "b" FROM "t"" over the visible columns; the column indexes it reads.
std::string SelectSql(const TableSchema& t, std::vector<size_t>* cols) {
  std::string list;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (t.columns[i].hidden) continue;
    if (!list.empty()) list += ", ";
    list += QuoteSqliteIdentifier(t.columns[i].name);
    cols->push_back(i);
  }
  return fmt::format("SELECT {} FROM main.{}", list, QuoteSqliteIdentifier(t.name));
}

std::string KeyOf(const TableSchema& t, const std::vector<size_t>& cols,
                  const std::vector<wire::Value>& row) {
  std::vector<std::string> parts;
  for (uint32_t pk : t.PrimaryKeyColumns()) {
    for (size_t j = 0; j < cols.size(); ++j) {
      if (cols[j] == pk) parts.push_back(DescribeValue(row[j]));
    }
  }
  return parts.empty() ? "row" : fmt::format("pk=({})", fmt::join(parts, ", "));
}

// Counts row[j] under its label, keeping the first examples of each.
void Tally(const TableSchema& t, const std::vector<size_t>& cols,
           const std::vector<wire::Value>& row, size_t j, const ProfileOptions& options,
           ColumnFindings* f) {
  std::string_view label = options.label(t, cols[j], row[j]);
  if (label.empty()) return;
  auto it = std::find_if(f->labels.begin(), f->labels.end(),
                         [&](const LabelTally& l) { return l.label == label; });
  if (it == f->labels.end()) it = f->labels.insert(f->labels.end(), LabelTally{label, 0, {}, {}});
  if (it->values.size() < options.max_examples) {
    it->keys.push_back(KeyOf(t, cols, row));
    it->values.push_back(row[j]);
  }
  ++it->count;
}

Status ProfileTable(SqliteDb& db, const TableSchema& t, const ValueCheck& check,
                    const ProfileOptions& options, std::vector<ColumnFindings>* out) {
  SQLIFT_ASSIGN_OR_RETURN(
      int64_t total, db.QueryInt64("SELECT count(*) FROM main." + QuoteSqliteIdentifier(t.name)));
  std::vector<size_t> cols;
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, db.Prepare(SelectSql(t, &cols)));
  std::vector<ColumnFindings> found(cols.size());
  std::vector<wire::Value> row(cols.size());
  int64_t done = 0;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool more, stmt.Step());
    if (!more) break;
    for (size_t j = 0; j < cols.size(); ++j)
      row[j] = ColumnToWire(stmt.handle(), static_cast<int>(j));
    for (size_t j = 0; j < cols.size(); ++j) {
      std::optional<std::string> why = check(t, cols[j], row[j]);
      if (!why) {
        if (options.label) Tally(t, cols, row, j, options, &found[j]);
        continue;
      }
      ColumnFindings& f = found[j];
      if (f.examples.size() < options.max_examples) {
        f.examples.push_back(
            fmt::format("{} value={}: {}", KeyOf(t, cols, row), DescribeValue(row[j]), *why));
      }
      ++f.count;
    }
    if (options.progress && ++done % options.progress_every == 0)
      options.progress(t.name, done, total);
  }
  if (options.progress) options.progress(t.name, done, total);
  for (size_t j = 0; j < cols.size(); ++j) {
    if (found[j].count == 0 && found[j].labels.empty()) continue;
    found[j].table = t.name;
    found[j].column_index = cols[j];
    found[j].column = t.columns[cols[j]].name;
    out->push_back(std::move(found[j]));
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<ColumnFindings>> ProfileData(SqliteDb& db,
                                                const std::vector<TableSchema>& tables,
                                                const ValueCheck& check,
                                                const ProfileOptions& options) {
  // One read transaction: every table is seen at the same point in time.
  SQLIFT_RETURN_IF_ERROR(db.Exec("BEGIN"));
  std::vector<ColumnFindings> out;
  for (const TableSchema& t : tables) {
    Status st = ProfileTable(db, t, check, options, &out);
    if (!st.ok()) {
      (void)db.Exec("ROLLBACK");  // the scan's error is the one worth reporting
      return st.With("profile data of " + t.name);
    }
  }
  SQLIFT_RETURN_IF_ERROR(db.Exec("COMMIT"));
  return out;
}

}  // namespace sqlift
