// RowChangeDecoder: the row changes (INSERT, UPDATE with the full old and new row, DELETE) of
// each committed WAL transaction, found by diffing only the pages the transaction touched.
//
// Per transaction: the pages it wrote; the owners of overflow pages it wrote (a same-size row
// can be rewritten in its overflow pages alone); and the pages that left their b-tree (a
// merge or a DROP frees pages without writing them; they are found below the written
// interior pages that no longer point at them). Rows of those pages before the transaction
// are diffed, per table and key, against rows of the same pages after it that still belong
// to the table, by their record bytes: only rows that changed are decoded. Which b-tree a
// page belongs to comes from the PageMap, kept current from the written interior pages, so
// no table is walked per transaction.
//
// A key changed by an UPDATE is a DELETE of the old key and an INSERT of the new one (as in
// SQLite's changesets). Schema changes are not row changes: a dropped table yields none (the
// caller reads DDL from the schema), a table created with rows yields their INSERTs. Values are as
// stored: the INTEGER PRIMARY KEY column is NULL (its value is `rowid`), and a REAL-affinity column
// may hold an integer.
//
// Values are the record's fields: the table's stored columns in order (a VIRTUAL generated column
// has no field). A record may have fewer fields than the table has columns: a row written before
// ALTER TABLE ADD COLUMN keeps its shorter record until it is rewritten, and SQLite reads each
// missing trailing column as that column's default (the ADD COLUMN's constant DEFAULT as SQLite
// reads it, with the column's affinity, which is not always what an INSERT stores: a TEXT column's
// DEFAULT 1e2 reads as '1e2'; NULL when it has none). The decoder reads no column definitions:
// values beyond the record's field count are the column default, to be filled by the caller from
// the schema. So an UPDATE may change the record's shape alone (the old record short, the new one
// with the default stored), and once the caller fills the defaults its old and new rows may be
// equal. ALTER TABLE DROP COLUMN rewrites the table's records without the column: that
// transaction yields an UPDATE for each record it changed, old values in the old schema's shape
// and new values in the new one's; with the schema before and after it, the caller sees only the
// column go. (RENAME COLUMN and ADD COLUMN rewrite no record and yield nothing.)
//
// Thread safety: none; one decoder follows one database, one transaction at a time, in order.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capture/wal/page_map.h"

namespace sqlift::wal {

struct RowChange {
  enum class Kind { kInsert, kUpdate, kDelete };
  Kind kind = Kind::kInsert;
  std::string table;
  int64_t rowid = 0;              // rowid tables: the row's rowid
  std::vector<Value> old_values;  // DELETE and UPDATE: the record before
  std::vector<Value> new_values;  // INSERT and UPDATE: the record after
};

struct DiffScratch;  // row_changes.cc: a transaction's bookkeeping, reused

class RowChangeDecoder {
 public:
  ~RowChangeDecoder();

  // Maps every page of every b-tree of the database as `ctx` shows it (one full walk).
  [[nodiscard]] static Result<std::unique_ptr<RowChangeDecoder>> Create(const DecodeContext& ctx,
                                                                        KeyFieldsFn key_fields);

  // The changes of one transaction: `before` is the database this decoder's map describes,
  // `after` the same with the transaction applied, `written` the pages its frames wrote.
  // Afterwards the map describes `after`. The order is deterministic (by table, then by an
  // encoding of the key, which is not the key order). After an error the map is unreliable:
  // make a new decoder.
  [[nodiscard]] Result<std::vector<RowChange>> Decode(const DecodeContext& before,
                                                      const DecodeContext& after,
                                                      const std::vector<uint32_t>& written);

  const PageMap& page_map() const { return map_; }

 private:
  explicit RowChangeDecoder(KeyFieldsFn key_fields);

  KeyFieldsFn key_fields_;
  std::map<uint32_t, TreeInfo> trees_;
  PageMap map_;
  std::unique_ptr<DiffScratch> scratch_;
};

}  // namespace sqlift::wal
