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
    out[e.column] = e.pg_type;
  }
  return out;
}

}  // namespace sqlift
