// ReadPgRowsAsSqlite: rows of a PostgreSQL table read by primary key, each value turned into the
// SQLite value it stands for (apply/reverse/pg_text_value.h, the conversion reverse replication
// writes into SQLite with), so that a gap repair can describe rows only PostgreSQL has in the
// log's terms: a DELETE's key and old values, an UPDATE's old values.
//
// The session must use `sqlift verify`'s output forms (BeginVerifySnapshot: TimeZone UTC,
// DateStyle ISO, bytea hex, extra_float_digits 3), which the conversion expects. Every key value
// is checked to mean the same key after the conversion (the canonical value of the SQLite value
// in the column's mapped type is the canonical value of PostgreSQL's text), so that a DELETE
// built from it removes exactly that row; a value that does not is FailedPrecondition.
//
// Thread safety: uses the connection it is given from the calling thread only.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "common/base/result.h"
#include "common/pg/pg_connection.h"
#include "proto/wire/sqlift.pb.h"
#include "tools/verify/verify_pg_reader.h"

namespace sqlift {

struct PgKeyedRead {
  std::string schema;
  const TablePlan* plan = nullptr;
  std::vector<size_t> key_columns;  // indexes into plan->columns, in primary key order
  RowFilter tenant_filter;          // its column/values/exclude narrow the rows, as in a scan
};

// The rows whose keys are `keys` (each the canonical texts of the key columns, as
// CanonicalFromPg gives them), by encoded canonical key (EncodeCanonical of each key value in
// order). A key no row has is left out. Reads in chunks of 1,000 keys.
[[nodiscard]] Result<std::unordered_map<std::string, wire::Row>> ReadPgRowsAsSqlite(
    PgConnection& conn, const PgKeyedRead& read, const std::vector<std::vector<std::string>>& keys);

}  // namespace sqlift
