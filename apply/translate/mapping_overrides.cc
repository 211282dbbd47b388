#include "apply/translate/mapping_overrides.h"

#include <fmt/format.h>
#include <strings.h>

namespace sqlift {

Result<ColumnOverride> OverrideOf(const Config::MappingEntry& e) {
  ColumnOverride o(e.pg_type);
  o.column = e.target_column;
  if (!e.unit.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(o.unit, ParseTimeUnit(e.unit));
  }
  return o;
}

Result<TypeOverrides> Overrides(const Config* cfg, const std::vector<TableSchema>& tables) {
  TypeOverrides out;
  if (!cfg) return out;
  for (const Config::MappingEntry& e : cfg->mapping) {
    Result<PgType> t = e.pg_type.empty() ? Result<PgType>(PgType{}) : ParsePgType(e.pg_type);
    if (!t.ok()) return t.status().With(e.where + ": mapping." + e.column);
    size_t dot = e.column.rfind('.');
    bool found = false;
    for (const TableSchema& ts : tables) {
      found |= strcasecmp(ts.name.c_str(), e.column.substr(0, dot).c_str()) == 0 &&
               ts.ColumnIndex(e.column.substr(dot + 1)) >= 0;
    }
    if (!found) {
      return Status::InvalidArgument(
          fmt::format("{}: mapping.{}: no such table.column in the database", e.where, e.column));
    }
    Result<ColumnOverride> o = OverrideOf(e);
    if (!o.ok()) return o.status().With(e.where + ": mapping." + e.column);
    if (o->unit != TimeUnit::kAuto) {
      if (t->kind != PgType::Kind::kTimestamptz && t->kind != PgType::Kind::kTimestamp) {
        return Status::InvalidArgument(
            fmt::format("{}: mapping.{}: unit is for timestamp and timestamptz columns, not {}",
                        e.where, e.column, t->sql));
      }
    }
    out[e.column] = std::move(*o);
  }
  return out;
}

}  // namespace sqlift
