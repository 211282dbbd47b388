#include "common/pg/pg_connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "tools/sandbox/pg_sandbox.h"

namespace sqlift {
namespace {

using std::chrono::seconds;
using Row = std::vector<std::optional<std::string>>;

// One sandbox for this test binary, started when a test first needs it.
PgSandbox& Sandbox() {
  static std::unique_ptr<PgSandbox> sandbox = [] {
    auto r = PgSandbox::Start({});
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      std::abort();
    }
    return std::move(r).value();
  }();
  return *sandbox;
}

class PgConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = PgConnection::Connect(Sandbox().uri(), seconds(30));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    conn_ = std::move(r).value();
    // Each test works in a schema of its own, so tests never see each other's tables.
    schema_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_TRUE(conn_
                    ->Exec("DROP SCHEMA IF EXISTS " + QuoteIdentifier(schema_) + " CASCADE; " +
                           "CREATE SCHEMA " + QuoteIdentifier(schema_) + "; SET search_path TO " +
                           QuoteIdentifier(schema_))
                    .ok());
  }

  // All rows of `sql`, NULL as nullopt.
  std::vector<Row> Rows(const std::string& sql, const Row& params = {}) {
    auto r = conn_->Query(sql, params);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<Row> out;
    if (!r.ok()) return out;
    for (int i = 0; i < r->rows(); ++i) {
      Row row;
      for (int j = 0; j < r->cols(); ++j)
        row.push_back(r->value(i, j));
      out.push_back(row);
    }
    return out;
  }

  std::unique_ptr<PgConnection> conn_;
  std::string schema_;
};

TEST_F(PgConnectionTest, NullsQuotesAndUnicodeRoundTrip) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t (id int, a text, b text)").ok());
  const std::vector<Row> rows = {
      {"1", std::nullopt, ""},
      {"2", "it's \"quoted\" \\ and $1 and '; DROP TABLE t; --", std::nullopt},
      {"3", "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xF0\x9F\x9A\x80 \xE4\xB8\xAD\xE6\x96\x87",
       "line\nbreak\ttab"},
  };
  for (const Row& row : rows) {
    auto r = conn_->Query("INSERT INTO t VALUES ($1, $2, $3)", row);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->affected_rows(), 1);
  }
  EXPECT_EQ(Rows("SELECT id::text, a, b FROM t ORDER BY id"), rows);
  EXPECT_EQ(Rows("SELECT count(*)::text FROM t WHERE a IS NULL"), std::vector<Row>{{"1"}});
}

TEST_F(PgConnectionTest, ReservedAndHostileNamesWorkThroughQuoteIdentifier) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE x (v int)").ok());
  const std::string table = "user";
  const std::string column = "\"; DROP TABLE x; --";
  Status st = conn_->Exec("CREATE TABLE " + QuoteIdentifier(table) + " (" +
                          QuoteIdentifier(column) + " text, \"Select\" int)");
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto ins = conn_->Query("INSERT INTO " + QuoteQualified(schema_, table) + " VALUES ($1, $2)",
                          {"value", "42"});
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();

  auto r = conn_->Query("SELECT " + QuoteIdentifier(column) + ", \"Select\" FROM " +
                        QuoteIdentifier(table));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows(), 1);
  EXPECT_EQ(r->column_name(0), column);
  EXPECT_EQ(r->column_name(1), "Select");
  EXPECT_EQ(r->get(0, 0), "value");
  EXPECT_EQ(r->get(0, 1), "42");
  EXPECT_EQ(Rows("SELECT count(*)::text FROM x"), std::vector<Row>{{"0"}});  // x survived
}

TEST_F(PgConnectionTest, QuoteIdentifierMatchesLibpq) {
  for (std::string name : {"plain", "user", "Mixed Case", "a\"b\"\"c", "\"", "\xC3\xA9t\xC3\xA9",
                           "\"; DROP TABLE x; --", "back\\slash", "$1"}) {
    char* escaped = PQescapeIdentifier(conn_->raw(), name.data(), name.size());
    ASSERT_NE(escaped, nullptr) << PQerrorMessage(conn_->raw());
    EXPECT_EQ(QuoteIdentifier(name), escaped) << name;
    PQfreemem(escaped);
  }
}

TEST_F(PgConnectionTest, SqlErrorsCarryTheirSqlState) {
  Status syntax = conn_->Exec("SELEC 1");
  EXPECT_EQ(syntax.code(), Status::Code::kInvalidArgument) << syntax.ToString();
  EXPECT_EQ(SqlStateOf(syntax), "42601");
  EXPECT_NE(syntax.ToString().find("SELEC 1"), std::string::npos) << syntax.ToString();

  auto missing = conn_->Query("SELECT * FROM no_such_table");
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(SqlStateOf(missing.status()), "42P01");

  ASSERT_TRUE(conn_->Exec("CREATE TABLE k (id int PRIMARY KEY)").ok());
  ASSERT_TRUE(conn_->Query("INSERT INTO k VALUES ($1)", {"1"}).ok());
  auto dup = conn_->Query("INSERT INTO k VALUES ($1)", {"1"});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(SqlStateOf(dup.status()), "23505");
  EXPECT_NE(dup.status().message().find("Key (id)=(1) already exists"), std::string::npos)
      << dup.status().ToString();

  auto bad_value = conn_->Query("SELECT $1::int", {"not a number"});
  EXPECT_EQ(SqlStateOf(bad_value.status()), "22P02");
  EXPECT_EQ(Rows("SELECT 'still usable'"), std::vector<Row>{{"still usable"}});
  EXPECT_EQ(SqlStateOf(Status::InvalidArgument("no state here")), "");
}

