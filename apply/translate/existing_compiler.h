// ExistingSchemaCompiler: a SchemaCompiler for [target] schema_mode = "existing". It compiles
// with the compiler it wraps, then matches each plan against the target's catalog, read
// afresh on every Compile through a connection of its own (MatchExistingSchema): the
// applier's snapshots and changes then go into the application's tables, under their names
// and types, with [target.constants] filled, exactly as `sqlift copy` loads them.
//
// Ownership: does not own `inner`, which must outlive it. Thread safety: as SchemaCompiler
// (one call at a time, any thread).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apply/translate/existing_schema.h"
#include "apply/translate/schema_compiler.h"

namespace sqlift {

class ExistingSchemaCompiler final : public SchemaCompiler {
 public:
  using Connect = std::function<Result<std::unique_ptr<PgConnection>>()>;
  ExistingSchemaCompiler(SchemaCompiler* inner, Connect connect, std::string schema,
                         std::vector<TargetConstant> constants)
      : inner_(inner),
        connect_(std::move(connect)),
        schema_(std::move(schema)),
        constants_(std::move(constants)) {}

  // The inner plan matched to the target; what does not match is in its problems.
  [[nodiscard]] Result<SchemaPlan> Compile(const std::vector<std::string>& sqlite_sql) override;
  [[nodiscard]] Result<std::vector<std::string>> ReplaceTable(
      const std::vector<std::string>& sqlite_sql, const std::string& table,
      const std::string& create_sql) override {
    return inner_->ReplaceTable(sqlite_sql, table, create_sql);
  }

 private:
  SchemaCompiler* inner_;
  Connect connect_;
  std::string schema_;
  std::vector<TargetConstant> constants_;
};

// [target.constants] of `cfg`, as MatchExistingSchema takes them.
std::vector<TargetConstant> TargetConstantsOf(const Config& cfg);

}  // namespace sqlift
