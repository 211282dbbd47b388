// The capture daemon's /status, /metrics and /route from given positions (an outbox or, in wal
// capture mode, the agent's progress file in a temporary directory, an in-memory log), and the
// routes part of `sqlift status`. The JSON is parsed and its fields asserted, not its layout.
#include "tools/daemon/daemon_status.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "apply/reverse/reverse_runner_env.h"
#include "capture/agent/route_writer.h"
#include "common/json/json.h"
#include "common/sqlite/sqlite_db.h"
#include "state/keys.h"
#include "tools/daemon/status_routes.h"

namespace sqlift {
namespace {

using nlohmann::json;

// name{labels} → value, from Prometheus text; every sample's name must have # HELP and # TYPE.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> out;
  std::set<std::string> typed;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) typed.insert(line.substr(7, line.find(' ', 7) - 7));
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    std::string key = line.substr(0, space);
    EXPECT_TRUE(typed.count(key.substr(0, key.find('{')))) << line;
    out[key] = std::stod(line.substr(space + 1));
  }
  return out;
}

RouteRow Route(std::string tenant, std::string_view side, int64_t epoch, bool fenced) {
  RouteRow r;
  r.tenant = std::move(tenant);
  r.side = std::string(side);
  r.epoch = epoch;
  r.fenced = fenced;
  return r;
}

class AgentStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sqlift_daemon_status_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    cfg_.source_id = "app";
    cfg_.source_sqlite = (dir_ / "app.db").string();
    auto db = SqliteDb::Open(cfg_.source_sqlite, SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    // The captured position: the outbox's high-water mark, 42.
    ASSERT_TRUE((*db)
                    ->Exec("CREATE TABLE _sqlift_outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                           "payload BLOB); INSERT INTO _sqlift_outbox VALUES (42, x'00')")
                    .ok());
    log_ = state::NewMemChangeLog();
    std::vector<state::LogRecord> records;
    for (uint64_t seq = 1; seq <= 40; ++seq)
      records.push_back({seq, "x"});
    state::RouteRecord route{"acme",
                             ToWire(Route("acme", kSidePostgres, 2, true)).SerializeAsString()};
    ASSERT_TRUE(log_->Append(records, {route}).ok());
    ASSERT_TRUE(log_->SetPosition(state::kMetaAckedSeq, 35).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  Config cfg_;
  std::unique_ptr<state::ChangeLog> log_;
};

TEST_F(AgentStatusTest, StatusNamesEveryPosition) {
  HttpResponse res = AgentStatus(cfg_, *log_, nullptr, nullptr);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/json");
  json j = json::parse(res.body);
  EXPECT_EQ(j["daemon"], "capture");
  EXPECT_EQ(j["source"], "app");
  EXPECT_EQ(j["capture_mode"], "recorder");
  EXPECT_TRUE(j["wal"].is_null());
  EXPECT_EQ(j["captured_seq"], 42);
  EXPECT_EQ(j["logged_seq"], 40);
  EXPECT_EQ(j["acked_seq"], 35);
  EXPECT_EQ(j["lag_seqs"], 7);
  EXPECT_TRUE(j["shipper"].is_null());
  EXPECT_TRUE(j["reverse"].is_null());
  EXPECT_EQ(j["error"], "");
  ASSERT_EQ(j["routes"].size(), 1u);
  EXPECT_EQ(j["routes"][0]["tenant"], "acme");
  EXPECT_EQ(j["routes"][0]["side"], "postgres");
  EXPECT_EQ(j["routes"][0]["epoch"], 2);
  EXPECT_EQ(j["routes"][0]["fenced"], true);
}

TEST_F(AgentStatusTest, StatusWithAShipperAndReverseReplication) {
  Shipper shipper(ShipperOptions{}, log_.get());  // not started: nothing shipped yet
  struct NothingOnPostgres : ReverseEnv {
    Result<bool> AnyOnPostgres() override { return false; }
    Result<std::unique_ptr<ReverseSink>> OpenSink() override { return Status::Internal("no"); }
    Result<std::unique_ptr<ReverseSource>> OpenSource(pgchange::Lsn) override {
      return Status::Internal("no");
    }
  };
  auto reverse =
      ReverseRunner::Start(std::make_unique<NothingOnPostgres>(), std::chrono::milliseconds(10));
  json j = json::parse(AgentStatus(cfg_, *log_, &shipper, reverse.get()).body);
  EXPECT_EQ(j["shipper"]["shipped_seq"], 0);
  EXPECT_EQ(j["shipper"]["snapshotting"], false);
  EXPECT_EQ(j["shipper"]["last_error"], "");
  EXPECT_EQ(j["reverse"]["streaming"], false);
  EXPECT_EQ(j["reverse"]["failed"], false);
  EXPECT_EQ(j["reverse"]["applied_lsn"], "0/0");
  EXPECT_EQ(j["reverse"]["transactions"], 0);
  std::map<std::string, double> m =
      Samples(AgentMetrics(cfg_, *log_, &shipper, reverse.get()).body);
  EXPECT_EQ(m.at("sqlift_shipped_seq{source=\"app\"}"), 0);
  EXPECT_EQ(m.at("sqlift_reverse_streaming{source=\"app\"}"), 0);
  EXPECT_EQ(m.at("sqlift_reverse_failed{source=\"app\"}"), 0);
}

TEST_F(AgentStatusTest, AnUnreadableOutboxIsAnErrorNotAFailure) {
  cfg_.source_sqlite = (dir_ / "missing" / "app.db").string();
  json j = json::parse(AgentStatus(cfg_, *log_, nullptr, nullptr).body);
  EXPECT_EQ(j["captured_seq"], 0);
  EXPECT_EQ(j["logged_seq"], 40);
  EXPECT_NE(j["error"].get<std::string>(), "");
}

TEST_F(AgentStatusTest, MetricsFromThePositions) {
  HttpResponse res = AgentMetrics(cfg_, *log_, nullptr, nullptr);
  EXPECT_EQ(res.content_type.rfind("text/plain", 0), 0u) << res.content_type;
  std::map<std::string, double> m = Samples(res.body);
  EXPECT_EQ(m.at("sqlift_captured_seq{source=\"app\"}"), 42);
  EXPECT_EQ(m.at("sqlift_logged_seq{source=\"app\"}"), 40);
  EXPECT_EQ(m.at("sqlift_acked_seq{source=\"app\"}"), 35);
  EXPECT_EQ(m.at("sqlift_lag_seqs{source=\"app\"}"), 7);
  EXPECT_EQ(m.count("sqlift_shipped_seq{source=\"app\"}"), 0u);  // no shipper
}

// wal capture mode: the captured position is the agent's progress file, not the outbox.
TEST_F(AgentStatusTest, WalModeReportsTheAgentsProgress) {
  auto db = SqliteDb::Open(cfg_.source_sqlite, SqliteDb::Mode::kReadWrite);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)
                  ->Exec("CREATE TABLE _sqlift_state (key TEXT PRIMARY KEY, value); "
                         "INSERT INTO _sqlift_state VALUES ('capture_mode', 'wal')")
                  .ok());
  cfg_.state_dir = dir_.string();
  json before = json::parse(AgentStatus(cfg_, *log_, nullptr, nullptr).body);
  EXPECT_EQ(before["capture_mode"], "wal");
  EXPECT_EQ(before["captured_seq"], 0);  // the agent has published nothing yet
  EXPECT_TRUE(before["wal"].is_null());
  EXPECT_EQ(before["error"], "");
  ASSERT_TRUE(wal::WriteWalProgress(wal::WalProgressPath(cfg_.state_dir), {5, 6, 120, 38, 0}).ok());
  json j = json::parse(AgentStatus(cfg_, *log_, nullptr, nullptr).body);
  EXPECT_EQ(j["captured_seq"], 38);
  EXPECT_EQ(j["logged_seq"], 40);
  EXPECT_EQ(j["lag_seqs"], 3);
  EXPECT_EQ(j["wal"]["generation"], "5/6");
  EXPECT_EQ(j["wal"]["frames"], 120);
  EXPECT_EQ(j["wal"]["logged_seq"], 38);
  EXPECT_EQ(j["wal"]["written_at"], "1970-01-01T00:00:00.000000Z");
  std::map<std::string, double> m = Samples(AgentMetrics(cfg_, *log_, nullptr, nullptr).body);
  EXPECT_EQ(m.at("sqlift_captured_seq{source=\"app\"}"), 38);
  EXPECT_EQ(m.at("sqlift_wal_frames_decoded{source=\"app\"}"), 120);
  cfg_.state_dir.clear();
  json unknown = json::parse(AgentStatus(cfg_, *log_, nullptr, nullptr).body);
  EXPECT_NE(unknown["error"].get<std::string>().find("[state] dir"), std::string::npos);
}

