// The [mapping] section of the configuration as type overrides for the schema translator,
// each entry checked against the source's tables so that an error names its place in the
// file. Shared by plan, copy, the applier's snapshot, verify and reverse replication, so
// that they cannot read the same configuration differently.
//
// Thread safety: a pure function.
#pragma once

#include <vector>

#include "apply/translate/type_mapping.h"
#include "common/base/result.h"
#include "common/config/config.h"
#include "common/sqlite/table_schema.h"

namespace sqlift {

// One [mapping] entry as an override (its type text, unit and target column); InvalidArgument
// for a unit that is not one.
[[nodiscard]] Result<ColumnOverride> OverrideOf(const Config::MappingEntry& entry);

// [mapping] entries as overrides; empty without a configuration.
[[nodiscard]] Result<TypeOverrides> Overrides(const Config* cfg,
                                              const std::vector<TableSchema>& tables);

}  // namespace sqlift
