#include "common/config/config.h"

#include <gtest/gtest.h>

#include <map>

namespace sqlift {
namespace {

constexpr std::string_view kFull = R"(# the design's example
[source]
id = "app"
sqlite = "/var/lib/app/app.db"
tenant_column = "tenant_id"
[state]
dir = "/var/lib/sqlift/app"
[target]
pg = "postgresql://sqlift@db.internal/app"
[transport]
listen = "127.0.0.1:7430"
connect = "127.0.0.1:7430"
token_file = "/etc/sqlift/token"
[http]
listen = "127.0.0.1:7431"
[log]
format = "json"
level = "debug"
)";

TEST(ConfigTest, ParsesEveryDesignKey) {
  Result<Config> r = ParseConfig(kFull, "sqlift.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Config& c = *r;
  EXPECT_EQ(c.source_id, "app");
  EXPECT_EQ(c.source_sqlite, "/var/lib/app/app.db");
  EXPECT_EQ(c.source_tenant_column, "tenant_id");
  EXPECT_EQ(c.state_dir, "/var/lib/sqlift/app");
  EXPECT_EQ(c.target_pg, "postgresql://sqlift@db.internal/app");
  EXPECT_EQ(c.transport_listen, "127.0.0.1:7430");
  EXPECT_EQ(c.transport_connect, "127.0.0.1:7430");
  EXPECT_EQ(c.transport_token_file, "/etc/sqlift/token");
  EXPECT_EQ(c.http_listen, "127.0.0.1:7431");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.log_level, "debug");
}

TEST(ConfigTest, WrongTypeNamesFileLineAndKey) {
  Result<Config> r = ParseConfig("[source]\nid = \"a\"\nsqlite = 42\n", "x.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "x.toml:3:10: source.sqlite: expected a string, got an integer");
}

TEST(ConfigTest, UnknownKeyIsRefused) {
  Result<Config> r = ParseConfig("[state]\ndirr = \"/tmp\"\n", "x.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("x.toml:2:8: unknown key 'state.dirr'"), std::string::npos)
      << r.status().message();
}

TEST(ConfigTest, SyntaxErrorHasLine) {
  Result<Config> r = ParseConfig("[source]\nid = \"unterminated\n", "bad.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("bad.toml:2:", 0), 0u) << r.status().message();
}

TEST(ConfigTest, EnumerationAndRangeChecked) {
  Result<Config> r = ParseConfig("[log]\nformat = \"xml\"\n", "x.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'xml' is not one of: text, json"), std::string::npos);
  Result<Config> r2 = ParseConfig("[transport]\nmax_frame_bytes = 12\n", "x.toml");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("out of range"), std::string::npos);
}

TEST(ConfigTest, SectionMustBeATable) {
  Result<Config> r = ParseConfig("source = 3\n", "x.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected a [section] table"), std::string::npos);
}

TEST(ConfigTest, TenantModesAreExclusive) {
  Result<Config> r = ParseConfig("[source]\ntenant_column = \"t\"\ntenant = \"acme\"\n", "x.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not both"), std::string::npos);
}

TEST(ConfigTest, BadEndpointNamesKey) {
  Result<Config> r = ParseConfig("[http]\nlisten = \"localhost\"\n", "x.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("http.listen"), std::string::npos);
}

TEST(ConfigTest, RequireListsEveryMissingKey) {
  Result<Config> r = ParseConfig("[source]\nid = \"app\"\n", "x.toml");
  ASSERT_TRUE(r.ok());
  Status s = r->Require({"source.id", "source.sqlite", "state.dir"}, "capture");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "x.toml is incomplete:\n  [source] sqlite is required by `sqlift capture`\n"
            "  [state] dir is required by `sqlift capture`");
  EXPECT_TRUE(r->Require({"source.id"}, "capture").ok());
}

TEST(ConfigTest, MissingFileIsNotFound) {
  Result<Config> r = LoadConfigFile("/nonexistent/sqlift.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/sqlift.toml"), std::string::npos);
}

