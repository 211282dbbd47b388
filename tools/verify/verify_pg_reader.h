// The PostgreSQL side of `sqlift verify`: one read-only snapshot, the catalog questions the
// comparison asks, and a VerifyTableReader that streams a table with COPY TO STDOUT.
//
//   SQLIFT_RETURN_IF_ERROR(BeginVerifySnapshot(*conn));   // fixes output forms and snapshot
//   PgTableReader reader(*conn, "public", plan.tables[i]);
//   ... CompareTable(sqlite_reader, reader, options) ...
//   SQLIFT_RETURN_IF_ERROR(conn->Exec("COMMIT"));
//
// Thread safety: everything here uses the connection it was given, one thread at a time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "common/pg/pg_connection.h"
#include "tools/verify/verify_engine.h"

namespace sqlift {

// Sets the output forms verify_normalize.h expects (TimeZone UTC, DateStyle ISO, bytea_output
// hex, extra_float_digits 3) and begins a REPEATABLE READ READ ONLY transaction, so every
// table (and each table's second read) comes from one snapshot.
[[nodiscard]] Status BeginVerifySnapshot(PgConnection& conn);

// The columns of schema.table in attribute order; nullopt when there is no such table.
[[nodiscard]] Result<std::optional<std::vector<std::string>>> PgTableColumns(
    PgConnection& conn, const std::string& schema, const std::string& table);

// The ordinary and partitioned tables of `schema`, by name.
[[nodiscard]] Result<std::vector<std::string>> PgTablesIn(PgConnection& conn,
                                                          const std::string& schema);

// Which rows of a table a comparison covers: every row, or those whose `column` (a tenant
// column) holds one of `values` (compared as text), or with `exclude` those that do not
// (NULL included).
struct RowFilter {
  std::string column;  // PostgreSQL column name; empty: every row
  std::vector<std::string> values;
  bool exclude = false;
  // Besides: only the rows with these primary keys (verify's fast path), each key the text
  // forms of its values for the plan columns `key_columns` (indexes into TablePlan::columns).
  // Without keys_only, every row.
  bool keys_only = false;
  std::vector<size_t> key_columns;
  std::vector<std::vector<std::string>> keys;
};

// Streams schema.table's planned columns, in plan order, as canonical values of their
// mapped types, and only the rows `filter` keeps (the values travel as a bound setting, never
// in the SQL text). *conn and *table must outlive the reader.
class PgTableReader : public VerifyTableReader {
 public:
  PgTableReader(PgConnection& conn, std::string schema, const TablePlan& table,
                RowFilter filter = {})
      : conn_(conn), schema_(std::move(schema)), table_(table), filter_(std::move(filter)) {}
  [[nodiscard]] Status Scan(const RowSink& sink) override;

 private:
  Status Drain(Status st);

  PgConnection& conn_;
  std::string schema_;
  const TablePlan& table_;
  RowFilter filter_;
};

}  // namespace sqlift
