// WalAgentTest: a WAL database with the tables the wal agent's tests write (rowid, WITHOUT
// ROWID, composite and NOCASE keys, generated columns), an in-memory log, an agent opened and
// reopened over them, and the log replayed strictly onto a model (an INSERT's key must be
// free, an UPDATE's and DELETE's old values must be there) to compare with SQLite's tables.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "capture/agent/wal_agent.h"
#include "capture/outbox/outbox.h"
#include "capture/snapshot/wire_value.h"
#include "state/state_test_util.h"

namespace sqlift::testing_wal {

using Row = std::map<std::string, std::string>;  // column -> serialized wire::Value
using Table = std::map<std::string, Row>;        // serialized key -> row

inline uint32_t Seed() {
  const char* env = std::getenv("SQLIFT_WAL_SEED");
  return env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
}

class WalAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    path_ = (dir_ / "app.db").string();
    auto db = SqliteDb::Open(path_, SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok());
    app_ = std::move(db).value();
    Exec("PRAGMA journal_mode=WAL");
    ASSERT_TRUE(outbox::CreateTables(app_->handle()).ok());
    Exec("INSERT INTO _sqlift_state (key, value) VALUES ('capture_mode', 'wal')");
    Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, score REAL, photo BLOB)");
    Exec("CREATE TABLE tags (code TEXT PRIMARY KEY, label TEXT)");
    Exec(
        "CREATE TABLE seats (row_no INT, seat TEXT, holder TEXT, PRIMARY KEY (seat, row_no)) "
        "WITHOUT ROWID");
    // Generated columns (a VIRTUAL one has no field in the record, a STORED one has) between
    // stored ones, and a key compared with NOCASE: rows whose key differs only in case are
    // one row to SQLite.
    Exec(
        "CREATE TABLE notes (slug TEXT COLLATE NOCASE PRIMARY KEY, body TEXT, n INT, twice INT "
        "GENERATED ALWAYS AS (n * 2) VIRTUAL, shout TEXT GENERATED ALWAYS AS (upper(body)) "
        "STORED, tail TEXT) WITHOUT ROWID");
    Exec(
        "CREATE TABLE calc (id INTEGER PRIMARY KEY, a INT, v INT GENERATED ALWAYS AS (a + 1) "
        "VIRTUAL, b TEXT, s INT GENERATED ALWAYS AS (a * 3) STORED, c REAL)");
    log_ = state::NewMemChangeLog();
  }
  void TearDown() override {
    agent_.reset();
    app_.reset();
  }

  void Exec(const std::string& sql) {
    Status st = app_->Exec(sql);
    ASSERT_TRUE(st.ok()) << sql << ": " << st.ToString();
  }

  Status OpenAgent(GapRepairFn repair = nullptr,
                   const std::function<void(CaptureAgentOptions&)>& tweak = nullptr) {
    if (agent_) wal_restarts_ += agent_->wal_restarts();
    agent_.reset();
    CaptureAgentOptions o;
    o.repair_gap = std::move(repair);
    o.sqlite_path = path_;
    o.batch_rows = 7;  // several batches per drain
    o.restart_wal = restart_wal_;
    o.wal_progress_path = (dir_ / "wal-progress").string();
    if (tweak) tweak(o);
    SQLIFT_ASSIGN_OR_RETURN(agent_, WalCaptureAgent::Open(o, log_.get()));
    return Status::OK();
  }

  // Replays the whole log strictly onto a model.
  Result<std::map<std::string, Table>> Replay() {
    std::map<std::string, Table> model;
    Status st = log_->Scan(1, UINT64_MAX, [&](uint64_t seq, std::string_view v) -> Status {
      wire::ChangeBatch b;
      if (!b.ParseFromArray(v.data(), static_cast<int>(v.size()))) return Status::Corruption("");
      for (const wire::Transaction& t : b.transactions()) {
        if (t.kind() == wire::Transaction::REVERSE) {  // an applier never applies them
          reverse_keys_ += t.changes_size();
          continue;
        }
        if (t.kind() == wire::Transaction::DDL && t.ddl_sql().empty()) model.erase(t.ddl_table());
        for (const wire::RowChange& c : t.changes()) {
          SQLIFT_RETURN_IF_ERROR(ApplyChange(b.tables(static_cast<int>(c.table_index())), c, &model)
                                     .With(fmt::format("seq {}", seq)));
        }
      }
      return Status::OK();
    });
    if (!st.ok()) return st;
    return model;
  }

  // A column a model row lacks is one added later (ALTER TABLE ADD COLUMN): its value is the
  // default added_defaults_ names, or the check fails.
  Status ApplyChange(const wire::TableShape& shape, const wire::RowChange& c,
                     std::map<std::string, Table>* model) const {
    wire::Row key;
    *key.mutable_values() = c.pk();
    Table& table = (*model)[shape.name()];
    const std::string k = key.SerializeAsString();
    auto it = table.find(k);
    auto fill = [&](const auto& values, Row* row, bool check) -> Status {
      for (int i = 0; i < values.size(); ++i) {
        if (values[i].kind_case() == wire::Value::KIND_NOT_SET) continue;
        const std::string& col = shape.columns(i);
        if (check && !row->contains(col)) (*row)[col] = AddedDefault(shape.name(), col);
        if (check && (*row)[col] != values[i].SerializeAsString()) {
          return Status::Internal(fmt::format("{}.{}: old value differs", shape.name(), col));
        }
        if (!check) (*row)[col] = values[i].SerializeAsString();
      }
      return Status::OK();
    };
    if (c.op() == wire::RowChange::INSERT) {
      if (it != table.end()) {
        return Status::Internal(fmt::format("{}: INSERT of a present key", shape.name()));
      }
      return fill(c.new_values(), &table[k], false);
    }
    if (it == table.end()) {
      return Status::Internal(fmt::format("{}: change of an absent key", shape.name()));
    }
    SQLIFT_RETURN_IF_ERROR(fill(c.old_values(), &it->second, true));
    if (c.op() == wire::RowChange::DELETE) {
      table.erase(it);
      return Status::OK();
    }
    return fill(c.new_values(), &it->second, false);
  }

  std::string AddedDefault(const std::string& table, const std::string& column) const {
    auto t = added_defaults_.find(table);
    if (t == added_defaults_.end()) return "(no default)";
    auto c = t->second.find(column);
    return c == t->second.end() ? "(no default)" : c->second;
  }

  // SQLite's tables in the model's form: the columns table_info lists (generated ones are
  // computed, never captured).
  std::map<std::string, Table> Actual() {
    std::map<std::string, Table> out;
    for (const auto& [table, pk] : keys_) {
      auto columns = app_->Prepare(
          "SELECT group_concat('\"' || replace(name, '\"', '\"\"') || '\"', ', ') FROM "
          "pragma_table_info(?1)");
      if (!columns.ok() || !columns->BindText(1, table).ok() || !*columns->Step()) continue;
      if (columns->IsNull(0)) continue;  // not created (yet)
      const std::string list(columns->ColumnText(0));
      auto stmt =
          app_->Prepare(fmt::format("SELECT {} FROM {}", list, QuoteSqliteIdentifier(table)));
      if (!stmt.ok()) continue;  // not created (yet)
      Table& t = out[table];
      while (*stmt->Step()) {
        Row row;
        wire::Row key;
        for (int i = 0; i < stmt->ColumnCount(); ++i) {
          wire::Value v = ColumnToWire(stmt->handle(), i);
          const std::string col = sqlite3_column_name(stmt->handle(), i);
          row[col] = v.SerializeAsString();
        }
        for (const std::string& col : pk) {
          for (int i = 0; i < stmt->ColumnCount(); ++i) {
            if (col == sqlite3_column_name(stmt->handle(), i))
              *key.add_values() = ColumnToWire(stmt->handle(), i);
          }
        }
        t[key.SerializeAsString()] = std::move(row);
      }
    }
    return out;
  }

  void RandomTransaction(std::mt19937& rng);
  void ReplayRandomWorkload();
  void ReplayAWriterThatNeverPauses();

  state::testing::TempDir tmp_;  // removed with its contents after the test
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteDb> app_;
  std::unique_ptr<state::ChangeLog> log_;
  std::unique_ptr<WalCaptureAgent> agent_;
  uint64_t wal_restarts_ = 0;  // of the agents OpenAgent replaced
  bool restart_wal_ = true;    // the agents OpenAgent opens let the WAL restart
  int reverse_keys_ = 0;       // row changes of REVERSE transactions seen by Replay
  // The tables Actual reads, with their primary key columns.
  std::map<std::string, std::vector<std::string>> keys_ = {
      {"users", {"id"}}, {"tags", {"code"}},  {"seats", {"seat", "row_no"}},
      {"extra", {"k"}},  {"notes", {"slug"}}, {"calc", {"id"}}};
  // Columns added by ALTER TABLE: table -> column -> serialized value of rows older than it.
  std::map<std::string, Row> added_defaults_;
};

}  // namespace sqlift::testing_wal
