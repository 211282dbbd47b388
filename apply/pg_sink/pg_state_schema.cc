#include "apply/pg_sink/pg_state_schema.h"

namespace sqlift {

Status EnsureStateSchema(PgConnection& conn) {
  const std::string schema = QuoteIdentifier(kStateSchema);
  return conn
      .Exec("CREATE SCHEMA IF NOT EXISTS " + schema + ";" + "CREATE TABLE IF NOT EXISTS " +
            QuoteQualified(kStateSchema, "positions") +
            " (source text PRIMARY KEY, applied_seq bigint NOT NULL, snapshot_seq bigint,"
            " updated_at timestamptz NOT NULL DEFAULT now());" +
            "ALTER TABLE " + QuoteQualified(kStateSchema, "positions") +
            " ADD COLUMN IF NOT EXISTS snapshot_rows bigint, ADD COLUMN IF NOT EXISTS hold_seq"
            " bigint, ADD COLUMN IF NOT EXISTS hold_until timestamptz;" +
            "CREATE TABLE IF NOT EXISTS " + QuoteQualified(kStateSchema, "dead_letter") +
            " (id bigserial PRIMARY KEY, source text, seq bigint, table_name text NOT NULL,"
            " key text, column_name text, value text, error text NOT NULL,"
            " at timestamptz NOT NULL DEFAULT now());" +
            "CREATE TABLE IF NOT EXISTS " + QuoteQualified(kStateSchema, "source_schema") +
            " (source text NOT NULL, ord integer NOT NULL, sql text NOT NULL,"
            " PRIMARY KEY (source, ord))")
      .With("create sqlift state schema");
}

Status WithSchemaLock(PgConnection& conn, const std::function<Status()>& create) {
  SQLIFT_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_lock(hashtext('sqlift.schema'))"));
  Status st = create();
  Status unlocked = conn.Exec("SELECT pg_advisory_unlock(hashtext('sqlift.schema'))");
  return st.ok() ? unlocked : st;
}

Result<std::optional<std::vector<std::string>>> LoadSourceSchema(PgConnection& conn,
                                                                 const std::string& source) {
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r, conn.Query("SELECT sql FROM " + QuoteQualified(kStateSchema, "source_schema") +
                                 " WHERE source = $1 ORDER BY ord",
                             {source}));
  if (r.rows() == 0) return std::optional<std::vector<std::string>>();
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i)
    out.emplace_back(r.get(i, 0));
  return std::optional(std::move(out));
}

Status StoreSourceSchema(PgConnection& conn, const std::string& source,
                         const std::vector<std::string>& sqlite_sql) {
  const std::string table = QuoteQualified(kStateSchema, "source_schema");
  Result<PgResult> del = conn.Query("DELETE FROM " + table + " WHERE source = $1", {source});
  if (!del.ok()) return del.status().With("store source schema");
  for (size_t i = 0; i < sqlite_sql.size(); ++i) {
    Result<PgResult> ins =
        conn.Query("INSERT INTO " + table + " (source, ord, sql) VALUES ($1, $2::integer, $3)",
                   {source, std::to_string(i), sqlite_sql[i]});
    if (!ins.ok()) return ins.status().With("store source schema");
  }
  return Status::OK();
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
