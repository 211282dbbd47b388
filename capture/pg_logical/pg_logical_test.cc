// The logical decoding reader against a real PostgreSQL: publication, slot, the replication
// stream, origins and markers. One throwaway cluster for the suite; each test has its own
// schema, publication and slot, and drops the slot when it ends.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <set>
#include <thread>

#include "capture/pg_logical/pg_logical_stream.h"
#include "capture/pg_logical/pg_replication_admin.h"
#include "common/pg/pg_connection.h"
#include "tools/sandbox/pg_suite_test.h"

namespace sqlift {
namespace {

using namespace std::chrono_literals;
using pgchange::Change;
using pgchange::Datum;
using pgchange::Lsn;
using Event = PgLogicalStream::Event;
using Clock = std::chrono::steady_clock;
using Strings = std::vector<std::string>;

#define CHECK_STATUS(check, expr)                    \
  do {                                               \
    ::sqlift::Status _st = (expr);                   \
    check(_st.ok()) << #expr ": " << _st.ToString(); \
  } while (0)
#define ASSERT_OK(expr) CHECK_STATUS(ASSERT_TRUE, expr)
#define EXPECT_OK(expr) CHECK_STATUS(EXPECT_TRUE, expr)

// Values as text; "<null>" and "<unchanged>" for the other kinds.
Strings Texts(const std::vector<Datum>& tuple) {
  Strings out;
  for (const Datum& d : tuple) {
    out.push_back(d.kind == Datum::Kind::kText   ? d.text
                  : d.kind == Datum::Kind::kNull ? "<null>"
                                                 : "<unchanged>");
  }
  return out;
}

std::unique_ptr<PgConnection> Connect(const std::string& uri) {
  auto conn = PgConnection::Connect(uri, 30s);
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  return conn.ok() ? std::move(conn).value() : nullptr;
}

class PgLogicalTest : public PgSuiteTest {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    schema_ = "s_" + name;
    pub_ = "pub_" + name;
    slot_ = SlotNameFor(name);
    conn_ = Connect(pg_->uri());
    ASSERT_NE(conn_, nullptr);
    ASSERT_OK(conn_->Exec("DROP SCHEMA IF EXISTS " + QuoteIdentifier(schema_) + " CASCADE; " +
                          "CREATE SCHEMA " + QuoteIdentifier(schema_) + "; SET search_path TO " +
                          QuoteIdentifier(schema_)));
  }
  void TearDown() override {
    stream_.reset();
    if (conn_ == nullptr) return;
    EXPECT_OK(DropSlot(*conn_, slot_, 30s));
    EXPECT_OK(DropPublication(*conn_, pub_));
  }

  // Publication and slot, then the stream from the slot's position.
  void StartStream() {
    ASSERT_OK(EnsurePublication(*conn_, pub_, schema_));
    auto lsn = EnsureSlot(*conn_, slot_);
    ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
    Open(0);
  }
  void Open(Lsn start, std::chrono::milliseconds feedback_interval = 1000ms) {
    auto s = PgLogicalStream::Open({.conninfo = pg_->uri(),
                                    .slot = slot_,
                                    .publication = pub_,
                                    .start_lsn = start,
                                    .feedback_interval = feedback_interval});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    stream_ = std::move(s).value();
  }
  // The next `n` transactions and markers; fails the test when they take over 30 s.
  std::vector<Event> Take(size_t n) {
    std::vector<Event> out;
    for (auto deadline = Clock::now() + 30s; out.size() < n && Clock::now() < deadline;) {
      auto ev = stream_->Next(200ms);
      if (!ev.ok()) {
        ADD_FAILURE() << ev.status().ToString();
        break;
      }
      if (ev->kind != Event::Kind::kIdle) out.push_back(std::move(ev).value());
    }
    EXPECT_EQ(out.size(), n);
    out.resize(n);
    return out;
  }
  void Sql(const std::string& sql, const std::vector<std::optional<std::string>>& params = {}) {
    auto r = conn_->Query(sql, params);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }
  int64_t ServerNowUs() {
    auto r = conn_->Query("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::stoll(std::string(r->get(0, 0))) : 0;
  }

  std::string schema_, pub_, slot_;
  std::unique_ptr<PgConnection> conn_;
  std::unique_ptr<PgLogicalStream> stream_;
};

const std::string kEvilColumn = "\"; DROP TABLE x; --";

TEST_F(PgLogicalTest, DecodesValuesOpsAndOldKeysInCommitOrder) {
  ASSERT_OK(conn_->Exec(
      "CREATE TABLE types (id int PRIMARY KEY, big bigint, txt text, num numeric(12,4), "
      "flag boolean, ts timestamptz, raw bytea, doc jsonb, nothing text);"
      "CREATE TABLE pair (a int, b bigint, v text, PRIMARY KEY (a, b));"
      "CREATE TABLE \"user\" (id bigint PRIMARY KEY, " +
      QuoteIdentifier(kEvilColumn) + " text)"));
  StartStream();
  std::string big;  // incompressible, so that it is stored out of line (TOAST)
  for (uint32_t x = 1; big.size() < 100000;) {
    x = x * 1103515245u + 12345u;
    big.push_back("0123456789abcdef"[(x >> 16) & 15]);
  }
  const int64_t before = ServerNowUs();
  ASSERT_OK(conn_->Exec("BEGIN"));
  Sql("INSERT INTO types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {"1", "9007199254740993", "it's \"q\"\nline 2", "1234.56", "true",
       "2024-02-29 13:45:06.123456+02", "\\x00ff10", "{\"b\": 1, \"a\": [1, 2]}", std::nullopt});
  Sql("INSERT INTO pair VALUES (1, 10, 'x')");
  Sql("INSERT INTO \"user\" VALUES (1, $1)", {"evil"});
  ASSERT_OK(conn_->Exec("COMMIT"));
  Sql("UPDATE types SET txt = 'two' WHERE id = 1");
  Sql("UPDATE pair SET b = 11 WHERE a = 1 AND b = 10");
  Sql("DELETE FROM \"user\" WHERE id = 1");
  Sql("INSERT INTO types (id, txt) VALUES (2, $1)", {big});
  Sql("UPDATE types SET flag = false WHERE id = 2");
  Sql("TRUNCATE pair, \"user\"");
  const int64_t after = ServerNowUs();

