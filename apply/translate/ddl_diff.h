// AdditiveDdl: the PostgreSQL statements that take a target table from one plan to the next
// when a DDL event arrives from the log (additive changes applied, others stop
// the stream).
//
// Additive, and applied:
//   - a new table: its CREATE TABLE (IF NOT EXISTS) and its after-data statements (indexes,
//     unique constraints, foreign keys), run at once since the table is empty;
//   - new columns at the end of a table: ALTER TABLE ... ADD COLUMN IF NOT EXISTS with the
//     column's type, NOT NULL and default, so rows written before the change get the same
//     default value as SQLite gave them;
//   - a definition that maps to the same columns and types (a new CHECK, a changed default
//     literal that translates alike): nothing to do.
// Everything else (a dropped or renamed table or column, a changed type or primary key) is
// FailedPrecondition naming what changed: the stream stops there, since guessing could lose
// data; the operator applies the change on PostgreSQL and restarts with a new snapshot.
//
// Re-applying the same event is harmless (IF NOT EXISTS), which matters because a DDL event
// may precede changes the snapshot already holds.
//
// Thread safety: a pure function.
#pragma once

#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "common/base/result.h"

namespace sqlift {

[[nodiscard]] Result<std::vector<std::string>> AdditiveDdl(const SchemaPlan& before,
                                                           const SchemaPlan& after,
                                                           const std::string& table,
                                                           const std::string& schema);

}  // namespace sqlift
