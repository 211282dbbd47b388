// ChangeFollower: follows one SQLite database's WAL the way the capture agent will, for the
// differential test of per-transaction row changes. It reads each newly committed transaction
// (ScanWal), decodes its row changes (RowChangeDecoder over a PageStore), keeps the records
// they carry as a model of every table, and shapes them with the table's schema, filling the
// defaults of columns added after a row was written (row_changes.h leaves that to the caller).
// Next gives each transaction's changes in changeset form, to compare with what SQLite's
// session extension recorded; Check compares the model with SQLite's tables and the decoder's
// page map with one built by a full walk.
//
// Owns its file readers, page store, decoder and model; reads the database through `db` (the
// connection that writes it). Thread safety: none; one test thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/wal/page_store.h"
#include "capture/wal/row_changes.h"
#include "capture/wal/testing/sqlite_oracle.h"
#include "capture/wal/wal_reader.h"

namespace sqlift::wal::testing {

class ChangeFollower {
 public:
  // What the decoded changes covered, summed over every transaction.
  struct Counts {
    size_t transactions = 0;  // WAL transactions decoded
    size_t inserts = 0, updates = 0, deletes = 0;
    size_t interior_writes = 0;   // transactions that wrote an interior b-tree page (a split,
                                  // a merge, a tree growing or losing a level)
    size_t short_records = 0;     // records shaped with defaults (older than a column)
    size_t overflow3_values = 0;  // values spanning at least three overflow pages
    size_t checks = 0;            // full Check()s passed
  };

  ChangeFollower(SqliteDb& db, const std::string& db_path);

  // Reads what is committed so far and builds the page map from it.
  [[nodiscard]] Status Start();
  // The changes of each transaction committed since the last call, in changeset form (sorted;
  // a table without a primary key, which a session ignores, is left out). When the schema
  // changed since the last call, more than one new transaction is an error (the rows of each
  // are shaped with the schema before and after the call).
  [[nodiscard]] Result<std::vector<std::vector<std::string>>> Next();
  // Every table of the model equals SQLite's; the page map equals a fresh walk's. Then drops
  // the page store's cached file pages, so later transactions read them again.
  [[nodiscard]] Status Check();
  // Call after checkpointing everything read so far into the database file: the page store
  // starts again from the file, and the next WAL generation is read from its start.
  [[nodiscard]] Status Rebase();

  const Counts& counts() const { return counts_; }

 private:
  using Shapes = std::map<std::string, TableShape>;
  using Model = std::map<std::string, BtreeEntry>;  // records by key

  [[nodiscard]] Result<Shapes> CurrentShapes();
  [[nodiscard]] Result<WalScan> Scan();
  KeyFieldsFn KeyFields();
  [[nodiscard]] Result<std::vector<std::string>> Replay(std::vector<RowChange> changes,
                                                        const Shapes& before, const Shapes& after);
  [[nodiscard]] Result<std::optional<std::string>> Apply(RowChange c, const Shapes& before,
                                                         const Shapes& after);
  [[nodiscard]] Result<std::optional<std::string>> SessionEntry(RowChange c,
                                                                const TableShape* old_shape,
                                                                const TableShape* new_shape);
  void Count(const TableShape& t, const std::vector<Value>& record);
  void CountInterior(const DecodeContext& after, const std::vector<uint32_t>& written);

  SqliteDb& db_;
  std::unique_ptr<RandomAccessFile> wal_, db_file_;
  MissingFields session_missing_ = MissingFields::kDefault;
  Shapes shapes_;
  int64_t schema_version_ = -1;
  std::unique_ptr<PageStore> store_;
  std::optional<WalPosition> position_;
  bool rebased_ = false;
  std::unique_ptr<RowChangeDecoder> decoder_;
  std::map<std::string, Model> model_;
  size_t overflow3_bytes_ = 0;
  Counts counts_;
};

}  // namespace sqlift::wal::testing
