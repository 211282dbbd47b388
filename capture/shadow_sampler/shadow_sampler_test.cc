// The shadow sampler (capture/shadow_sampler.h), its log (capture/shadow_log.h) and the SQL
// lexer they share (capture/sql_lexer.h): sampling rates, what is recorded and what never is,
// bound values, the log's round trip (torn last line, text that is not UTF-8), the size cap,
// the recorder on the same connection, and the loadable extension's sqlift_shadow().
#include "capture/shadow_sampler/shadow_sampler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "capture/recorder/recorder_testutil.h"
#include "capture/recorder/transaction.h"
#include "capture/shadow_sampler/sql_lexer.h"

namespace sqlift {
namespace {

using namespace sqlift::testing;  // NOLINT

class ShadowSamplerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenDb(dir_.Path("app.db"));
    Exec(db_.get(),
         "PRAGMA journal_mode=WAL;"
         "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL, "
         "data BLOB);"
         "CREATE TABLE audit(item_id INTEGER PRIMARY KEY, n INTEGER);"
         "CREATE TRIGGER items_audit AFTER INSERT ON items BEGIN "
         "  INSERT INTO audit VALUES (new.id, (SELECT count(*) FROM items)); END;"
         "INSERT INTO items(id, name, qty) VALUES (1, 'a', 1), (2, 'b', 2);");
    log_ = dir_.Path("shadow.log");
  }

  std::unique_ptr<ShadowSampler> Attach(double rate, uint64_t seed = 7,
                                        uint64_t max_bytes = 1 << 20) {
    auto s = ShadowSampler::Attach(db_.get(), {rate, log_, seed, max_bytes});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Runs `sql` with ?1 bound to i, `n` times.
  void RunBound(const std::string& sql, int n) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    for (int i = 0; i < n; ++i) {
      sqlite3_bind_int(stmt, 1, i);
      while (sqlite3_step(stmt) == SQLITE_ROW) {
      }
      sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
  }

  std::vector<std::string> Logged() {
    auto log = ReadShadowLog(log_);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    std::vector<std::string> out;
    if (log.ok()) {
      for (const ShadowEntry& e : log->entries)
        out.push_back(e.sql);
    }
    return out;
  }

  TempDir dir_;
  DbPtr db_;
  std::string log_;
};

TEST_F(ShadowSamplerTest, RateDecidesHowManyAndTheSeedWhich) {
  auto s = Attach(0);
  RunBound("SELECT ?1", 1000);
  EXPECT_EQ(s->stats().candidates, 1000u);
  EXPECT_EQ(s->stats().written, 0u);
  s.reset();
  EXPECT_TRUE(Logged().empty());

  s = Attach(1);
  RunBound("SELECT ?1", 1000);
  s.reset();
  EXPECT_EQ(Logged().size(), 1000u);
  std::filesystem::remove(log_);

  std::vector<std::string> runs[2];
  for (auto& run : runs) {
    s = Attach(0.5, 42);
    RunBound("SELECT ?1", 1000);
    EXPECT_EQ(s->stats().sampled, s->stats().written);
    s.reset();
    run = Logged();
    std::filesystem::remove(log_);
  }
  EXPECT_GT(runs[0].size(), 430u);
  EXPECT_LT(runs[0].size(), 570u);
  EXPECT_EQ(runs[0], runs[1]);  // same seed, same statements: the same samples
  s = Attach(0.5, 43);
  RunBound("SELECT ?1", 1000);
  s.reset();
  EXPECT_NE(Logged(), runs[0]);
}

TEST_F(ShadowSamplerTest, OnlyTheApplicationsReadsOfMain) {
  Exec(db_.get(), "ATTACH '" + dir_.Path("aux.db") +
                      "' AS aux; CREATE TABLE aux.t(x);"
                      "CREATE TEMP TABLE scratch(x)");
  auto s = Attach(1);
  Exec(db_.get(),
       "BEGIN; INSERT INTO items(id, name) VALUES (3, 'c'); UPDATE items SET qty = 5; "
       "SAVEPOINT sp; RELEASE sp; COMMIT;"
       "DELETE FROM items WHERE id = 3;"
       "PRAGMA user_version; PRAGMA table_info(items); EXPLAIN SELECT 1;"
       "SELECT * FROM _sqlift_outbox; SELECT count(*) FROM \"_SQLIFT_STATE\";"
       "SELECT * FROM aux.t; SELECT * FROM temp.scratch; SELECT * FROM \"aux\".t;"
       "WITH d AS (SELECT 1) DELETE FROM items WHERE id = 99;"
       "SELECT name FROM items WHERE id = 1;"
       "  /* lead */ SELECT 2;"
       "WITH x AS (SELECT 3) SELECT * FROM x;"
       "VALUES (4);"
       "SELECT 'a.b', \"main\".items.id FROM main.items WHERE name LIKE '%_sqlift_%';");
  s.reset();
  EXPECT_EQ(Logged(), (std::vector<std::string>{
                          "SELECT name FROM items WHERE id = 1;",
                          "/* lead */ SELECT 2;",
                          "WITH x AS (SELECT 3) SELECT * FROM x;",
                          "VALUES (4);",
                          "SELECT 'a.b', \"main\".items.id FROM main.items WHERE name LIKE "
                          "'%_sqlift_%';",
                      }));
}

TEST_F(ShadowSamplerTest, BoundValuesAreExpanded) {
  auto s = Attach(1);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_.get(),
                               "SELECT * FROM items WHERE name = ?1 OR qty IS ?2 OR price = ?3 "
                               "OR data = ?4 OR id = ?5",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(stmt, 1, "it's \"x\"\n", -1, SQLITE_STATIC);
  sqlite3_bind_null(stmt, 2);
  sqlite3_bind_double(stmt, 3, 2.5);
  sqlite3_bind_blob(stmt, 4, "\x00\xff", 2, SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 5, -7);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
  }
  sqlite3_finalize(stmt);
  s.reset();
  EXPECT_EQ(Logged(), (std::vector<std::string>{
                          "SELECT * FROM items WHERE name = 'it''s \"x\"\n' OR qty IS NULL OR "
                          "price = 2.5 OR data = x'00ff' OR id = -7"}));
}

