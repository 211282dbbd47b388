// ExistingSchemaCompiler (see existing_compiler.h).
#include "apply/translate/existing_compiler.h"

namespace sqlift {

Result<SchemaPlan> ExistingSchemaCompiler::Compile(const std::vector<std::string>& sqlite_sql) {
  SQLIFT_ASSIGN_OR_RETURN(SchemaPlan plan, inner_->Compile(sqlite_sql));
  SQLIFT_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, connect_());
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TargetTable> target, ReadTargetCatalog(*conn, schema_));
  SQLIFT_RETURN_IF_ERROR(MatchExistingSchema(target, constants_, schema_, &plan).status());
  return plan;
}

std::vector<TargetConstant> TargetConstantsOf(const Config& cfg) {
  std::vector<TargetConstant> constants;
  for (const Config::ConstantEntry& e : cfg.target_constants)
    constants.push_back({e.table, e.column, e.value});
  return constants;
}

}  // namespace sqlift
