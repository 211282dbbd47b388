#include "capture/agent/capture_agent.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "capture/agent/testing/session_writer.h"
#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/outbox.h"
#include "state/keys.h"

namespace sqlift {
namespace {

class CaptureAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sqlift_agent_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "app.db").string();
    auto db = SqliteDb::Open(path_, SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok());
    app_ = std::move(db).value();
    ASSERT_TRUE(app_->Exec("PRAGMA journal_mode=WAL").ok());
    ASSERT_TRUE(outbox::CreateTables(app_->handle()).ok());
    writer_ = std::make_unique<testing::SessionWriter>(app_->handle());
    writer_->Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, note TEXT)");
    log_ = state::NewMemChangeLog();
  }
  void TearDown() override {
    writer_.reset();
    app_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Txn(const std::string& sql, const std::vector<testing::SessionWriter::Param>& params = {}) {
    writer_->Begin();
    writer_->Exec(sql, params);
    writer_->Commit();
  }

  std::unique_ptr<CaptureAgent> OpenAgent() {
    CaptureAgentOptions o;
    o.sqlite_path = path_;
    o.batch_rows = 3;  // several batches per drain
    auto agent = CaptureAgent::Open(o, log_.get());
    EXPECT_TRUE(agent.ok()) << agent.status().ToString();
    return agent.ok() ? std::move(agent).value() : nullptr;
  }

  std::vector<wire::ChangeBatch> Records() {
    std::vector<wire::ChangeBatch> out;
    Status st = log_->Scan(1, UINT64_MAX, [&](uint64_t seq, std::string_view v) {
      wire::ChangeBatch b;
      EXPECT_TRUE(b.ParseFromArray(v.data(), static_cast<int>(v.size())));
      EXPECT_EQ(b.first_seq(), seq);
      out.push_back(std::move(b));
      return Status::OK();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  int64_t OutboxRows() { return *app_->QueryInt64("SELECT count(*) FROM _sqlift_outbox"); }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteDb> app_;
  std::unique_ptr<testing::SessionWriter> writer_;
  std::unique_ptr<state::ChangeLog> log_;
};

TEST_F(CaptureAgentTest, DrainsEveryCommittedTransactionInOrderThenTrims) {
  for (int i = 1; i <= 7; ++i) {
    Txn("INSERT INTO users VALUES (?1, ?2, NULL)", {int64_t{i}, "u" + std::to_string(i)});
  }
  writer_->Begin();
  writer_->Exec("INSERT INTO users VALUES (100, 'rolled back', NULL)");
  writer_->Rollback();
  auto agent = OpenAgent();
  ASSERT_TRUE(agent);
  Result<DrainStats> stats = agent->DrainAvailable();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->transactions, 7u);
  EXPECT_EQ(stats->changes, 7u);
  EXPECT_EQ(stats->logged_seq, 7u);
  EXPECT_EQ(OutboxRows(), 0);
  EXPECT_EQ(*log_->GetPosition(state::kMetaLoggedSeq), 7u);

  std::vector<wire::ChangeBatch> records = Records();
  ASSERT_EQ(records.size(), 7u);
  // The first record starts with the definition of every captured table.
  ASSERT_EQ(records[0].transactions_size(), 2);
  EXPECT_EQ(records[0].transactions(0).kind(), wire::Transaction::DDL);
  EXPECT_EQ(records[0].transactions(0).ddl_table(), "users");
  for (size_t i = 0; i < records.size(); ++i) {
    const wire::Transaction& t = *records[i].transactions().rbegin();
    EXPECT_EQ(t.kind(), wire::Transaction::CHANGES);
    EXPECT_EQ(t.seq(), i + 1);
    ASSERT_EQ(t.changes_size(), 1);
    EXPECT_EQ(t.changes(0).new_values(1).text(), "u" + std::to_string(i + 1));
    const wire::TableShape& shape = records[i].tables(0);
    EXPECT_EQ(shape.name(), "users");
    ASSERT_EQ(shape.columns_size(), 3);
    EXPECT_EQ(shape.columns(1), "name");
  }
}

TEST_F(CaptureAgentTest, AddColumnLogsDdlBeforeTheFirstChangeWithTheNewShape) {
  Txn("INSERT INTO users VALUES (1, 'a', NULL)");
  auto agent = OpenAgent();
  ASSERT_TRUE(agent->DrainAvailable().ok());
  Txn("UPDATE users SET name = 'b' WHERE id = 1");  // seq 2, old shape
  writer_->Exec("ALTER TABLE users ADD COLUMN email TEXT");
  Txn("INSERT INTO users VALUES (2, 'c', NULL, 'c@x')");  // seq 3, new shape
  Result<DrainStats> stats = agent->DrainAvailable();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->ddl_events, 1u);
  std::vector<wire::ChangeBatch> records = Records();
  ASSERT_EQ(records.size(), 3u);
  ASSERT_EQ(records[1].transactions_size(), 1);  // no DDL before the old-shape change
  EXPECT_EQ(records[1].tables(0).columns_size(), 3);
  ASSERT_EQ(records[2].transactions_size(), 2);
  EXPECT_EQ(records[2].transactions(0).kind(), wire::Transaction::DDL);
  EXPECT_NE(records[2].transactions(0).ddl_sql().find("email"), std::string::npos);
  EXPECT_EQ(records[2].tables(0).columns_size(), 4);
  EXPECT_EQ(records[2].tables(0).columns(3), "email");
}

TEST_F(CaptureAgentTest, GapInSeqsStopsWithTheSeqs) {
  Txn("INSERT INTO users VALUES (1, 'a', NULL)");
  Txn("INSERT INTO users VALUES (2, 'b', NULL)");
  Txn("INSERT INTO users VALUES (3, 'c', NULL)");
  writer_->Exec("DELETE FROM _sqlift_outbox WHERE seq = 2");
  auto agent = OpenAgent();
  Result<DrainStats> stats = agent->DrainAvailable();
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Status::Code::kCorruption);
  EXPECT_NE(stats.status().message().find("expected seq 2, found seq 3"), std::string::npos)
      << stats.status().ToString();
  // Nothing past the gap is logged, nothing unlogged is trimmed.
  EXPECT_EQ(*log_->GetPosition(state::kMetaLoggedSeq), 1u);
  EXPECT_EQ(OutboxRows(), 1);
}

