#include "tools/sandbox/pg_sandbox.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/pg/pg_connection.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;
constexpr std::chrono::seconds kTimeout(30);

// One sandbox for the tests that only read and write data; started on first use.
PgSandbox& Shared() {
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

std::unique_ptr<PgSandbox> StartOrDie(PgSandboxOptions options = {}) {
  auto r = PgSandbox::Start(std::move(options));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) std::abort();
  return std::move(r).value();
}

std::unique_ptr<PgConnection> ConnectOrDie(const std::string& uri) {
  auto r = PgConnection::Connect(uri, kTimeout);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) std::abort();
  return std::move(r).value();
}

// The value of `sql` (one row, one column), or the error text.
std::string One(PgConnection& conn, const std::string& sql) {
  auto r = conn.Query(sql);
  if (!r.ok()) return r.status().ToString();
  return r->rows() == 1 ? std::string(r->get(0, 0)) : "rows=" + std::to_string(r->rows());
}

// True when a new listener could take the port (SO_REUSEADDR, as PostgreSQL uses).
bool PortIsFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

TEST(PgSandboxTest, RowsRoundTripWithBoundParameters) {
  PgSandbox& pg = Shared();
  EXPECT_EQ(pg.uri(), "postgresql://postgres@127.0.0.1:" + std::to_string(pg.port()) + "/postgres");
  auto conn = ConnectOrDie(pg.uri());
  ASSERT_TRUE(conn->Exec("CREATE TABLE items (id bigint PRIMARY KEY, name text)").ok());
  for (int i = 1; i <= 3; ++i) {
    auto r = conn->Query("INSERT INTO items VALUES ($1, $2)",
                         {std::to_string(i), "item " + std::to_string(i)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  auto rows = conn->Query("SELECT id, name FROM items ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rows->get(i, 0), std::to_string(i + 1));
    EXPECT_EQ(rows->get(i, 1), "item " + std::to_string(i + 1));
  }
}

TEST(PgSandboxTest, DefaultAndCallerSettingsAreApplied) {
  PgSandboxOptions options;
  options.settings = {{"max_wal_senders", "7"}, {"application_name", "it's me"}};
  auto pg = StartOrDie(options);
  auto conn = ConnectOrDie(pg->uri());
  EXPECT_EQ(One(*conn, "SHOW wal_level"), "logical");
  EXPECT_EQ(One(*conn, "SHOW max_replication_slots"), "10");
  EXPECT_EQ(One(*conn, "SHOW max_wal_senders"), "7");
  EXPECT_EQ(One(*conn, "SHOW application_name"), "it's me");  // quoted in the conf file
  EXPECT_EQ(One(*conn, "SHOW listen_addresses"), "127.0.0.1");
  EXPECT_EQ(One(*conn, "SHOW server_encoding"), "UTF8");
  EXPECT_EQ(One(*conn, "SELECT current_user"), "postgres");
}

TEST(PgSandboxTest, ManagedAndMalformedSettingsAreRefused) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"port", "5432"}, {"bad name", "1"}, {"work_mem", "1MB\nfsync = on"}}) {
    PgSandboxOptions options;
    options.settings = {{name, value}};
    auto r = PgSandbox::Start(options);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  }
}

TEST(PgSandboxTest, FailedStartReportsServerLogAndLeavesNothing) {
  std::string dir = fs::temp_directory_path().string() + "/sqlift-bad-" + std::to_string(getpid());
  fs::remove_all(dir);
  PgSandboxOptions options;
  options.dir = dir;
  options.settings = {{"shared_buffers", "plenty"}};
  auto r = PgSandbox::Start(options);
  ASSERT_FALSE(r.ok());
  std::string text = r.status().ToString();
  EXPECT_NE(text.find("server.log"), std::string::npos) << text;
  EXPECT_NE(text.find("invalid value for parameter \"shared_buffers\""), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(dir));
}

