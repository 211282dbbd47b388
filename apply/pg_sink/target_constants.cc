// Constant columns of an existing target, for the loaders (see target_constants.h).
#include "apply/pg_sink/target_constants.h"

#include <fmt/format.h>

#include "common/pg/pg_identifier.h"

namespace sqlift {

const ColumnPlan* SourceConstant(const TablePlan& t) {
  for (const ColumnPlan& c : t.columns)
    if (c.constant) return &c;
  return nullptr;
}

std::string SourceRowsWhere(const TablePlan& t) {
  const ColumnPlan* k = SourceConstant(t);
  return k ? fmt::format(" WHERE {} = $1::{}", QuoteIdentifier(k->pg_name), k->mapping.type.sql)
           : "";
}

std::vector<std::optional<std::string>> SourceRowsParams(const TablePlan& t) {
  const ColumnPlan* k = SourceConstant(t);
  if (!k) return {};
  return {k->constant};
}

void AppendConstants(const TablePlan& t, std::vector<wire::Row>* rows) {
  for (const ColumnPlan& c : t.columns) {
    if (!c.constant) continue;
    for (wire::Row& row : *rows)
      row.add_values()->set_text(*c.constant);
  }
}

size_t ConstantCount(const TablePlan& t) {
  size_t n = 0;
  for (const ColumnPlan& c : t.columns)
    n += c.constant ? 1 : 0;
  return n;
}

}  // namespace sqlift