TEST_F(CaptureAgentTest, UnreadableChangesetStopsWithItsSeq) {
  Txn("INSERT INTO users VALUES (1, 'a', NULL)");
  writer_->Exec("INSERT INTO _sqlift_outbox(committed_at, kind, payload) VALUES (0, 1, x'54ff')");
  auto agent = OpenAgent();
  Result<DrainStats> stats = agent->DrainAvailable();
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().ToString().find("decode outbox seq 2"), std::string::npos)
      << stats.status().ToString();
  // Everything before the damaged row is logged; the damaged row stays in the outbox.
  EXPECT_EQ(*log_->GetPosition(state::kMetaLoggedSeq), 1u);
  EXPECT_EQ(OutboxRows(), 1);
}

TEST_F(CaptureAgentTest, RefusesALogBehindTheTrimmedOutbox) {
  Txn("INSERT INTO users VALUES (1, 'a', NULL)");
  ASSERT_TRUE(OpenAgent()->DrainAvailable().ok());
  log_ = state::NewMemChangeLog();  // the state directory was replaced
  CaptureAgentOptions o;
  o.sqlite_path = path_;
  auto agent = CaptureAgent::Open(o, log_.get());
  ASSERT_FALSE(agent.ok());
  EXPECT_EQ(agent.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(agent.status().message().find("trimmed the outbox"), std::string::npos);
}

TEST_F(CaptureAgentTest, RestartRewritesNothingAndGoesOn) {
  Txn("INSERT INTO users VALUES (1, 'a', NULL)");
  ASSERT_TRUE(OpenAgent()->DrainAvailable().ok());
  Txn("INSERT INTO users VALUES (2, 'b', NULL)");
  auto agent = OpenAgent();
  Result<DrainStats> stats = agent->DrainAvailable();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->transactions, 1u);
  EXPECT_EQ(stats->logged_seq, 2u);
  EXPECT_EQ(stats->ddl_events, 0u);  // the definition was logged by the first agent
  EXPECT_EQ(Records().size(), 2u);
}