  std::vector<Event> ev = Take(7);
  ASSERT_EQ(ev.size(), 7u);
  for (size_t i = 0; i < ev.size(); ++i) {
    const pgchange::Transaction& t = ev[i].txn;
    ASSERT_EQ(ev[i].kind, Event::Kind::kTransaction);
    EXPECT_EQ(t.origin, "");
    EXPECT_GT(t.end_lsn, t.final_lsn);
    EXPECT_GE(t.commit_time_us, before);
    EXPECT_LE(t.commit_time_us, after);
    if (i > 0) {
      EXPECT_GT(t.xid, ev[i - 1].txn.xid);
      EXPECT_GE(t.final_lsn, ev[i - 1].txn.end_lsn);
    }
  }
  const auto& t1 = ev[0].txn.changes;
  ASSERT_EQ(t1.size(), 3u);
  EXPECT_EQ(t1[0].rel->schema, schema_);
  EXPECT_EQ(t1[0].rel->table, "types");
  EXPECT_EQ(Texts(t1[0].new_tuple), (Strings{"1", "9007199254740993", "it's \"q\"\nline 2",
                                             "1234.5600", "t", "2024-02-29 11:45:06.123456+00",
                                             "\\x00ff10", "{\"a\": [1, 2], \"b\": 1}", "<null>"}));
  EXPECT_EQ(t1[1].rel->table, "pair");
  ASSERT_EQ(t1[1].rel->columns.size(), 3u);
  EXPECT_TRUE(t1[1].rel->columns[0].key && t1[1].rel->columns[1].key);
  EXPECT_FALSE(t1[1].rel->columns[2].key);
  EXPECT_EQ(t1[2].rel->table, "user");
  EXPECT_EQ(t1[2].rel->columns[1].name, kEvilColumn);
  EXPECT_EQ(Texts(t1[2].new_tuple), (Strings{"1", "evil"}));

