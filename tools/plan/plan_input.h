// What `plan` and `copy` both read before translating a schema: the tables (less
// [source] exclude_tables) and the [mapping] overrides, checked against those tables.
// Defined in cmd_plan.cc; shared so the two commands cannot drift apart.
//
// Thread safety: functions over the connection they are given.
#pragma once

#include <string>
#include <vector>

#include "apply/type_mapping.h"
#include "capture/sqlite_db.h"
#include "capture/table_schema.h"
#include "common/result.h"
#include "tools/config.h"

namespace sqlift {

// Tables read from SQLite, without `excluded` (compared as SQLite does).
[[nodiscard]] Result<std::vector<TableSchema>> ReadTables(SqliteDb& db,
                                                          const std::vector<std::string>& excluded);

// --tables: the named tables (compared as SQLite does), in name order; a name the database
// does not have is InvalidArgument (a usage error). All of them when `names` is empty.
[[nodiscard]] Result<std::vector<TableSchema>> SelectTables(std::vector<TableSchema> all,
                                                            const std::vector<std::string>& names);

// [mapping] entries as overrides, each checked so an error names its place in the file; empty
// without a configuration.
[[nodiscard]] Result<TypeOverrides> Overrides(const Config* cfg,
                                              const std::vector<TableSchema>& tables);

}  // namespace sqlift
