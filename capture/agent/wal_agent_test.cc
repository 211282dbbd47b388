// WalCaptureAgent against SQLite itself: a seeded random workload commits transactions through
// a plain connection (no recorder, no trigger), the agent drains the WAL now and then and is
// reopened (a restart) from time to time; the log, replayed strictly onto a model (an INSERT's
// key must be free, an UPDATE's and DELETE's old values must be there), must equal every table
// as SQLite reads it. Replay a failure with SQLIFT_WAL_SEED=<seed printed by the run>.
#include "capture/agent/wal_agent.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "capture/agent/route_writer.h"
#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/outbox.h"
#include "capture/snapshot/wire_value.h"

namespace sqlift {
namespace {

using Row = std::map<std::string, std::string>;  // column -> serialized wire::Value
using Table = std::map<std::string, Row>;        // serialized key -> row

uint32_t Seed() {
  const char* env = std::getenv("SQLIFT_WAL_SEED");
  return env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
}

class WalAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sqlift_wal_agent_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
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
    std::filesystem::remove_all(dir_);
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

  static Status ApplyChange(const wire::TableShape& shape, const wire::RowChange& c,
                            std::map<std::string, Table>* model) {
    wire::Row key;
    *key.mutable_values() = c.pk();
    Table& table = (*model)[shape.name()];
    const std::string k = key.SerializeAsString();
    auto it = table.find(k);
    auto fill = [&](const auto& values, Row* row, bool check) -> Status {
      for (int i = 0; i < values.size(); ++i) {
        if (values[i].kind_case() == wire::Value::KIND_NOT_SET) continue;
        const std::string& col = shape.columns(i);
        if (check && (*row)[col] != values[i].SerializeAsString()) {
          return Status::Internal(shape.name() + "." + col + ": old value differs");
        }
        if (!check) (*row)[col] = values[i].SerializeAsString();
      }
      return Status::OK();
    };
    if (c.op() == wire::RowChange::INSERT) {
      if (it != table.end()) return Status::Internal(shape.name() + ": INSERT of a present key");
      return fill(c.new_values(), &table[k], false);
    }
    if (it == table.end()) return Status::Internal(shape.name() + ": change of an absent key");
    SQLIFT_RETURN_IF_ERROR(fill(c.old_values(), &it->second, true));
    if (c.op() == wire::RowChange::DELETE) {
      table.erase(it);
      return Status::OK();
    }
    return fill(c.new_values(), &it->second, false);
  }

