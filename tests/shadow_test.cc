// `sqlift shadow` against a throwaway PostgreSQL: a SQLite database copied with `sqlift copy`,
// the application's reads sampled by the real ShadowSampler, then replayed. Queries that mean
// the same on both sides match (counts, joins, numeric aggregates, booleans, timestamps, a bound
// blob); a value planted in PostgreSQL makes its query different, with the rows; SQLite-only SQL
// is "not valid on PostgreSQL" with a count; a NULL-ordering ORDER BY is an order difference;
// the held form reads both sides at the SQLite snapshot's position; and the binary's exit codes
// and output.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "apply/pg_sink/pg_state_schema.h"
#include "capture/outbox/outbox.h"
#include "capture/recorder/recorder.h"
#include "capture/recorder/transaction.h"
#include "capture/shadow_sampler/shadow_sampler.h"
#include "common/pg/pg_connection.h"
#include "common/process/process.h"
#include "common/sqlite/sqlite_db.h"
#include "tools/sandbox/pg_suite_test.h"
#include "tools/shadow/shadow_replay.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;

constexpr char kSchema[] = R"(
PRAGMA journal_mode=WAL;
CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT NOT NULL, capacity INTEGER,
                    price DECIMAL(10,2), active BOOLEAN, note TEXT);
CREATE TABLE bookings (id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL REFERENCES rooms(id),
                       who TEXT, starts DATETIME, data BLOB);
CREATE TABLE extras (id INTEGER PRIMARY KEY, label TEXT);
INSERT INTO rooms VALUES (1, 'Blue', 6, 12.5, 1, 'quiet'), (2, 'Red', 4, 9, 0, NULL),
                         (3, 'Sun', 8, 20.25, 1, 'view');
INSERT INTO bookings VALUES (1, 1, 'ann', '2026-11-22 09:00:00', x'00ff'),
                            (2, 1, 'bob', '2026-11-23T10:30:00Z', x'01'),
                            (3, 3, 'it''s', 1763800000, NULL);
INSERT INTO extras VALUES (1, 'one'), (2, 'two');
)";

// One application query and its parameters: bound as text; "blob:" + bytes as a blob.
struct Bound {
  std::string sql;
  std::vector<std::string> text_args;
};

class ShadowTest : public PgSuiteTest {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sqlift_shadow_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    sqlite_ = (dir_ / "app.db").string();
    log_ = (dir_ / "shadow.log").string();
    auto db = SqliteDb::Open(sqlite_, SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Exec(kSchema).ok());
    auto uri = pg_->CreateDatabase("shadow_" + std::to_string(++databases_));
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
    conn_ = std::move(PgConnection::Connect(uri_, std::chrono::seconds(10))).value();
    process::Output p = Sqlift({"copy", "--sqlite", sqlite_, "--pg", uri_});
    ASSERT_EQ(p.exit_code, 0) << p.out << p.err;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static process::Output Sqlift(std::vector<std::string> args) {
    args.insert(args.begin(), SQLIFT_BINARY);
    Result<process::Output> r = process::RunCaptured(args);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : process::Output{};
  }

