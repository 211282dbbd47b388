#include "apply/pg_state_schema.h"

namespace sqlift {

Status EnsureStateSchema(PgConnection& conn) {
  const std::string schema = QuoteIdentifier(kStateSchema);
  return conn
      .Exec("CREATE SCHEMA IF NOT EXISTS " + schema + ";" + "CREATE TABLE IF NOT EXISTS " +
            QuoteQualified(kStateSchema, "positions") +
            " (source text PRIMARY KEY, applied_seq bigint NOT NULL, snapshot_seq bigint,"
            " updated_at timestamptz NOT NULL DEFAULT now());" +
            "CREATE TABLE IF NOT EXISTS " + QuoteQualified(kStateSchema, "dead_letter") +
            " (id bigserial PRIMARY KEY, source text, seq bigint, table_name text NOT NULL,"
            " key text, column_name text, value text, error text NOT NULL,"
            " at timestamptz NOT NULL DEFAULT now())")
      .With("create sqlift state schema");
}

Status InsertDeadLetter(PgConnection& conn, const DeadLetter& d) {
  std::optional<std::string> seq;
  if (d.seq) seq = std::to_string(*d.seq);
  Result<PgResult> r = conn.Query("INSERT INTO " + QuoteQualified(kStateSchema, "dead_letter") +
                                      " (source, seq, table_name, key, column_name, value, error)"
                                      " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                  {d.source, seq, d.table, d.key, d.column, d.value, d.error});
  return r.ok() ? Status::OK() : r.status().With("dead-letter a row of " + d.table);
}

}  // namespace sqlift