TEST_F(ShadowSamplerTest, LogRoundTripsAnyBytesAndToleratesATornLastLine) {
  std::vector<ShadowEntry> entries = {
      {1, "SELECT 1"},
      {2, "SELECT 'tab\there', 'nl\n', 'quote\"', 'back\\slash', '\x01', 'é €'"},
      {3, "SELECT 'not utf-8: \xff\xfe', '\xc3('"},
      {4, ""}};
  {
    auto w = ShadowLogWriter::Open(log_, 1 << 20);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (const ShadowEntry& e : entries)
      EXPECT_EQ((*w)->Add(e), ShadowLogWriter::Append::kAppended);
  }
  EXPECT_EQ(FormatShadowLine(entries[0]), "{\"at_us\":1,\"sql\":\"SELECT 1\"}\n");
  EXPECT_EQ(FormatShadowLine({5, "\xff"}), "{\"at_us\":5,\"sql_hex\":\"ff\"}\n");
  auto log = ReadShadowLog(log_);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->entries, entries);
  EXPECT_FALSE(log->torn_tail);

  std::ofstream(log_, std::ios::app) << "{\"at_us\":9,\"sql\":\"SELECT 'cut sh";
  log = ReadShadowLog(log_);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->entries, entries);
  EXPECT_TRUE(log->torn_tail);
  EXPECT_EQ(log->malformed_lines, 0);
  // A writer appending after the crash: the torn line is now in the middle and is counted.
  std::ofstream(log_, std::ios::app) << "\n{\"at_us\":10,\"sql\":\"SELECT 10\"}\n";
  log = ReadShadowLog(log_, 2);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->entries.size(), 2u);
  EXPECT_TRUE(log->truncated);
  log = ReadShadowLog(log_);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->entries.size(), 5u);
  EXPECT_EQ(log->entries.back(), (ShadowEntry{10, "SELECT 10"}));
  EXPECT_EQ(log->malformed_lines, 1);
  EXPECT_EQ(log->first_malformed_line, 5);
  EXPECT_FALSE(log->torn_tail);

  auto parsed = ParseShadowLine(R"( {"x":1, "sql":"\u00e9\ud83d\ude00\/", "at_us":-3, "y":"z"} )");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, (ShadowEntry{-3, "\xc3\xa9\xf0\x9f\x98\x80/"}));
  EXPECT_FALSE(ParseShadowLine(R"({"at_us":1})").ok());
  EXPECT_FALSE(ParseShadowLine(R"({"at_us":1,"sql_hex":"f"})").ok());
  EXPECT_FALSE(ParseShadowLine(R"({"at_us":"1","sql":"x"})").ok());
  EXPECT_EQ(ReadShadowLog(dir_.Path("none.log")).status().code(), Status::Code::kNotFound);
}

