// WithTenantColumn: a table as a database-per-tenant target holds it (see TranslateOptions).
#include <algorithm>

#include "apply/translate/schema_translator_internal.h"

namespace sqlift::translate {

TableSchema WithTenantColumn(const TableSchema& table, const std::string& column) {
  TableSchema t = table;
  for (ColumnSchema& c : t.columns) {
    if (c.pk_position > 0) ++c.pk_position;
  }
  ColumnSchema tenant;
  tenant.name = column;
  tenant.declared_type = "TEXT";
  tenant.not_null = true;
  tenant.pk_position = 1;
  t.columns.insert(t.columns.begin(), tenant);
  for (IndexSchema& ix : t.indexes) {
    IndexColumn c;
    c.name = column;
    ix.columns.insert(ix.columns.begin(), c);
  }
  for (ForeignKeySchema& fk : t.foreign_keys) {
    fk.columns.insert(fk.columns.begin(), column);
    // Empty names stand for the parent's primary key, which now starts with the column too.
    const bool implicit = std::all_of(fk.ref_columns.begin(), fk.ref_columns.end(),
                                      [](const std::string& s) { return s.empty(); });
    fk.ref_columns.insert(fk.ref_columns.begin(), implicit ? "" : column);
  }
  return t;
}

}  // namespace sqlift::translate
