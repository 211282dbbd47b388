// Recorder: what is refused, and how the recorder guards its hooks.
#include <gtest/gtest.h>

#include "capture/recorder/recorder.h"
#include "capture/recorder/recorder_testutil.h"

namespace sqlift {
namespace {

using namespace sqlift::testing;  // NOLINT
using RecorderTest = RecorderTestBase;
using Values = std::vector<std::optional<Value>>;

int SomeoneElsesHook(void*) {
  return 0;
}

// The rollback hook runs inside Flush() here (the outbox INSERT rolls the transaction back), so
// the session is retired rather than freed under the caller's feet.
TEST_F(RecorderTest, RollbackDuringFlush) {
  Exec(db_.get(),
       "CREATE TRIGGER no_outbox BEFORE INSERT ON _sqlift_outbox "
       "BEGIN SELECT RAISE(ROLLBACK, 'outbox refused'); END");
  Exec(db_.get(), "BEGIN; INSERT INTO items VALUES (1, 'apple', 3)");
  Result<int64_t> n = rec_->Flush();
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().ToString().find("outbox refused"), std::string::npos);
  EXPECT_TRUE(sqlite3_get_autocommit(db_.get()));
  EXPECT_EQ(rec_->Pending().value(), 0);

  Exec(db_.get(), "DROP TRIGGER no_outbox");
  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (2, 'pear', 5)", 1);
  std::vector<RowChange> changes = OutboxChanges(0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(Find(changes, "items", SQLITE_INSERT, 2), nullptr);
}

TEST_F(RecorderTest, CommitWithoutFlushIsRefusedAndNothingCommits) {
  Exec(db_.get(), "BEGIN; INSERT INTO items VALUES (1, 'apple', 3)");
  EXPECT_EQ(TryExec(db_.get(), "COMMIT"), SQLITE_CONSTRAINT_COMMITHOOK);
  EXPECT_TRUE(sqlite3_get_autocommit(db_.get()));  // SQLite rolled it back
  EXPECT_NE(rec_->last_refusal().find("sqlift_flush()"), std::string::npos);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM items"), 0);
  EXPECT_TRUE(ReadOutbox(db_.get()).empty());

  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (2, 'pear', 5)", 1);  // no leak either
  EXPECT_EQ(rec_->last_refusal(), "");
  std::vector<RowChange> changes = OutboxChanges(0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(Find(changes, "items", SQLITE_INSERT, 2), nullptr);
}

TEST_F(RecorderTest, WriteAfterFlushIsRefused) {
  Exec(db_.get(), "BEGIN; INSERT INTO items VALUES (1, 'apple', 3)");
  ASSERT_EQ(rec_->Flush().value(), 1);
  Exec(db_.get(), "INSERT INTO items VALUES (2, 'late', 0)");
  EXPECT_EQ(TryExec(db_.get(), "COMMIT"), SQLITE_CONSTRAINT_COMMITHOOK);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM items"), 0);
  EXPECT_TRUE(ReadOutbox(db_.get()).empty());
}

TEST_F(RecorderTest, AutocommitWriteToCapturedTableIsRefused) {
  EXPECT_EQ(TryExec(db_.get(), "INSERT INTO items VALUES (1, 'apple', 3)"),
            SQLITE_CONSTRAINT_COMMITHOOK);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM items"), 0);
  // Tables outside the capture take autocommit writes.
  Exec(db_.get(), "INSERT INTO skipped VALUES (1, 'x'); INSERT INTO _sqlift_private VALUES (1, 2)");
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM skipped"), 1);
}

TEST_F(RecorderTest, FlushOutsideTransactionIsRefused) {
  Result<int64_t> n = rec_->Flush();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), Status::Code::kFailedPrecondition);
}

TEST_F(RecorderTest, DiscardOnlyOutsideTransaction) {
  Exec(db_.get(), "BEGIN; INSERT INTO items VALUES (1, 'a', 1)");
  EXPECT_EQ(rec_->Discard().code(), Status::Code::kFailedPrecondition);
  Exec(db_.get(), "ROLLBACK");
  EXPECT_TRUE(rec_->Discard().ok());
  EXPECT_EQ(rec_->Pending().value(), 0);
}

TEST_F(RecorderTest, AttachRefusals) {
  DbPtr bare = OpenDb(dir_.Path("bare.db"), /*outbox=*/false);
  Result<std::unique_ptr<Recorder>> r = Recorder::Attach(bare.get());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("sqlift init"), std::string::npos);

  r = Recorder::Attach(db_.get());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("already has a recorder"), std::string::npos);
  rec_.reset();  // its hooks go with it
  EXPECT_EQ(TryExec(db_.get(), "INSERT INTO items VALUES (1, 'free', 0)"), SQLITE_OK);

  Exec(db_.get(), "BEGIN");
  EXPECT_FALSE(Recorder::Attach(db_.get()).ok());
  Exec(db_.get(), "ROLLBACK");

  int marker = 0;
  sqlite3_commit_hook(db_.get(), &SomeoneElsesHook, &marker);
  r = Recorder::Attach(db_.get());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("commit or rollback hook"), std::string::npos);
  sqlite3_commit_hook(db_.get(), nullptr, nullptr);
  EXPECT_TRUE(Recorder::Attach(db_.get()).ok());
}