  // SQLite's tables in the model's form: the columns table_info lists (generated ones are
  // computed, never captured).
  std::map<std::string, Table> Actual() {
    std::map<std::string, Table> out;
    const std::map<std::string, std::vector<std::string>> keys = {
        {"users", {"id"}}, {"tags", {"code"}},  {"seats", {"seat", "row_no"}},
        {"extra", {"k"}},  {"notes", {"slug"}}, {"calc", {"id"}}};
    for (const auto& [table, pk] : keys) {
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

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteDb> app_;
  std::unique_ptr<state::ChangeLog> log_;
  std::unique_ptr<WalCaptureAgent> agent_;
  uint64_t wal_restarts_ = 0;  // of the agents OpenAgent replaced
  bool immediate_ = false;     // RandomTransaction begins with BEGIN IMMEDIATE
  int reverse_keys_ = 0;       // row changes of REVERSE transactions seen by Replay
};

void WalAgentTest::RandomTransaction(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const int id = pick(60), code = pick(40), row_no = pick(8);
  const std::string blob_len = std::to_string(pick(4) == 0 ? 9000 : 10);
  const std::vector<std::string> statements = {
      fmt::format("INSERT OR REPLACE INTO users VALUES ({}, 'u{}', {}, randomblob({}))", id,
                  pick(100), pick(5) == 0 ? "3" : "2.5", blob_len),
      fmt::format("UPDATE users SET name = name || 'x', score = score + 1 WHERE id = {}", id),
      fmt::format("DELETE FROM users WHERE id BETWEEN {} AND {}", id, id + pick(3)),
      fmt::format("UPDATE users SET id = {} WHERE id = {} AND {} NOT IN (SELECT id FROM users)",
                  id + 100, id, id + 100),
      fmt::format("INSERT OR REPLACE INTO tags VALUES ('c{}', 'l{}')", code, pick(9)),
      fmt::format("UPDATE tags SET code = 'n{}' WHERE code = 'c{}' AND NOT EXISTS "
                  "(SELECT 1 FROM tags WHERE code = 'n{}')",
                  code, code, code),
      fmt::format("DELETE FROM tags WHERE code = 'c{}'", code),
      fmt::format("INSERT OR REPLACE INTO seats VALUES ({}, 's{}', 'h{}')", row_no, pick(6),
                  pick(50)),
      fmt::format("UPDATE seats SET holder = NULL WHERE row_no = {}", row_no),
      fmt::format("DELETE FROM seats WHERE seat = 's{}'", pick(6)),
      fmt::format("INSERT OR REPLACE INTO notes (slug, body, n, tail) VALUES ('{}{}', 'b{}', {}, "
                  "'t{}')",
                  pick(2) ? "S" : "s", code, pick(9), pick(100), pick(5)),
      fmt::format("UPDATE notes SET n = n + 1, tail = tail || 'x' WHERE slug = 's{}'", code),
      fmt::format("UPDATE notes SET slug = {}(slug) WHERE slug = 's{}'",
                  pick(2) ? "upper" : "lower", code),
      fmt::format("DELETE FROM notes WHERE slug = 'S{}'", code),
      fmt::format("INSERT OR REPLACE INTO calc (id, a, b, c) VALUES ({}, {}, 'b{}', {})", id,
                  pick(1000), pick(9), pick(3) ? "0.5" : "NULL"),
      fmt::format("UPDATE calc SET a = a + 1, c = 1.25 WHERE id = {}", id),
      fmt::format("DELETE FROM calc WHERE id = {}", id),
  };
  // IMMEDIATE: a deferred transaction that read before another connection committed (the
  // agent's own write when it restarts the WAL) fails with SQLITE_BUSY_SNAPSHOT.
  Exec(immediate_ ? "BEGIN IMMEDIATE" : "BEGIN");
  for (int n = 1 + pick(4); n > 0; --n)
    Exec(statements[static_cast<size_t>(pick(static_cast<int>(statements.size())))]);
  Exec("COMMIT");
}

TEST_F(WalAgentTest, TheLogReplaysToWhatSqliteHolds) {
  const uint32_t seed = Seed();
  std::printf("wal_agent_test seed: %u (replay with SQLIFT_WAL_SEED=%u)\n", seed, seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  ASSERT_TRUE(OpenAgent().ok());
  for (int n = 1; n <= 1500; ++n) {
    RandomTransaction(rng);
    if (n == 400) Exec("CREATE TABLE extra (k TEXT PRIMARY KEY, v INT)");
    if (n > 400 && n % 3 == 0)
      Exec(fmt::format("INSERT OR REPLACE INTO extra VALUES ('k{}', {})", n % 17, n));
    if (n == 900) Exec("VACUUM");  // renumbers the rowids of `tags`, whose key is not the rowid
    if (n % 50 == 0) {
      auto drained = agent_->DrainAvailable();
      ASSERT_TRUE(drained.ok()) << "transaction " << n << ": " << drained.status().ToString();
    }
    if (n % 230 == 0) {
      Status st = OpenAgent();  // a restart, with the application's connection still open
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }
  auto drained = agent_->DrainAvailable();
  ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::map<std::string, Table> actual = Actual();
  for (auto& [name, rows] : actual) {
    EXPECT_EQ((*model)[name].size(), rows.size()) << name;
    EXPECT_TRUE((*model)[name] == rows) << name << " differs from the replayed log";
  }
}

// A writer that commits without a pause while the agent runs: the log still replays to
// SQLite's tables.
TEST_F(WalAgentTest, ARunningAgentLogsAWriterThatNeverPauses) {
  ASSERT_TRUE(OpenAgent(nullptr, [](CaptureAgentOptions& o) { o.batch_rows = 512; }).ok());
  immediate_ = true;  // the application's writes race the agent's
  Status run;
  std::thread runner([&] { run = agent_->Run(); });
  std::mt19937 rng(7);
  uintmax_t wal_max = 0;
  for (int n = 1; n <= 3000; ++n) {
    RandomTransaction(rng);
    std::error_code ec;
    wal_max = std::max(wal_max, std::filesystem::file_size(path_ + "-wal", ec));
  }
  agent_->Stop();
  runner.join();
  ASSERT_TRUE(run.ok()) << run.ToString();
  const uint64_t restarts = agent_->wal_restarts();
  const double held_ms = agent_->writers_held_max_ms();
  // Restarts need the agent at the WAL's end between two commits; how often that happens
  // depends on the machine, so the count is reported, and the replay is what is asserted.
  std::printf("WAL restarts: %llu, the WAL at most %ju bytes, writers held at most %.2f ms\n",
              static_cast<unsigned long long>(restarts), wal_max, held_ms);
  // A stopped agent drains one batch at a time; a new one drains what is left.
  ASSERT_TRUE(OpenAgent().ok());
  auto drained = agent_->DrainAvailable();
  ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  for (auto& [name, rows] : Actual())
    EXPECT_TRUE((*model)[name] == rows) << name << " differs from the replayed log";
}

TEST_F(WalAgentTest, RoutesAreLoggedAndTheReverseAppliersWritesAreLoggedAsReverse) {
  ASSERT_TRUE(OpenAgent().ok());
  ASSERT_TRUE(CommitRoute(*app_, RouteRow{"*", "sqlite", 1, true, 0}).ok());
  Exec("BEGIN");
  ASSERT_TRUE(OpenGuardPass(*app_).ok());
  Exec("INSERT INTO users VALUES (1, 'from postgres', 1, NULL)");
  ASSERT_TRUE(CloseGuardPass(*app_).ok());
  Exec("COMMIT");
  Exec("INSERT INTO users VALUES (2, 'from the application', 1, NULL)");
  auto drained = agent_->DrainAvailable();
  ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  EXPECT_EQ(drained->route_events, 1u);
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)["users"].size(), 1u);  // the reverse applier's row is never applied
  EXPECT_EQ(reverse_keys_, 1);              // but its key is logged, for the switches' checks
  auto routes = log_->Routes();
  ASSERT_TRUE(routes.ok());
  ASSERT_EQ(routes->size(), 1u);
  EXPECT_EQ((*routes)[0].tenant, "*");
}

TEST_F(WalAgentTest, AWalGoneWhileStoppedIsAGapNotASilentSkip) {
  ASSERT_TRUE(OpenAgent().ok());
  Exec("INSERT INTO users VALUES (1, 'a', 1, NULL)");
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  agent_.reset();
  Exec("INSERT INTO users VALUES (2, 'b', 1, NULL)");
  Exec("PRAGMA wal_checkpoint(TRUNCATE)");  // the WAL restarts with the row in the file only
  Exec("INSERT INTO users VALUES (3, 'c', 1, NULL)");
  Status st = OpenAgent();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("checkpointed and restarted while the agent was stopped"),
            std::string::npos)
      << st.ToString();
}

TEST_F(WalAgentTest, AGapIsRepairedAtTheWalsEndAndStreamingGoesOn) {
  ASSERT_TRUE(OpenAgent().ok());
  Exec("INSERT INTO users VALUES (1, 'a', 1, NULL)");
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  const uint64_t before = agent_->logged_seq();
  agent_.reset();
  Exec("INSERT INTO users VALUES (2, 'b', 1, NULL)");
  Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  Exec("INSERT INTO users VALUES (3, 'c', 1, NULL)");
  int64_t seen = -1;
  uint64_t asked_at = 0;
  // A stand-in for the comparison with PostgreSQL: it sees the snapshot and returns the rows
  // the log lacks, as INSERTs.
  auto repair = [&](SqliteDb& snapshot, uint64_t logged_seq) -> Result<GapRepair> {
    SQLIFT_ASSIGN_OR_RETURN(seen, snapshot.QueryInt64("SELECT count(*) FROM users"));
    asked_at = logged_seq;
    GapRepair r;
    wire::TableShape* shape = r.batch.add_tables();
    shape->set_name("users");
    for (const char* c : {"id", "name", "score", "photo"})
      shape->add_columns(c);
    shape->add_pk_columns(0);
    wire::Transaction* t = r.batch.add_transactions();
    t->set_kind(wire::Transaction::CHANGES);
    for (int64_t id : {2, 3}) {
      wire::RowChange* c = t->add_changes();
      c->set_op(wire::RowChange::INSERT);
      c->add_pk()->set_integer(id);
      c->add_new_values()->set_integer(id);
      c->add_new_values()->set_text(id == 2 ? "b" : "c");
      c->add_new_values()->set_real(1);
      c->add_new_values()->mutable_null();
    }
    r.rows = 2;
    r.summary = "2 inserted";
    return r;
  };
  Status st = OpenAgent(repair);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(asked_at, before);
  Exec("INSERT INTO users VALUES (4, 'd', 1, NULL)");
  ASSERT_TRUE(agent_->DrainAvailable().ok());
  auto model = Replay();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_TRUE((*model)["users"] == Actual()["users"]);
  auto repairs = log_->GetMeta(kMetaWalRepairs);
  ASSERT_TRUE(repairs.ok());
  EXPECT_EQ(repairs->substr(0, 4), "1 2 ");
}

TEST_F(WalAgentTest, ATableWithoutPrimaryKeyStopsTheAgent) {
  ASSERT_TRUE(OpenAgent().ok());
  Exec("CREATE TABLE loose (a, b)");
  Exec("INSERT INTO loose VALUES (1, 2)");
  auto drained = agent_->DrainAvailable();
  ASSERT_FALSE(drained.ok());
  EXPECT_NE(drained.status().message().find("table loose has no primary key"), std::string::npos)
      << drained.status().ToString();
}

}  // namespace
}  // namespace sqlift