  // The application: its reads, on its own connection, through a sampler at rate 1, with
  // their parameters bound as the application would bind them.
  void RunApplication(const std::vector<Bound>& queries) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(sqlite_.c_str(), &db), SQLITE_OK);
    {
      auto s = ShadowSampler::Attach(db, {1.0, log_, 1, 1 << 20});
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      for (const Bound& q : queries) {
        sqlite3_stmt* stmt = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(db, q.sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
            << q.sql << ": " << sqlite3_errmsg(db);
        for (size_t i = 0; i < q.text_args.size(); ++i) {
          const std::string& a = q.text_args[i];
          if (a.rfind("blob:", 0) == 0) {
            sqlite3_bind_blob(stmt, static_cast<int>(i + 1), a.data() + 5,
                              static_cast<int>(a.size() - 5), SQLITE_TRANSIENT);
          } else {
            sqlite3_bind_text(stmt, static_cast<int>(i + 1), a.c_str(), -1, SQLITE_TRANSIENT);
          }
        }
        while (sqlite3_step(stmt) == SQLITE_ROW) {
        }
        sqlite3_finalize(stmt);
      }
    }
    sqlite3_close(db);
  }

  ShadowReport Replay(const std::string& source = "") {
    ShadowSpec spec;
    spec.sqlite = sqlite_, spec.pg = uri_, spec.log_path = log_, spec.source = source;
    Result<ShadowReport> r = RunShadowReplay(spec);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : ShadowReport{};
  }

  static const QueryReport* Find(const ShadowReport& r, const std::string& prefix) {
    for (const QueryReport& q : r.queries) {
      if (q.sql.rfind(prefix, 0) == 0) return &q;
    }
    ADD_FAILURE() << "no replayed query starts with " << prefix;
    return nullptr;
  }

  void PgExec(const std::string& sql) {
    Status st = conn_->Exec(sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  inline static int databases_ = 0;
  fs::path dir_;
  std::string sqlite_, log_, uri_;
  std::unique_ptr<PgConnection> conn_;
};

const std::vector<Bound> kMatching = {
    {"SELECT count(*) FROM bookings", {}},
    {"SELECT count(*) FROM bookings", {}},
    {"SELECT r.name, count(b.id) FROM rooms r JOIN bookings b ON b.room_id = r.id "
     "GROUP BY r.name",
     {}},
    {"SELECT sum(price), avg(capacity), max(price) FROM rooms", {}},
    {"SELECT id, active FROM rooms WHERE active ORDER BY id", {}},
    {"SELECT id, who, starts FROM bookings WHERE id <= ?1", {"3"}},
    {"SELECT id FROM bookings WHERE data = ?1", {std::string("blob:\x00\xff", 7)}},
    {"SELECT price FROM rooms WHERE name = ?1", {"Red"}},
};

TEST_F(ShadowTest, MatchingDifferentInvalidAndOrder) {
  std::vector<Bound> app = kMatching;
  app.push_back({"SELECT id, label FROM extras WHERE id >= ?1", {"1"}});
  app.push_back({"SELECT typeof(capacity) FROM rooms", {}});
  app.push_back({"SELECT strftime('%Y', starts) FROM bookings", {}});
  app.push_back({"SELECT group_concat(name) FROM rooms", {}});
  app.push_back({"SELECT group_concat(name) FROM rooms", {}});
  app.push_back({"SELECT id, note FROM rooms ORDER BY note", {}});
  RunApplication(app);
  PgExec("UPDATE extras SET label = 'planted' WHERE id = 2");
  // Entries nobody's application wrote: a table SQLite lacks, and a write (refused before
  // PostgreSQL ever sees it).
  std::ofstream(log_, std::ios::app) << "{\"at_us\":1,\"sql\":\"SELECT * FROM nosuch\"}\n"
                                     << "{\"at_us\":2,\"sql\":\"DELETE FROM extras\"}\n";

  ShadowReport r = Replay();
  EXPECT_FALSE(r.held);
  EXPECT_NE(r.note.find("one-shot"), std::string::npos) << r.note;
  EXPECT_EQ(r.entries, 16);
  EXPECT_EQ(r.queries.size(), 14u);
  for (const Bound& b : kMatching) {
    const QueryReport* q = Find(r, b.sql.substr(0, b.sql.find('?')));  // logged expanded
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->outcome, QueryOutcome::kMatched) << q->sql << ": " << q->message << q->rows.detail;
  }
  EXPECT_EQ(Find(r, "SELECT count(*)")->entries, 2);
  EXPECT_EQ(Find(r, "SELECT id FROM bookings")->pg_sql,
            "SELECT id FROM bookings WHERE data = '\\x00ff'::bytea");
  EXPECT_EQ(Find(r, "SELECT id FROM bookings")->sqlite_rows, 1);

  const QueryReport* planted = Find(r, "SELECT id, label FROM extras");
  ASSERT_NE(planted, nullptr);
  EXPECT_EQ(planted->outcome, QueryOutcome::kDifferent);
  EXPECT_EQ(*planted->rows.sqlite_row, (std::vector<std::string>{"2", "'two'"}));
  EXPECT_EQ(*planted->rows.pg_row, (std::vector<std::string>{"2", "'planted'"}));

  EXPECT_EQ(r.Count(QueryOutcome::kInvalidOnPg), 3);
  EXPECT_EQ(r.Entries(QueryOutcome::kInvalidOnPg), 4);
  const QueryReport* typeof_q = Find(r, "SELECT typeof");
  EXPECT_EQ(typeof_q->sqlstate, "42883");
  EXPECT_NE(typeof_q->message.find("typeof"), std::string::npos) << typeof_q->message;

  const QueryReport* order = Find(r, "SELECT id, note");
  EXPECT_EQ(order->outcome, QueryOutcome::kOrderDiffers) << order->rows.detail;
  EXPECT_EQ(order->rows.position, 0);
  EXPECT_EQ(*order->rows.sqlite_row, (std::vector<std::string>{"2", "NULL"}));

  EXPECT_EQ(Find(r, "SELECT * FROM nosuch")->outcome, QueryOutcome::kFailedOnSqlite);
  const QueryReport* write = Find(r, "DELETE FROM extras");
  EXPECT_EQ(write->outcome, QueryOutcome::kFailedOnSqlite);
  EXPECT_NE(write->message.find("refused"), std::string::npos) << write->message;
  auto count = conn_->Query("SELECT count(*) FROM extras");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->get(0, 0), "2");
  EXPECT_EQ(ShadowExitCode(r), 3);

  std::string text = ShadowReportText(r);
  EXPECT_NE(text.find("not valid on PostgreSQL: 3 queries (4 entries)"), std::string::npos) << text;
  EXPECT_NE(text.find("only on PostgreSQL: (2, 'planted')"), std::string::npos) << text;
}