TEST_F(ShadowSamplerTest, SizeCapStopsWritingAndCountsDropped) {
  const std::string line = FormatShadowLine({1763771162451443, "SELECT 1"});
  {
    std::ofstream(log_) << line;  // what the file held before counts
  }
  const uint64_t cap = line.size() * 10;
  auto s = Attach(1, 7, cap);
  RunBound("SELECT 1", 100);
  ShadowStats st = s->stats();
  EXPECT_EQ(st.written + st.dropped, 100u);
  EXPECT_GE(st.written, 7u);
  EXPECT_LE(st.written, 9u);
  s.reset();
  EXPECT_LE(std::filesystem::file_size(log_), cap);
  EXPECT_EQ(Logged().size(), st.written + 1);
}

TEST_F(ShadowSamplerTest, RecorderOnTheSameConnectionKeepsWorking) {
  auto rec = Recorder::Attach(db_.get());
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  auto s = Attach(1);
  auto txn = Transaction::Begin(**rec);
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  Exec(db_.get(),
       "INSERT INTO items(id, name) VALUES (10, 'x'); SELECT qty FROM items WHERE id = 1");
  Result<int64_t> n = txn->Commit();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);  // the item and the trigger's audit row
  std::vector<OutboxRow> outbox = ReadOutbox(db_.get());
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_NE(Find(Decode(outbox[0].payload), "items", SQLITE_INSERT, 10), nullptr);
  // Still guarded: an unflushed autocommit write is refused.
  EXPECT_EQ(TryExec(db_.get(), "UPDATE items SET qty = 3 WHERE id = 1"),
            SQLITE_CONSTRAINT_COMMITHOOK);
  ASSERT_TRUE(s->Flush().ok());
  // The session's own reads inside Commit() (its changeset) are not the application's.
  EXPECT_EQ(Logged(), (std::vector<std::string>{"SELECT qty FROM items WHERE id = 1"}));
  s.reset();
  rec->reset();
}