  const Change& same_key = ev[1].txn.changes.at(0);
  EXPECT_EQ(same_key.op, Change::Op::kUpdate);
  EXPECT_TRUE(same_key.old_tuple.empty());
  EXPECT_EQ(Texts(same_key.new_tuple)[2], "two");
  const Change& new_key = ev[2].txn.changes.at(0);
  EXPECT_EQ(Texts(new_key.old_tuple), (Strings{"1", "10", "<null>"}));
  EXPECT_EQ(Texts(new_key.new_tuple), (Strings{"1", "11", "x"}));
  const Change& del = ev[3].txn.changes.at(0);
  EXPECT_EQ(del.op, Change::Op::kDelete);
  EXPECT_EQ(Texts(del.old_tuple), (Strings{"1", "<null>"}));
  EXPECT_EQ(ev[4].txn.changes.at(0).new_tuple.at(2).text, big);
  const Change& toast = ev[5].txn.changes.at(0);
  EXPECT_EQ(Texts(toast.new_tuple)[2], "<unchanged>");
  EXPECT_EQ(Texts(toast.new_tuple)[4], "f");
  std::set<std::string> truncated;
  for (const Change& c : ev[6].txn.changes) {
    EXPECT_EQ(c.op, Change::Op::kTruncate);
    truncated.insert(c.rel->table);
  }
  EXPECT_EQ(truncated, (std::set<std::string>{"pair", "user"}));
}

TEST_F(PgLogicalTest, OriginSessionMarksItsTransactions) {
  ASSERT_OK(conn_->Exec("CREATE TABLE t (id int PRIMARY KEY)"));
  StartStream();
  auto applier = Connect(pg_->uri());
  ASSERT_NE(applier, nullptr);
  ASSERT_OK(SetupOriginSession(*applier, "sqlift_app"));
  auto r = applier->Query("INSERT INTO " + QuoteQualified(schema_, "t") + " VALUES (1)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Sql("INSERT INTO t VALUES (2)");
  std::vector<Event> ev = Take(2);
  EXPECT_EQ(ev[0].txn.origin, "sqlift_app");
  EXPECT_EQ(ev[1].txn.origin, "");

  // A second applier while the first still holds the origin: retryable, and it works once the
  // first is gone (its backend ends asynchronously, hence the bounded retry).
  auto second = Connect(pg_->uri());
  ASSERT_NE(second, nullptr);
  Status held = SetupOriginSession(*second, "sqlift_app");
  EXPECT_EQ(held.code(), Status::Code::kUnavailable) << held.ToString();
  EXPECT_NE(held.message().find("already active for PID"), std::string::npos) << held.ToString();
  applier.reset();
  Status st;
  for (auto deadline = Clock::now() + 30s; Clock::now() < deadline;) {
    st = SetupOriginSession(*second, "sqlift_app");
    if (st.code() != Status::Code::kUnavailable) break;
    std::this_thread::yield();
  }
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(PgLogicalTest, MarkersArriveInOrderWithTheirLsn) {
  pub_ = "pub \"q\" 'x'";  // quoted as an identifier inside a literal in START_REPLICATION
  ASSERT_OK(conn_->Exec("CREATE TABLE t (id int PRIMARY KEY)"));
  StartStream();
  Sql("INSERT INTO t VALUES (1)");
  auto marker = EmitMarker(*conn_, "sqlift", "cutover 'a'\n7");
  ASSERT_TRUE(marker.ok()) << marker.status().ToString();
  ASSERT_OK(conn_->Exec("BEGIN"));
  Sql("SELECT pg_logical_emit_message(true, $1, $2)", {"app", "transactional"});
  Sql("INSERT INTO t VALUES (2)");
  ASSERT_OK(conn_->Exec("COMMIT"));
  std::vector<Event> ev = Take(3);
  EXPECT_EQ(ev[0].kind, Event::Kind::kTransaction);
  EXPECT_EQ(ev[1].kind, Event::Kind::kMarker);
  EXPECT_EQ(ev[1].lsn, *marker);
  EXPECT_EQ(ev[1].prefix, "sqlift");
  EXPECT_EQ(ev[1].content, "cutover 'a'\n7");
  EXPECT_GT(ev[1].lsn, ev[0].txn.end_lsn);
  EXPECT_EQ(ev[2].kind, Event::Kind::kTransaction);
  ASSERT_EQ(ev[2].txn.changes.size(), 1u);  // the transactional message is no change
  EXPECT_EQ(Texts(ev[2].txn.changes[0].new_tuple), (Strings{"2"}));
}

TEST_F(PgLogicalTest, ConfirmThenReopenResumesAfterTheConfirmedTransaction) {
  ASSERT_OK(conn_->Exec("CREATE TABLE t (id int PRIMARY KEY)"));
  StartStream();
  Sql("INSERT INTO t VALUES (1)");
  Sql("INSERT INTO t VALUES (2)");
  std::vector<Event> first = Take(2);
  ASSERT_OK(stream_->Confirm(first[0].txn.end_lsn));
  stream_.reset();
  // The server takes the position from the status update, then lets go of the slot.
  Result<SlotInfo> slot = SlotInfo{};
  for (auto deadline = Clock::now() + 30s; Clock::now() < deadline;) {
    slot = GetSlot(*conn_, slot_);
    ASSERT_TRUE(slot.ok()) << slot.status().ToString();
    if (!slot->active && slot->confirmed_flush == first[0].txn.end_lsn) break;
  }
  EXPECT_FALSE(slot->active);
  EXPECT_EQ(slot->confirmed_flush, first[0].txn.end_lsn);
  Sql("INSERT INTO t VALUES (3)");

  Open(0);
  std::vector<Event> again = Take(2);
  EXPECT_EQ(again[0].txn.xid, first[1].txn.xid);  // not confirmed: sent again
  EXPECT_EQ(Texts(again[0].txn.changes.at(0).new_tuple), (Strings{"2"}));
  EXPECT_EQ(Texts(again[1].txn.changes.at(0).new_tuple), (Strings{"3"}));
  auto idle = stream_->Next(100ms);  // and nothing else
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  EXPECT_EQ(idle->kind, Event::Kind::kIdle);

  // An explicit start position past the slot's skips what lies before it.
  stream_.reset();
  Sql("INSERT INTO t VALUES (4)");
  Open(again[1].txn.end_lsn);
  EXPECT_EQ(Texts(Take(1)[0].txn.changes.at(0).new_tuple), (Strings{"4"}));
}

TEST_F(PgLogicalTest, IdleReportsThePositionTheServerHasSent) {
  ASSERT_OK(conn_->Exec("CREATE TABLE t (id int PRIMARY KEY); CREATE SCHEMA IF NOT EXISTS " +
                        QuoteIdentifier(schema_ + "_other") + "; CREATE TABLE " +
                        QuoteQualified(schema_ + "_other", "u") + " (id int PRIMARY KEY)"));
  StartStream();
  // A transaction outside the publication: nothing to send, but the position moves past it.
  Sql("INSERT INTO " + QuoteQualified(schema_ + "_other", "u") + " VALUES (1)");
  auto target = CurrentWalLsn(*conn_);
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  Lsn seen = 0;
  for (auto deadline = Clock::now() + 60s; seen < *target && Clock::now() < deadline;) {
    auto ev = stream_->Next(200ms);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    ASSERT_EQ(ev->kind, Event::Kind::kIdle);
    seen = ev->lsn;
  }
  EXPECT_GE(seen, *target);
}

TEST_F(PgLogicalTest, StatusUpdatesGoOutWhileNextWaits) {
  ASSERT_OK(EnsurePublication(*conn_, pub_, schema_));
  ASSERT_TRUE(EnsureSlot(*conn_, slot_).ok());
  Open(0, 50ms);
  // The walsender records each status update's time; two new ones show the interval at work.
  std::set<std::string> replies;
  for (auto deadline = Clock::now() + 30s; replies.size() < 3 && Clock::now() < deadline;) {
    auto ev = stream_->Next(100ms);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    auto r = conn_->Query(
        "SELECT reply_time::text FROM pg_stat_replication WHERE pid = "
        "(SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1)",
        {slot_});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->rows() == 1 && !r->is_null(0, 0)) replies.insert(std::string(r->get(0, 0)));
  }
  EXPECT_GE(replies.size(), 3u);
}

TEST_F(PgLogicalTest, DropSlotRefusesThenWaitsForAnActiveSlot) {
  StartStream();
  auto info = GetSlot(*conn_, slot_);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE(info->exists && info->active);
  Status refused = DropSlot(*conn_, slot_, 300ms);
  EXPECT_EQ(refused.code(), Status::Code::kFailedPrecondition) << refused.ToString();
  EXPECT_NE(refused.message().find("PID " + std::to_string(info->active_pid)), std::string::npos)
      << refused.ToString();

  Status dropped;
  std::thread dropper([&] { dropped = DropSlot(*conn_, slot_, 30s); });
  stream_.reset();
  dropper.join();
  EXPECT_TRUE(dropped.ok()) << dropped.ToString();
  info = GetSlot(*conn_, slot_);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->exists);
  EXPECT_OK(DropSlot(*conn_, slot_, 0ms));  // absent: fine
}

TEST_F(PgLogicalTest, StreamErrorsAreClear) {
  ASSERT_OK(EnsurePublication(*conn_, pub_, schema_));
  auto missing = PgLogicalStream::Open(
      {.conninfo = pg_->uri(), .slot = "sqlift_no_such_slot", .publication = pub_});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound) << missing.status().ToString();
  EXPECT_NE(missing.status().ToString().find("\"sqlift_no_such_slot\" does not exist"),
            std::string::npos)
      << missing.status().ToString();