TEST_F(CaptureAgentTest, EdgeValuesAndOddNamesSurviveTheLog) {
  writer_->Exec(
      "CREATE TABLE \"we\"\"ird tåble\" (\"k \"\"ey\" INTEGER PRIMARY KEY, "
      "\"vålue\", \"b\")");
  const std::string big(10 * 1024 * 1024 + 3, '\x5a');
  writer_->Begin();
  writer_->Exec(
      "INSERT INTO \"we\"\"ird tåble\" VALUES (-9223372036854775808, NULL, x'00ff'), "
      "(9223372036854775807, '', NULL), (0, 1.7976931348623157e308, 4.9e-324), "
      "(1, CAST(x'610062ff' AS TEXT), 9e999), (2, -0.0, zeroblob(0))");
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(app_->handle(), "INSERT INTO \"we\"\"ird tåble\" VALUES (3, 'big', ?1)",
                         -1, &stmt, nullptr),
      SQLITE_OK);
  sqlite3_bind_blob(stmt, 1, big.data(), static_cast<int>(big.size()), SQLITE_STATIC);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  writer_->Commit();
  auto agent = OpenAgent();
  ASSERT_TRUE(agent->DrainAvailable().ok());
  std::vector<wire::ChangeBatch> records = Records();
  ASSERT_EQ(records.size(), 1u);
  const wire::ChangeBatch& b = records[0];
  const wire::TableShape* shape = nullptr;
  for (const auto& t : b.tables()) {
    if (t.name() == "we\"ird tåble") shape = &t;
  }
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(shape->columns(0), "k \"ey");
  EXPECT_EQ(shape->columns(1), "vålue");
  std::map<int64_t, const wire::RowChange*> by_key;
  for (const auto& c : b.transactions().rbegin()->changes()) {
    if (b.tables(c.table_index()).name() == shape->name()) by_key[c.pk(0).integer()] = &c;
  }
  ASSERT_EQ(by_key.size(), 6u);
  EXPECT_EQ(by_key[INT64_MIN]->new_values(1).kind_case(), wire::Value::kNull);
  EXPECT_EQ(by_key[INT64_MIN]->new_values(2).blob(), std::string("\0\xff", 2));
  EXPECT_EQ(by_key[INT64_MAX]->new_values(1).kind_case(), wire::Value::kText);
  EXPECT_EQ(by_key[INT64_MAX]->new_values(1).text(), "");
  EXPECT_EQ(by_key[0]->new_values(1).real(), 1.7976931348623157e308);
  EXPECT_EQ(by_key[0]->new_values(2).real(), 4.9e-324);
  EXPECT_EQ(by_key[1]->new_values(1).text(), std::string("a\0b\xff", 4));
  EXPECT_TRUE(std::isinf(by_key[1]->new_values(2).real()));
  EXPECT_TRUE(std::signbit(by_key[2]->new_values(1).real()));
  EXPECT_EQ(by_key[2]->new_values(2).kind_case(), wire::Value::kBlob);
  EXPECT_EQ(by_key[3]->new_values(2).blob(), big);
}

// Where `sqlift init` installed guard triggers, a table the application creates later gets its
// own once the agent sees the schema change; where it did not, the agent installs none.
TEST_F(CaptureAgentTest, TablesCreatedLaterGetGuardTriggers) {
  auto guards = [&] {
    return *app_->QueryInt64(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'orders'");
  };
  writer_->Exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, v TEXT)");
  auto agent = OpenAgent();
  ASSERT_NE(agent, nullptr);
  ASSERT_TRUE(agent->DrainAvailable().ok());
  EXPECT_EQ(guards(), 0);
  ASSERT_TRUE(InstallGuards(*app_, {"users"}, TenantScheme{}).ok());
  ASSERT_TRUE(agent->DrainAvailable().ok());
  EXPECT_EQ(guards(), 3);
  int64_t version = *app_->QueryInt64("PRAGMA schema_version");
  ASSERT_TRUE(agent->DrainAvailable().ok());  // up to date: nothing rewritten
  EXPECT_EQ(*app_->QueryInt64("PRAGMA schema_version"), version);
  ASSERT_TRUE(app_->Exec("INSERT INTO _sqlift_route VALUES ('*', 'postgres', 2, 0, 0)").ok());
  Status st = app_->Exec("INSERT INTO orders VALUES (1, 'x')");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(*app_->QueryInt64("SELECT count(*) FROM orders"), 0);
}

TEST_F(CaptureAgentTest, RetentionDropsOnlyAckedRecords) {
  for (int i = 1; i <= 5; ++i)
    Txn("INSERT INTO users VALUES (?1, 'x', NULL)", {int64_t{i}});
  CaptureAgentOptions o;
  o.sqlite_path = path_;
  o.retain_time = std::chrono::seconds(0);
  auto agent = CaptureAgent::Open(o, log_.get());
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->DrainAvailable().ok());
  ASSERT_TRUE((*agent)->ApplyRetention().ok());
  EXPECT_EQ(log_->Stats()->count, 5u);  // nothing acked yet
  ASSERT_TRUE(log_->SetPosition(state::kMetaAckedSeq, 3).ok());
  ASSERT_TRUE((*agent)->ApplyRetention().ok());
  Result<state::LogStats> s = log_->Stats();
  EXPECT_EQ(s->first_seq, 4u);
  EXPECT_EQ(s->count, 2u);
}

}  // namespace
}  // namespace sqlift
