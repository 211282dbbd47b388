// Decodes one SQLite changeset (the payload of one outbox row) into wire::RowChange messages
// with typed values. This is the one place where a changeset is read: the agent uses it to
// fill the log, and apply/ reaches changesets only through the log's ChangeBatch.
//
// A changeset names each table and gives its column count and primary-key flags, but not
// the column names; the caller's ShapeFn supplies the names (from the schema it has read)
// and may refuse a shape it cannot name (a column dropped while changes were pending).
//
// Thread safety: a pure function of its arguments.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

// What the changeset says about one table.
struct ChangesetTable {
  std::string_view name;
  int column_count = 0;
  std::vector<bool> pk;  // one flag per column
};

// Returns the shape for a table of the changeset; its `columns` must have column_count
// entries and its pk_columns must be exactly the flagged columns, in primary key order.
using ShapeFn = std::function<Result<wire::TableShape>(const ChangesetTable&)>;

// Appends the changes of `changeset` to `txn`; each change's table_index points into
// `batch->tables`, where a shape is added the first time a table is met in this batch.
// Corruption when the changeset cannot be read; the ShapeFn's error otherwise.
[[nodiscard]] Status DecodeChangeset(std::string_view changeset, const ShapeFn& shape_for,
                                     wire::ChangeBatch* batch, wire::Transaction* txn);

// The number of row changes in a changeset; Corruption when it cannot be read.
[[nodiscard]] Result<int64_t> CountChangesetRows(std::string_view changeset);

}  // namespace sqlift