TEST(ConfigTest, ArraysOfStrings) {
  Result<Config> r = ParseConfig("[source]\nexclude_tables = [\"a\", \"b c\"]\n", "x.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source_exclude_tables, (std::vector<std::string>{"a", "b c"}));
  Result<Config> bad = ParseConfig("[source]\nexclude_tables = [\"a\", 3]\n", "x.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "x.toml:2:24: source.exclude_tables: expected strings, got an integer");
}

TEST(ConfigTest, MappingTakesQuotedKeysAndTablesPerTable) {
  Result<Config> r = ParseConfig(
      "[mapping]\n\"rooms.price\" = \"numeric(12,2)\"\n[mapping.users]\nemail = \"varchar(200)\"\n",
      "m.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->mapping.size(), 2u);
  EXPECT_EQ(r->mapping[0].column, "rooms.price");
  EXPECT_EQ(r->mapping[0].pg_type, "numeric(12,2)");
  EXPECT_EQ(r->mapping[0].where, "m.toml:2:17");
  EXPECT_EQ(r->mapping[1].column, "users.email");
  EXPECT_EQ(r->mapping[1].pg_type, "varchar(200)");
}

TEST(ConfigTest, MappingValuesMustBeTypeStrings) {
  Result<Config> r = ParseConfig("[mapping]\n\"rooms.price\" = 12\n", "m.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("m.toml:2:17: mapping.rooms.price: expected a type name"),
            std::string::npos)
      << r.status().ToString();
  r = ParseConfig("[mapping]\nprice = \"text\"\n", "m.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("m.toml:2:9: mapping.price"), std::string::npos)
      << r.status().ToString();
}

TEST(ConfigTest, MappingMayDeclareTheUnitOfATimeColumn) {
  Result<Config> r = ParseConfig(
      "[mapping]\n\"Lead.capturedAt\" = { type = \"timestamptz(3)\", unit = \"ms\" }\n"
      "\"Lead.price\" = \"numeric(12,2)\"\n[mapping.Event]\nat = { type = \"timestamptz\", "
      "unit = \"julianday\" }\n",
      "m.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->mapping.size(), 3u);  // in key order
  EXPECT_EQ(r->mapping[0].column, "Event.at");
  EXPECT_EQ(r->mapping[0].unit, "julianday");
  EXPECT_EQ(r->mapping[1].column, "Lead.capturedAt");
  EXPECT_EQ(r->mapping[1].pg_type, "timestamptz(3)");
  EXPECT_EQ(r->mapping[1].unit, "ms");
  EXPECT_EQ(r->mapping[1].where, "m.toml:2:21");
  EXPECT_EQ(r->mapping[2].pg_type, "numeric(12,2)");
  EXPECT_EQ(r->mapping[2].unit, "");
}

TEST(ConfigTest, MappingUnitIsCheckedStrictly) {
  auto error = [](const std::string& entry) {
    Result<Config> r = ParseConfig("[mapping]\n\"Lead.at\" = " + entry + "\n", "m.toml");
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_NE(
      error("{ type = \"timestamptz\", unit = \"ns\" }")
          .find("m.toml:2:44: mapping.Lead.at: unit 'ns' is not one of: s, ms, us, julianday"),
      std::string::npos);
  EXPECT_NE(
      error("{ type = \"timestamptz\", units = \"ms\" }")
          .find("m.toml:2:45: mapping.Lead.at: unknown key 'units' (expected type, unit, column)"),
      std::string::npos)
      << error("{ type = \"timestamptz\", units = \"ms\" }");
  EXPECT_NE(
      error("{ unit = \"ms\" }").find("m.toml:2:13: mapping.Lead.at: type or column is required"),
      std::string::npos)
      << error("{ unit = \"ms\" }");
  EXPECT_NE(error("{ type = \"timestamptz\", unit = 1000 }").find("unit: expected a string"),
            std::string::npos);
}

TEST(ConfigTest, MappingMayNameTheExistingTargetsColumn) {
  const std::string mapping = "[mapping]\n\"Lead.mail\" = { column = \"email\" }\n";
  Result<Config> r = ParseConfig("[target]\nschema_mode = \"existing\"\n" + mapping, "m.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->mapping.size(), 1u);
  EXPECT_EQ(r->mapping[0].target_column, "email");
  EXPECT_EQ(r->mapping[0].pg_type, "");
  // sqlift's own schema keeps SQLite's names.
  r = ParseConfig(mapping, "m.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("mapping.Lead.mail: column names the existing target's"),
            std::string::npos)
      << r.status().ToString();
}

TEST(ConfigTest, ShadowKeys) {
  Result<Config> r =
      ParseConfig("[shadow]\nlog = \"/var/lib/app/shadow.log\"\nrate = 0.25\n", "s.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->shadow_log, "/var/lib/app/shadow.log");
  EXPECT_DOUBLE_EQ(r->shadow_rate, 0.25);
  EXPECT_TRUE(r->Require({"shadow.log"}, "shadow").ok());
  // An integer is a number too (rate = 1 samples every read).
  r = ParseConfig("[shadow]\nrate = 1\n", "s.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->shadow_rate, 1.0);
  EXPECT_DOUBLE_EQ(ParseConfig("", "s.toml")->shadow_rate, 0.0);  // default: off

  r = ParseConfig("[shadow]\nrate = 1.5\n", "s.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "s.toml:2:8: shadow.rate: 1.5 is out of range [0, 1]");
  r = ParseConfig("[shadow]\nrate = -0.1\n", "s.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("out of range"), std::string::npos);
  r = ParseConfig("[shadow]\nrate = \"half\"\n", "s.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "s.toml:2:8: shadow.rate: expected a number, got a string");
  r = ParseConfig("[shadow]\nlog = 3\n", "s.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "s.toml:2:7: shadow.log: expected a string, got an integer");
  r = ParseConfig("[shadow]\nlogs = \"x\"\n", "s.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown key 'shadow.logs'"), std::string::npos);
  Status missing = ParseConfig("", "s.toml")->Require({"shadow.log"}, "shadow");
  EXPECT_EQ(missing.message(),
            "s.toml is incomplete:\n  [shadow] log is required by `sqlift shadow`");
}

TEST(ConfigTest, ShippedExampleLoads) {
  Result<Config> r = LoadConfigFile(SQLIFT_EXAMPLE_CONFIG);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source_id, "app");
  EXPECT_EQ(r->shadow_log, "/var/lib/app/shadow.log");
  EXPECT_DOUBLE_EQ(r->shadow_rate, 0.01);
  EXPECT_TRUE(r->Require({"source.id", "source.sqlite", "state.dir", "target.pg",
                          "transport.listen", "transport.connect", "http.listen"},
                         "apply")
                  .ok());
}

TEST(EndpointTest, Parses) {
  Result<Endpoint> e = ParseEndpoint("127.0.0.1:7430");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 7430);
  Result<Endpoint> v6 = ParseEndpoint("[::1]:9");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_FALSE(ParseEndpoint("host:").ok());
  EXPECT_FALSE(ParseEndpoint("host:70000").ok());
  EXPECT_FALSE(ParseEndpoint(":80").ok());
  EXPECT_FALSE(ParseEndpoint("host:8x").ok());
}

TEST(ConfigTest, TargetSchemaModeAndConstants) {
  Result<Config> d = ParseConfig("[target]\npg = \"x\"\n", "x.toml");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->target_schema_mode, "create");
  EXPECT_TRUE(d->target_constants.empty());
  Result<Config> r = ParseConfig(
      "[target]\nschema_mode = \"existing\"\n[target.constants]\ntenant_id = \"8f14\"\n"
      "[target.constants.Lead]\nregion = \"eu\"\n",
      "x.toml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->target_schema_mode, "existing");
  ASSERT_EQ(r->target_constants.size(), 2u);
  std::map<std::string, Config::ConstantEntry> by_column;
  for (const Config::ConstantEntry& e : r->target_constants)
    by_column[e.column] = e;
  EXPECT_EQ(by_column["tenant_id"].table, "");
  EXPECT_EQ(by_column["tenant_id"].value, "8f14");
  EXPECT_EQ(by_column["region"].table, "Lead");
  EXPECT_EQ(by_column["region"].value, "eu");
  Result<Config> bad = ParseConfig("[target]\nschema_mode = \"replace\"\n", "x.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'replace' is not one of: create, existing"),
            std::string::npos);
  Result<Config> ignored = ParseConfig("[target.constants]\ntenant_id = \"8f14\"\n", "x.toml");
  ASSERT_FALSE(ignored.ok());
  EXPECT_NE(ignored.status().message().find("x.toml:2:13: target.constants fills columns of an "
                                            "existing target schema"),
            std::string::npos)
      << ignored.status().message();
  Result<Config> bad2 = ParseConfig("[target.constants]\ntenant_id = 3\n", "x.toml");
  ASSERT_FALSE(bad2.ok());
  EXPECT_NE(bad2.status().message().find("x.toml:2:13: target.constants: tenant_id"),
            std::string::npos)
      << bad2.status().message();
}

}  // namespace
}  // namespace sqlift