TEST_F(AgentStatusTest, RouteOfOneTenantOrEvery) {
  json one = json::parse(AgentRoutes(*log_, {{"tenant", "acme"}}).body);
  EXPECT_EQ(one["tenant"], "acme");
  EXPECT_EQ(one["side"], "postgres");
  EXPECT_EQ(one["epoch"], 2);
  json other = json::parse(AgentRoutes(*log_, {{"tenant", "beta"}}).body);
  EXPECT_EQ(other["side"], "sqlite");  // no route of its own, none for "*": on SQLite
  EXPECT_EQ(other["epoch"], 0);
  json all = json::parse(AgentRoutes(*log_, {}).body);
  ASSERT_EQ(all["routes"].size(), 1u);
  EXPECT_EQ(all["routes"][0]["tenant"], "acme");
}

// GET /route while a switch is in flight: a cutover's fence (sqlite, fenced) and a fallback's
// (postgres, fenced) both answer fenced, which writers read as "wait and ask again" before the
// side; so does a tenant that follows a fenced whole-database route (named as asked).
TEST_F(AgentStatusTest, RouteWhileFencedSaysFencedWhateverItsSide) {
  std::vector<state::RouteRecord> routes;
  for (const RouteRow& r :
       {Route("acme", kSideSqlite, 4, true), Route("globex", kSidePostgres, 5, true),
        Route("*", kSideSqlite, 6, true)})
    routes.push_back({r.tenant, ToWire(r).SerializeAsString()});
  ASSERT_TRUE(log_->Append({{41, "x"}}, routes).ok());
  const std::vector<std::tuple<std::string, std::string, std::string, int>> want = {
      {"acme", "acme", "sqlite", 4},
      {"globex", "globex", "postgres", 5},
      {"initech", "initech", "sqlite", 6}};
  for (const auto& [asked, tenant, side, epoch] : want) {
    json j = json::parse(AgentRoutes(*log_, {{"tenant", asked}}).body);
    EXPECT_EQ(j["fenced"], true) << asked;
    EXPECT_EQ(j["tenant"], tenant);
    EXPECT_EQ(j["side"], side);
    EXPECT_EQ(j["epoch"], epoch);
  }
  json all = json::parse(AgentRoutes(*log_, {}).body);
  ASSERT_EQ(all["routes"].size(), 3u);
  for (const json& r : all["routes"])
    EXPECT_EQ(r["fenced"], true) << r.dump();
}

TEST(RoutesStatusTest, BothSidesOfEachRouteAndTheSlot) {
  std::vector<TenantRouteStatus> routes = {
      {"acme", "postgres", 3, false, std::string("postgres"), 3, false},
      {"beta", "sqlite", 1, true, std::nullopt, std::nullopt, std::nullopt}};
  ReverseStatus reverse{true, true, "0/16B3748", 512, "0/16B3700"};
  Json doc = Json::object();
  AddRoutesStatusJson(routes, reverse, &doc);
  json j = json::parse(DumpJson(doc));
  ASSERT_EQ(j["routes"].size(), 2u);
  EXPECT_EQ(j["routes"][0]["tenant"], "acme");
  EXPECT_EQ(j["routes"][0]["postgres_side"], "postgres");
  EXPECT_EQ(j["routes"][0]["postgres_epoch"], 3);
  EXPECT_EQ(j["routes"][1]["fenced"], true);
  EXPECT_TRUE(j["routes"][1]["postgres_side"].is_null());
  EXPECT_EQ(j["reverse"]["slot"], true);
  EXPECT_EQ(j["reverse"]["confirmed_lsn"], "0/16B3748");
  EXPECT_EQ(j["reverse"]["lag_bytes"], 512);
  std::string text = RoutesStatusText(routes, reverse);
  EXPECT_NE(text.find("FENCED"), std::string::npos) << text;
  EXPECT_NE(text.find("512 bytes"), std::string::npos) << text;
  EXPECT_NE(RoutesStatusText({}, ReverseStatus{}).find("no replication slot"), std::string::npos);
}

}  // namespace
}  // namespace sqlift
