#include "capture/agent/schema_tracker.h"

#include <fmt/format.h>

namespace sqlift {
namespace {

constexpr std::string_view kMetaPrefix = "ddl/";

int VisibleColumns(const TableSchema& t) {
  int n = 0;
  for (const ColumnSchema& c : t.columns)
    n += c.hidden ? 0 : 1;
  return n;
}

}  // namespace

wire::TableShape WireShapeOf(const TableSchema& t, int column_count) {
  wire::TableShape shape;
  shape.set_name(t.name);
  std::vector<int> visible_index(t.columns.size(), -1);
  int n = 0;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const ColumnSchema& c = t.columns[i];
    if (c.hidden || n == column_count) continue;
    visible_index[i] = n++;
    shape.add_columns(c.name);
    shape.add_declared_types(c.declared_type);
  }
  for (uint32_t i : t.PrimaryKeyColumns()) {
    if (visible_index[i] >= 0) shape.add_pk_columns(static_cast<uint32_t>(visible_index[i]));
  }
  return shape;
}

Status SchemaTracker::Refresh() {
  SQLIFT_ASSIGN_OR_RETURN(int64_t version, db_->QueryInt64("PRAGMA schema_version"));
  if (version == schema_version_) return Status::OK();
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableSchema> tables, ReadSchema(*db_));
  tables_.clear();
  for (TableSchema& t : tables) {
    if (excluded_.count(t.name)) continue;
    tables_.emplace(t.name, std::move(t));
  }
  schema_version_ = version;
  untouched_pending_ = true;
  return Status::OK();
}

std::vector<std::string> SchemaTracker::TableNames() const {
  std::vector<std::string> out;
  for (const auto& [name, table] : tables_)
    out.push_back(name);
  return out;
}

Result<std::string> SchemaTracker::LoggedDefinition(const std::string& table) {
  if (auto it = handed_out_.find(table); it != handed_out_.end()) return it->second;
  if (auto it = logged_.find(table); it != logged_.end()) return it->second;
  Result<std::string> stored = log_->GetMeta(std::string(kMetaPrefix) + table);
  if (!stored.ok() && stored.status().code() != Status::Code::kNotFound) return stored.status();
  std::string sql = stored.ok() ? *stored : std::string();
  logged_[table] = sql;
  return sql;
}

wire::Transaction SchemaTracker::MakeDdl(const std::string& table, const std::string& sql) const {
  wire::Transaction ddl;
  ddl.set_kind(wire::Transaction::DDL);
  ddl.set_ddl_table(table);
  ddl.set_ddl_sql(sql);
  return ddl;
}

Result<wire::TableShape> SchemaTracker::ShapeFor(const ChangesetTable& table,
                                                 std::vector<wire::Transaction>* ddl) {
  std::string name(table.name);
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    return Status::FailedPrecondition(fmt::format(
        "a change to table '{}' is pending but the table no longer exists (dropped or renamed "
        "while changes were pending); its columns cannot be named",
        name));
  }
  const TableSchema& current = it->second;
  int visible = VisibleColumns(current);
  if (table.column_count > visible) {
    return Status::FailedPrecondition(fmt::format(
        "a change to table '{}' has {} columns but the table now has {}: a column was dropped "
        "while changes were pending",
        name, table.column_count, visible));
  }
  wire::TableShape shape = WireShapeOf(current, table.column_count);
  std::vector<bool> expected(table.column_count, false);
  for (uint32_t i : shape.pk_columns()) {
    if (i < expected.size()) expected[i] = true;
  }
  if (expected != table.pk) {
    return Status::FailedPrecondition(
        fmt::format("the primary key of table '{}' changed while changes were pending", name));
  }
  if (table.column_count == visible) {
    SQLIFT_ASSIGN_OR_RETURN(std::string logged, LoggedDefinition(name));
    if (logged != current.create_sql) {
      ddl->push_back(MakeDdl(name, current.create_sql));
      handed_out_[name] = current.create_sql;
    }
  }
  return shape;
}

void SchemaTracker::TakeUntouchedDdl(const std::set<std::string>& seen,
                                     std::vector<wire::Transaction>* ddl) {
  if (!untouched_pending_) return;
  untouched_pending_ = false;
  for (const auto& [name, t] : tables_) {
    Result<std::string> logged = LoggedDefinition(name);
    if (!logged.ok() || *logged == t.create_sql) continue;
    if (seen.count(name)) {
      // Changed, but its changes so far have the old shape: wait for one with the new shape
      // (ShapeFor), and look again after the next batch.
      untouched_pending_ = true;
    } else {
      ddl->push_back(MakeDdl(name, t.create_sql));
      handed_out_[name] = t.create_sql;
    }
  }
  // Tables the log knows that are gone now: dropped (or renamed, which shows as a drop and a
  // new table). Only tables whose definition was loaded are known here; a table dropped
  // before this agent ever logged it has nothing to undo.
  for (const auto& [name, sql] : logged_) {
    if (!sql.empty() && !tables_.count(name) && !handed_out_.count(name)) {
      ddl->push_back(MakeDdl(name, ""));
      handed_out_[name] = "";
    }
  }
}

Status SchemaTracker::MarkLogged() {
  for (const auto& [name, sql] : handed_out_) {
    SQLIFT_RETURN_IF_ERROR(log_->PutMeta(std::string(kMetaPrefix) + name, sql));
    logged_[name] = sql;
  }
  handed_out_.clear();
  return Status::OK();
}

}  // namespace sqlift