TEST_F(ShadowTest, HeldFormReadsBothSidesAtTheSnapshotsPosition) {
  // Replicating, as far as PostgreSQL knows: the source has a position, and the change at seq 1
  // is applied on both sides (by hand here, as the applier would).
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(sqlite_.c_str(), &db), SQLITE_OK);
    ASSERT_TRUE(outbox::CreateTables(db).ok());
    auto rec = Recorder::Attach(db);
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    auto txn = Transaction::Begin(**rec);
    ASSERT_TRUE(txn.ok());
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO extras VALUES (3, 'three')", nullptr, nullptr, nullptr),
              SQLITE_OK);
    ASSERT_TRUE(txn->Commit().ok());
    rec->reset();
    sqlite3_close(db);
  }
  ASSERT_TRUE(EnsureStateSchema(*conn_).ok());
  PgExec(
      "INSERT INTO extras VALUES (3, 'three');"
      "INSERT INTO sqlift.positions (source, applied_seq) VALUES ('app', 1)");
  RunApplication({{"SELECT count(*), max(label) FROM extras", {}}});

  ShadowReport r = Replay("app");
  EXPECT_TRUE(r.held) << r.note;
  EXPECT_EQ(r.position, 1);
  ASSERT_EQ(r.queries.size(), 1u);
  EXPECT_EQ(r.queries[0].outcome, QueryOutcome::kMatched) << r.queries[0].rows.detail;
  EXPECT_EQ(ShadowExitCode(r), 0);
  auto hold = conn_->Query("SELECT hold_seq IS NULL FROM sqlift.positions WHERE source = 'app'");
  ASSERT_TRUE(hold.ok());
  EXPECT_EQ(hold->get(0, 0), "t");  // released
  EXPECT_NE(ShadowReportText(r).find("outbox seq 1; both sides read there"), std::string::npos);
}

TEST_F(ShadowTest, BinaryExitCodesAndOutput) {
  std::vector<Bound> app = kMatching;
  app.push_back({"SELECT group_concat(name) FROM rooms", {}});
  RunApplication(app);
  const std::string cfg = (dir_ / "sqlift.toml").string();
  std::ofstream(cfg) << "[source]\nid = \"app\"\nsqlite = \"" << sqlite_ << "\"\n[target]\npg = \""
                     << uri_ << "\"\n[shadow]\nlog = \"" << log_ << "\"\nrate = 1\n";

  process::Output p = Sqlift({"shadow", "--config", cfg});
  EXPECT_EQ(p.exit_code, 3) << p.out << p.err;
  EXPECT_NE(p.out.find("9 log entries, 8 distinct queries (sampled at rate 1)"), std::string::npos)
      << p.out;
  EXPECT_NE(p.out.find("not valid on PostgreSQL: 1 query (1 entry)\n"
                       "  SELECT group_concat(name) FROM rooms\n    [42883] function "
                       "group_concat(text) does not exist"),
            std::string::npos)
      << p.out;
  EXPECT_NE(p.out.find("7 of 8 queries matched; something differs (exit 3)"), std::string::npos)
      << p.out;
  EXPECT_NE(p.err.find("not replicating"), std::string::npos) << p.err;

  process::Output json = Sqlift({"shadow", "--config", cfg, "--json"});
  EXPECT_EQ(json.exit_code, 3) << json.err;
  EXPECT_NE(json.out.find(R"("invalid_on_pg":{"queries":1,"entries":1})"), std::string::npos)
      << json.out;

  process::Output first = Sqlift({"shadow", "--config", cfg, "--limit", "8"});
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("7 of 7 queries matched; nothing differs"), std::string::npos)
      << first.out;

  EXPECT_EQ(Sqlift({"shadow", "--config", cfg, "--log", (dir_ / "none.log").string()}).exit_code,
            1);
  std::ofstream(cfg) << "[source]\nsqlite = \"" << sqlite_ << "\"\n[target]\npg = \"" << uri_
                     << "\"\n";
  process::Output usage = Sqlift({"shadow", "--config", cfg});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("[shadow] log is required by `sqlift shadow`"), std::string::npos)
      << usage.err;
}

}  // namespace
}  // namespace sqlift
