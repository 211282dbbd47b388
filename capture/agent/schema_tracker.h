// SchemaTracker: names the columns of changesets and turns schema changes into DDL events in
// the log (docs/design.md, capture: "notices schema changes and carries them to the applier").
//
// It keeps the current schema (re-read when PRAGMA schema_version moves) and, per table, the
// CREATE TABLE text last written to the log (meta keys "ddl/<table>"). A DDL event for table
// T goes into the log right before the first drained change to T that has T's current
// column count, when T's definition differs from the one last logged; definitions that
// changed with no change pending (a new empty table, a dropped one) are logged before the
// first change drained after the agent noticed them. On a fresh log every table's definition
// is logged first, so the log describes its own schema. A DDL event means "from here on,
// the table is defined like this"; writing one twice (a crash between the log append and
// MarkLogged) is harmless.
//
// Lifetimes: *db and *log must outlive the tracker. Thread safety: none.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "capture/agent/changeset_decoder.h"
#include "common/sqlite/sqlite_schema.h"
#include "state/change_log.h"

namespace sqlift {

// The shape of a table's first `column_count` visible columns (the ones changesets carry;
// ADD COLUMN appends, so an older change's columns are a prefix of today's).
wire::TableShape WireShapeOf(const TableSchema& t, int column_count);

class SchemaTracker {
 public:
  SchemaTracker(SqliteDb* db, state::ChangeLog* log, std::set<std::string> excluded)
      : db_(db), log_(log), excluded_(std::move(excluded)) {}

  // Re-reads the schema if PRAGMA schema_version moved since the last call.
  [[nodiscard]] Status Refresh();

  // The shape of a changeset's table. Adds to *ddl the DDL events that must precede this
  // change (see the class comment). Fails, naming the table, when the changeset has more
  // columns than the table has now (a column was dropped while changes were pending) or its
  // primary key differs.
  [[nodiscard]] Result<wire::TableShape> ShapeFor(const ChangesetTable& table,
                                                  std::vector<wire::Transaction>* ddl);

  // DDL events for definitions that changed without a change to carry them (see above):
  // tables not in `seen` (the tables the drained changes touched) whose definition differs
  // from the logged one, and logged tables that are gone.
  void TakeUntouchedDdl(const std::set<std::string>& seen, std::vector<wire::Transaction>* ddl);

  // Records that the DDL events handed out so far are in the log (call after Append).
  [[nodiscard]] Status MarkLogged();

  // PRAGMA schema_version as of the last Refresh (-1 before the first), and the captured
  // tables of that schema.
  int64_t schema_version() const { return schema_version_; }
  std::vector<std::string> TableNames() const;

 private:
  [[nodiscard]] Result<std::string> LoggedDefinition(const std::string& table);
  wire::Transaction MakeDdl(const std::string& table, const std::string& sql) const;

  SqliteDb* db_;
  state::ChangeLog* log_;
  std::set<std::string> excluded_;
  int64_t schema_version_ = -1;
  std::map<std::string, TableSchema> tables_;      // current schema
  std::map<std::string, std::string> logged_;      // table -> CREATE text in the log
  std::map<std::string, std::string> handed_out_;  // DDL given out, not yet MarkLogged
  bool untouched_pending_ = false;                 // schema moved since last Take
};

}  // namespace sqlift