TEST(PgSandboxTest, DataSurvivesCrashAndRestart) {
  auto pg = StartOrDie();
  {
    auto conn = ConnectOrDie(pg->uri());
    ASSERT_TRUE(conn->Exec("CREATE TABLE t (v text); INSERT INTO t VALUES ('before crash')").ok());
  }
  int port = pg->port();
  ASSERT_TRUE(pg->Crash().ok());
  EXPECT_FALSE(pg->running());
  auto refused = PgConnection::Connect(pg->uri(), kTimeout);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kUnavailable);

  Status st = pg->Restart();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(pg->running());
  EXPECT_EQ(pg->port(), port);
  auto conn = ConnectOrDie(pg->uri());
  EXPECT_EQ(One(*conn, "SELECT string_agg(v, ',') FROM t"), "before crash");
}

TEST(PgSandboxTest, StopKeepsDataAndDestructorRemovesEverything) {
  auto pg = StartOrDie();
  std::string dir = pg->dir();
  int port = pg->port();
  EXPECT_TRUE(fs::exists(dir + "/sandbox.info"));
  EXPECT_FALSE(PortIsFree(port));
  ASSERT_TRUE(pg->Stop().ok());
  EXPECT_FALSE(pg->running());
  EXPECT_TRUE(fs::exists(pg->data_dir() + "/PG_VERSION"));
  ASSERT_TRUE(pg->Restart().ok());
  EXPECT_TRUE(pg->running());
  pg.reset();  // running: the destructor stops it
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(PortIsFree(port));
}

TEST(PgSandboxTest, TwoSandboxesRunSideBySide) {
  auto a = StartOrDie();
  auto b = StartOrDie();
  EXPECT_NE(a->port(), b->port());
  EXPECT_NE(a->dir(), b->dir());
  auto ca = ConnectOrDie(a->uri());
  auto cb = ConnectOrDie(b->uri());
  ASSERT_TRUE(ca->Exec("CREATE TABLE only_in_a (x int)").ok());
  EXPECT_EQ(One(*ca, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"), "1");
  EXPECT_EQ(One(*cb, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"), "0");
}

TEST(PgSandboxTest, CreateDatabaseQuotesTheName) {
  PgSandbox& pg = Shared();
  const std::string name = "Tenant \"A\"; DROP DATABASE postgres; --";
  auto uri = pg.CreateDatabase(name);
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  auto conn = ConnectOrDie(*uri);
  EXPECT_EQ(One(*conn, "SELECT current_database()"), name);
  auto admin = ConnectOrDie(pg.uri());
  EXPECT_EQ(One(*admin, "SELECT count(*) FROM pg_database WHERE datname = 'postgres'"), "1");

  auto too_long = pg.CreateDatabase(std::string(64, 'x'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), Status::Code::kInvalidArgument);
}

TEST(PgSandboxTest, KeptSandboxIsFoundAndStoppedByDirectory) {
  std::string dir = fs::temp_directory_path().string() + "/sqlift-kept-" + std::to_string(getpid());
  fs::remove_all(dir);
  int port = 0;
  {
    PgSandboxOptions options;
    options.dir = dir;
    options.keep = true;
    auto pg = StartOrDie(options);
    EXPECT_EQ(pg->dir(), dir);
    port = pg->port();
  }
  auto info = PgSandbox::ReadInfo(dir);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->port, port);
  EXPECT_EQ(info->data_dir, dir + "/data");
  auto conn = ConnectOrDie(info->uri);  // still running after the object is gone
  EXPECT_EQ(One(*conn, "SELECT 1"), "1");
  conn.reset();

  Status st = PgSandbox::StopDir(dir);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(PortIsFree(port));
}

TEST(PgSandboxTest, StopDirRefusesADirectoryThatIsNotASandbox) {
  std::string dir = fs::temp_directory_path().string() + "/sqlift-not-" + std::to_string(getpid());
  fs::create_directories(dir);
  std::ofstream(dir + "/precious.txt") << "keep me";
  EXPECT_FALSE(PgSandbox::StopDir(dir).ok());
  EXPECT_TRUE(fs::exists(dir + "/precious.txt"));
  PgSandboxOptions options;
  options.dir = dir;
  auto r = PgSandbox::Start(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(fs::exists(dir + "/precious.txt"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sqlift
