// WalSchema: the tables of the database as of one decoded WAL position, read from the
// sqlite_schema b-tree in the decoded pages themselves, not from a live connection (which
// may already show a later schema than the transaction being decoded).
//
// Each table's CREATE TABLE text is run in a private in-memory database, and SQLite's own
// PRAGMA table_xinfo there names the columns, keys, defaults and generated columns: the
// definitions are parsed by SQLite, never by us. A definition the in-memory database cannot
// take (a collation or module only the application registers) fails the load with the
// table's name (the agent stops rather than guess).
//
// Thread safety: none; owned by the WAL capture agent's thread.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "capture/agent/wal_table_layout.h"
#include "capture/wal/btree_walk.h"

namespace sqlift {

class WalSchema {
 public:
  // Reads sqlite_schema (root page 1) of `ctx`. Views, virtual tables and SQLite's own
  // tables are left out; sqlift's own tables are kept (the agent reads its route events).
  [[nodiscard]] static Result<std::unique_ptr<WalSchema>> Load(const wal::DecodeContext& ctx);

  const WalTableLayout* Find(const std::string& table) const;
  const std::map<std::string, WalTableLayout>& tables() const { return tables_; }
  // The number of primary key columns of a WITHOUT ROWID table (the decoder's KeyFieldsFn).
  [[nodiscard]] Result<int> KeyFields(const std::string& table) const;
  // The schema cookie of page 1 when it was loaded: it changes with every schema change.
  uint32_t cookie() const { return cookie_; }

 private:
  std::map<std::string, WalTableLayout> tables_;
  uint32_t cookie_ = 0;
};

// The schema cookie (database header offset 40) of the database `ctx` shows.
[[nodiscard]] Result<uint32_t> SchemaCookie(const wal::DecodeContext& ctx);

}  // namespace sqlift