  auto bad_name =
      PgLogicalStream::Open({.conninfo = pg_->uri(), .slot = "Bad-Slot", .publication = pub_});
  EXPECT_EQ(bad_name.status().code(), Status::Code::kInvalidArgument);
  auto down = PgLogicalStream::Open(
      {.conninfo = "postgresql://u:s3cret@127.0.0.1:1/db", .slot = slot_, .publication = pub_});
  EXPECT_EQ(down.status().code(), Status::Code::kUnavailable) << down.status().ToString();
  EXPECT_EQ(down.status().ToString().find("s3cret"), std::string::npos);
  auto unparsable = PgLogicalStream::Open(
      {.conninfo = "host=x password=s3cret oops", .slot = slot_, .publication = pub_});
  EXPECT_EQ(unparsable.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(unparsable.status().ToString().find("s3cret"), std::string::npos)
      << unparsable.status().ToString();

  // A missing publication: the server reports it at the first change it decodes (PostgreSQL
  // 17 and later skip it with a warning instead).
  ASSERT_OK(conn_->Exec("CREATE TABLE t (id int PRIMARY KEY)"));
  ASSERT_TRUE(EnsureSlot(*conn_, slot_).ok());
  auto nopub =
      PgLogicalStream::Open({.conninfo = pg_->uri(), .slot = slot_, .publication = "pub_missing"});
  ASSERT_TRUE(nopub.ok()) << nopub.status().ToString();
  Sql("INSERT INTO t VALUES (1)");
  auto version = conn_->Query("SELECT current_setting('server_version_num')::int < 170000");
  if (version.ok() && version->get(0, 0) == "t") {
    Status err;
    for (auto deadline = Clock::now() + 30s; err.ok() && Clock::now() < deadline;) {
      err = (*nopub)->Next(200ms).status();
    }
    EXPECT_EQ(err.code(), Status::Code::kNotFound) << err.ToString();
    EXPECT_NE(err.message().find("publication \"pub_missing\" does not exist"), std::string::npos)
        << err.ToString();
  }
  nopub = Status::Aborted("closed");
  ASSERT_TRUE(DropSlot(*conn_, slot_, 30s).ok());

  // A slot another connection streams from: retryable, with the server's message.
  StartStream();
  auto busy = PgLogicalStream::Open({.conninfo = pg_->uri(), .slot = slot_, .publication = pub_});
  EXPECT_EQ(busy.status().code(), Status::Code::kUnavailable) << busy.status().ToString();
  EXPECT_NE(busy.status().message().find("is active for PID"), std::string::npos)
      << busy.status().ToString();

  // A lost connection is retryable, and the stream stays failed.
  auto info = GetSlot(*conn_, slot_);
  ASSERT_TRUE(info.ok() && info->active) << info.status().ToString();
  Sql("SELECT pg_terminate_backend($1)", {std::to_string(info->active_pid)});
  Status lost;
  for (auto deadline = Clock::now() + 30s; lost.ok() && Clock::now() < deadline;) {
    auto ev = stream_->Next(200ms);
    if (!ev.ok()) lost = ev.status();
  }
  EXPECT_EQ(lost.code(), Status::Code::kUnavailable) << lost.ToString();
  EXPECT_EQ(stream_->Next(0ms).status().ToString(), lost.ToString());
}

TEST_F(PgLogicalTest, AdminCallsAreIdempotent) {
  ASSERT_OK(EnsurePublication(*conn_, pub_, schema_));
  ASSERT_OK(EnsurePublication(*conn_, pub_, schema_));
  Status other = EnsurePublication(*conn_, pub_, "pg_catalog");
  EXPECT_EQ(other.code(), Status::Code::kFailedPrecondition) << other.ToString();
  auto a = EnsureSlot(*conn_, slot_);
  auto b = EnsureSlot(*conn_, slot_);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << b.status().ToString();
  EXPECT_GT(*a, 0u);
  EXPECT_EQ(*a, *b);
  auto wal = CurrentWalLsn(*conn_);
  ASSERT_TRUE(wal.ok());
  EXPECT_GE(*wal, *a);
  EXPECT_OK(EnsureOrigin(*conn_, "sqlift_admin_test"));
  EXPECT_OK(EnsureOrigin(*conn_, "sqlift_admin_test"));
  EXPECT_OK(DropPublication(*conn_, "pub_never_created"));
  auto none = GetSlot(*conn_, "sqlift_never_created");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->exists);
}

}  // namespace
}  // namespace sqlift