TEST_F(RecorderTest, ReplacedHookIsReportedAtFlush) {
  Exec(db_.get(), "BEGIN; INSERT INTO items VALUES (1, 'a', 1)");
  sqlite3_commit_hook(db_.get(), &SomeoneElsesHook, nullptr);
  Result<int64_t> n = rec_->Flush();
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().ToString().find("replaced the recorder's hooks"), std::string::npos);
  Exec(db_.get(), "ROLLBACK");
}

// A fresh session per transaction reads each table's columns anew, so schema changes between
// transactions need nothing; a change after writing the table in the same transaction cannot
// be captured (SQLITE_SCHEMA) and its COMMIT is refused.
TEST_F(RecorderTest, SchemaChanges) {
  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (1, 'apple', 3)", 1);
  Exec(db_.get(), "ALTER TABLE items ADD COLUMN note TEXT");  // DDL is not captured
  Txn(db_.get(), *rec_, "INSERT INTO items VALUES (2, 'pear', 5, 'ripe')", 1);
  std::vector<RowChange> changes = OutboxChanges(1);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].new_values, (Values{Int(2), Text("pear"), Int(5), Text("ripe")}));

  Exec(db_.get(),
       "BEGIN; INSERT INTO items VALUES (3, 'fig', 1, NULL);"
       "ALTER TABLE items ADD COLUMN extra; INSERT INTO items VALUES (4, 'kiwi', 1, NULL, 0)");
  Result<int64_t> n = rec_->Flush();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), Status::Code::kAborted) << n.status().ToString();
  EXPECT_EQ(TryExec(db_.get(), "COMMIT"), SQLITE_CONSTRAINT_COMMITHOOK);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM items"), 2);
  EXPECT_EQ(ReadOutbox(db_.get()).size(), 2u);
}

// sqlite3_close_v2() before the recorder goes: the connection lingers until the recorder's
// statement is finalized, which must come after everything else that touches it.
TEST_F(RecorderTest, ConnectionClosedFirst) {
  Exec(db_.get(), "BEGIN; INSERT INTO items VALUES (1, 'a', 1)");
  EXPECT_EQ(sqlite3_close_v2(db_.release()), SQLITE_OK);
  rec_.reset();
  DbPtr db = OpenDb(dir_.Path("app.db"), false);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM items"), 0);
}

// A cutover's fence is (sqlite, fenced), a fallback's (postgres, fenced). Either way RouteFor
// says fenced (wait and ask again) and a flush of the tenant's rows is a retry (Unavailable,
// SQLITE_BUSY through the C API), never "routed to postgres", which would send it away.
TEST_F(RecorderTest, FencedRouteIsARetryWhateverItsSide) {
  Exec(db_.get(), "INSERT INTO _sqlift_state (key, value) VALUES ('tenant_column', 'name')");
  DbPtr db = OpenDb(dir_.Path("app.db"), false);
  std::unique_ptr<Recorder> rec = Attach(db.get());  // reads the tenant scheme
  for (const std::string side : {"sqlite", "postgres"}) {
    Exec(db.get(), "INSERT OR REPLACE INTO _sqlift_route VALUES ('acme', '" + side +
                       "', 7, 1, 0), ('*', '" + side + "', 7, 1, 0)");
    for (const char* tenant : {"acme", "initech"}) {  // its own route; the whole database's
      Result<RouteRow> route = rec->RouteFor(tenant);
      ASSERT_TRUE(route.ok()) << route.status().ToString();
      EXPECT_TRUE(route->fenced) << side << " " << tenant;
      EXPECT_FALSE(route->sqlite_writable()) << side << " " << tenant;
      EXPECT_EQ(route->side, side);
      EXPECT_EQ(route->epoch, 7);
    }
    for (const std::string tenant : {"acme", "initech"}) {
      Exec(db.get(), "BEGIN IMMEDIATE; INSERT INTO items VALUES (1, '" + tenant + "', 1)");
      Result<int64_t> n = rec->Flush();
      EXPECT_EQ(n.status().code(), Status::Code::kUnavailable) << side << " " << tenant;
      EXPECT_NE(n.status().message().find("is being switched (route epoch 7)"), std::string::npos)
          << n.status().ToString();
      EXPECT_NE(n.status().message().find("retry shortly"), std::string::npos);
      Exec(db.get(), "ROLLBACK");
    }
  }
  Exec(db.get(), "UPDATE _sqlift_route SET fenced = 0");  // the flip: now it says where to go
  Exec(db.get(), "BEGIN IMMEDIATE; INSERT INTO items VALUES (1, 'acme', 1)");
  EXPECT_EQ(rec->Flush().status().code(), Status::Code::kFailedPrecondition);
  Exec(db.get(), "ROLLBACK");
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM items"), 0);
  EXPECT_TRUE(ReadOutbox(db.get()).empty());
}

}  // namespace
}  // namespace sqlift
