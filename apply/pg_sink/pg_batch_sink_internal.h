// Internals shared by pg_batch_sink.cc and pg_batch_sink_sql.cc; not for other users.
// Thread safety: pure functions and plain structs, used under PgBatchSink's mutex.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "apply/pg_sink/pg_batch_sink.h"
#include "apply/pg_sink/pg_state_schema.h"
#include "proto/wire/value_text.h"

namespace sqlift::apply {

// One TableShape of a batch matched to its target table: columns[i] is the target column of
// shape column i; pk holds shape column indexes in primary key order.
struct ResolvedTable {
  std::string sqlite_name;
  const PgSinkTable* table = nullptr;
  std::vector<const PgSinkColumn*> columns;
  std::vector<int> pk;
  Status error;  // why `table` is null: no target for this table or one of its columns
};

struct PgBatchSink::Context {
  Context(const std::string& s, const wire::ChangeBatch& b,
          std::shared_ptr<const SourceSchema> current, bool pipeline)
      : source(s), batch(b), schema(std::move(current)), pipelined(pipeline) {}

  const std::string& source;
  const wire::ChangeBatch& batch;
  std::shared_ptr<const SourceSchema> schema;  // as of this point in the batch
  bool schema_changed = false;                 // a DDL event ran: store it with the position
  bool resolved = false;                       // `tables` matches `schema`
  std::vector<ResolvedTable> tables;           // by ChangeBatch.tables index
  std::optional<DeadLetter> stop_letter;       // kStop: written after the rollback
  // kStop pipelines row changes (PgConnection pipeline mode): statements sent and not yet
  // checked, in send order, with what their check needs.
  bool pipelined = false;
  const wire::Transaction* txn = nullptr;  // the transaction being applied
  struct Sent {
    const wire::Transaction* txn;
    const wire::RowChange* change;
  };
  std::vector<Sent> sent;
};

// The primary key of a change on `t`: "(7, 'a')".
std::string RenderKey(const wire::RowChange& ch, const ResolvedTable& t);
// True for SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation).
bool IsDataError(const Status& st);

// The rows a change's statement touched, checked: an update that found no row is a
// consistency error, and so is an insert that found another source's row under its key (a
// table with constant columns outside its unique key).
Status CheckAffected(const wire::RowChange& ch, const ResolvedTable& t, int64_t affected);

// Statement text; `cols` are shape column indexes, bound as $1.. in that order, then the key,
// then the constant tenant and the table's constants.
std::string InsertSql(const std::string& schema, const ResolvedTable& t,
                      const std::vector<int>& cols);
std::string UpdateSql(const std::string& schema, const ResolvedTable& t,
                      const std::vector<int>& cols);
std::string DeleteSql(const std::string& schema, const ResolvedTable& t);

}  // namespace sqlift::apply
