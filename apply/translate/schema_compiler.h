// SchemaCompiler: turns the SQLite schema text a source sends (SnapshotChunk.schema_sql, then
// DDL events) into the PostgreSQL plan, with the same translation as `sqlift plan`.
//
// apply/ never includes sqlite3.h, so the implementation is injected: tools/ compiles the
// statements in an in-memory SQLite database and reads them back with the schema reader the
// capture agent uses (tools/sqlite_schema_compiler.h), so a table means the same thing on
// both sides. Tests may use the same implementation.
//
// Thread safety: implementations must allow calls from any thread, one at a time.
#pragma once

#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "common/base/result.h"

namespace sqlift {

class SchemaCompiler {
 public:
  virtual ~SchemaCompiler() = default;
  // The plan for these CREATE TABLE / CREATE INDEX statements (tables before their indexes).
  [[nodiscard]] virtual Result<SchemaPlan> Compile(const std::vector<std::string>& sqlite_sql) = 0;
  // The statements with `table`'s definition replaced by `create_sql` (its indexes kept), or
  // the table and its indexes removed when `create_sql` is empty (a dropped table); a table
  // that was not there is added.
  [[nodiscard]] virtual Result<std::vector<std::string>> ReplaceTable(
      const std::vector<std::string>& sqlite_sql, const std::string& table,
      const std::string& create_sql) = 0;
};

}  // namespace sqlift
