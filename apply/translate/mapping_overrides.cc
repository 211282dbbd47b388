#include "apply/translate/mapping_overrides.h"

#include <fmt/format.h>
#include <strings.h>

namespace sqlift {

Result<TypeOverrides> Overrides(const Config* cfg, const std::vector<TableSchema>& tables) {
  TypeOverrides out;
  if (!cfg) return out;
  for (const Config::MappingEntry& e : cfg->mapping) {
    Result<PgType> t = ParsePgType(e.pg_type);
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
    ColumnOverride o(e.pg_type);
    if (!e.unit.empty()) {
      Result<TimeUnit> unit = ParseTimeUnit(e.unit);
      if (!unit.ok()) return unit.status().With(e.where + ": mapping." + e.column);
      if (t->kind != PgType::Kind::kTimestamptz && t->kind != PgType::Kind::kTimestamp) {
        return Status::InvalidArgument(
            fmt::format("{}: mapping.{}: unit is for timestamp and timestamptz columns, not {}",
                        e.where, e.column, t->sql));
      }
      o.unit = *unit;
    }
    out[e.column] = std::move(o);
  }
  return out;
}

}  // namespace sqlift