TEST_F(PgConnectionTest, TypedGettersParseOrNameTheColumn) {
  auto r = conn_->Query(
      "SELECT -42::bigint AS n, 18446744073709551615::numeric AS u, 1.5::float8 AS d, true AS b, "
      "NULL::bigint AS z, 'x1'::text AS t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->GetInt64(0, 0), -42);
  EXPECT_EQ(*r->GetUint64(0, 1), 18446744073709551615ull);
  EXPECT_EQ(*r->GetDouble(0, 2), 1.5);
  EXPECT_EQ(*r->GetBool(0, 3), true);
  Result<int64_t> null = r->GetInt64(0, 4);
  ASSERT_FALSE(null.ok());
  EXPECT_EQ(null.status().code(), Status::Code::kCorruption);
  EXPECT_EQ(null.status().message(), "column z is NULL");
  Result<int64_t> text = r->GetInt64(0, 5);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(), "column t: 'x1' is not a 64-bit integer");
  EXPECT_FALSE(r->GetUint64(0, 0).ok());  // a negative value never wraps
  EXPECT_FALSE(r->GetBool(0, 5).ok());
}

TEST_F(PgConnectionTest, NulBytesAreRefusedNotTruncated) {
  using namespace std::string_literals;
  Status st = conn_->Exec("SELECT 1;\0DROP TABLE t"s);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  auto r = conn_->Query("SELECT $1::text", {"a\0b"s});
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("$1"), std::string::npos);
}

TEST_F(PgConnectionTest, TerminatedSessionIsUnavailable) {
  auto other = PgConnection::Connect(Sandbox().uri(), seconds(30));
  ASSERT_TRUE(other.ok());
  auto pid = (*other)->Query("SELECT pg_backend_pid()::text");
  ASSERT_TRUE(pid.ok());
  auto killed =
      conn_->Query("SELECT pg_terminate_backend($1::int, 30000)", {std::string(pid->get(0, 0))});
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  Status st = (*other)->Exec("SELECT 1");
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
  EXPECT_TRUE(st.Retryable());
}

// A listening socket that never answers; closed when the test ends.
struct SilentListener {
  SilentListener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~SilentListener() { close(fd); }
  int fd = -1;
  int port = 0;
};

TEST(PgConnectTest, ClosedPortIsUnavailableAndHidesThePassword) {
  SilentListener bound;  // bound, not listening: connections are refused
  auto start = std::chrono::steady_clock::now();
  auto r = PgConnection::Connect(
      "postgresql://bob:s3cret-pw@127.0.0.1:" + std::to_string(bound.port) + "/db", seconds(5));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  std::string text = r.status().ToString();
  EXPECT_EQ(text.find("s3cret-pw"), std::string::npos) << text;
  EXPECT_NE(text.find(std::to_string(bound.port)), std::string::npos) << text;
}

TEST(PgConnectTest, SilentServerTimesOutAsUnavailable) {
  SilentListener server;
  ASSERT_EQ(listen(server.fd, 4), 0);  // the kernel accepts; nobody ever answers
  auto start = std::chrono::steady_clock::now();
  auto r = PgConnection::Connect("postgresql://postgres@127.0.0.1:" + std::to_string(server.port) +
                                     "/postgres?connect_timeout=0",
                                 seconds(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));  // bounded, not hung
}

TEST(PgConnectTest, MalformedUriIsInvalidArgumentAndHidesThePassword) {
  for (std::string uri : {"postgresql://bob:hunter2@[::1", "postgresql://bob:hunter2@host:port/db",
                          "host=h password=hunter2 bogus"}) {
    auto r = PgConnection::Connect(uri, seconds(5));
    ASSERT_FALSE(r.ok()) << uri;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
    EXPECT_EQ(r.status().ToString().find("hunter2"), std::string::npos) << r.status().ToString();
  }
}

// The user as libpq reads it, from a URI (percent-decoded) or keywords; none when not named.
TEST(ConninfoUserTest, ReadsTheUserLibpqWouldUse) {
  EXPECT_EQ(ConninfoUser("postgresql://alice:secret@127.0.0.1:5432/app"), "alice");
  EXPECT_EQ(ConninfoUser("postgresql://sq%40lift@db.example/app"), "sq@lift");
  EXPECT_EQ(ConninfoUser("host=db user=bob dbname=app"), "bob");
  EXPECT_EQ(ConninfoUser("postgresql://db.example/app"), "");
  EXPECT_EQ(ConninfoUser("app"), "");
}

}  // namespace
}  // namespace sqlift