TEST_F(ShadowSamplerTest, OnePerConnectionAndDetachedOnDestruction) {
  auto s = Attach(1);
  auto second = ShadowSampler::Attach(db_.get(), {1, log_, 1, 1 << 20});
  EXPECT_EQ(second.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(ShadowSampler::Attach(db_.get(), {1.5, log_, 1, 1}).status().code(),
            Status::Code::kInvalidArgument);
  s.reset();
  Exec(db_.get(), "SELECT 1");
  EXPECT_TRUE(Logged().empty());
  EXPECT_EQ(ShadowSampler::Attach(db_.get(), {1, dir_.Path("no/such/dir.log"), 1, 1 << 20})
                .status()
                .code(),
            Status::Code::kIOError);
  EXPECT_NE(Attach(1), nullptr);  // the failed attach left no registration behind
}

TEST_F(ShadowSamplerTest, ExtensionFunctionAttachesReplacesAndDetaches) {
  sqlite3_enable_load_extension(db_.get(), 1);
  char* err = nullptr;
  ASSERT_EQ(sqlite3_load_extension(db_.get(), SQLIFT_CAPTURE_EXT, nullptr, &err), SQLITE_OK)
      << (err ? err : "");
  auto text = [&](const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    std::string out = "error";
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(stmt, 0);
      out = t ? reinterpret_cast<const char*>(t) : "NULL";
    }
    sqlite3_finalize(stmt);
    return out;
  };
  EXPECT_EQ(text("SELECT sqlift_shadow(1, '" + log_ + "')"), "NULL");
  Exec(db_.get(), "SELECT name FROM items WHERE id = 2");
  // The call itself is a read the sampler sees, and leaves out (sqlift's own).
  EXPECT_EQ(text("SELECT sqlift_shadow(1, '" + log_ + "')"),
            R"({"candidates":2,"sampled":2,"skipped":1,"written":1,"dropped":0})");
  Exec(db_.get(), "SELECT 2");
  EXPECT_EQ(text("SELECT sqlift_shadow(0, NULL)"),
            R"({"candidates":2,"sampled":2,"skipped":1,"written":1,"dropped":0})");
  Exec(db_.get(), "SELECT 3");  // detached: not logged
  EXPECT_EQ(text("SELECT sqlift_shadow(2, 'x')"), "error");
  EXPECT_EQ(text("SELECT sqlift_shadow(0.5, NULL)"), "error");
  EXPECT_EQ(text("SELECT sqlift_shadow(1, '" + log_ + "')"), "NULL");
  Exec(db_.get(), "SELECT 4");
  db_.reset();  // closing the connection frees the sampler and flushes its log
  EXPECT_EQ(Logged(), (std::vector<std::string>{"SELECT name FROM items WHERE id = 2", "SELECT 2",
                                                "SELECT 4"}));
}

TEST(SqlLexerTest, TokensCoverTheTextAndKnowLiterals) {
  const std::string sql =
      "SELECT x'AB', X'cd', 'it''s x''00''', \"we\"\"ird\", [br]], `bq`, -- x'11'\n"
      "/* x'22' */ 1.5e+3, $v, ?1, éé FROM t";
  SqlLexer lex(sql);
  std::string back, blobs, quoted;
  for (SqlToken t; lex.Next(&t);) {
    back += t.text;
    if (t.kind == SqlToken::Kind::kBlob) blobs += std::string(t.text) + " ";
    if (t.kind == SqlToken::Kind::kQuoted) quoted += t.Identifier() + "|";
  }
  EXPECT_EQ(back, sql);
  EXPECT_EQ(blobs, "x'AB' X'cd' ");
  EXPECT_EQ(quoted, "we\"ird|br|bq|");  // [..] has no escape: [br] then a lone ]
  std::string unterminated = "SELECT 'open";
  SqlLexer u(unterminated);
  SqlToken t;
  ASSERT_TRUE(u.NextSignificant(&t));
  ASSERT_TRUE(u.NextSignificant(&t));
  EXPECT_EQ(t.kind, SqlToken::Kind::kString);
  EXPECT_EQ(t.text, "'open");

  EXPECT_TRUE(StartsAsQuery("select 1"));
  EXPECT_TRUE(StartsAsQuery(" -- c\n ((WITH a AS (SELECT 1) SELECT * FROM a))"));
  EXPECT_TRUE(StartsAsQuery("VALUES (1)"));
  for (const char* no : {"PRAGMA x", "EXPLAIN SELECT 1", "BEGIN", "COMMIT", "SAVEPOINT a",
                         "ATTACH 'f' AS a", "INSERT INTO t VALUES (1)", "", "-- SELECT"}) {
    EXPECT_FALSE(StartsAsQuery(no)) << no;
  }
}

}  // namespace
}  // namespace sqlift
