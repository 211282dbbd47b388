// The matcher of existing target schemas: a SQLite schema translated as `plan` translates it
// (an in-memory database read back with common/sqlite's ReadSchema), matched against target
// catalogs written out by hand as ReadTargetCatalog would return them.
#include "apply/translate/existing_schema.h"

#include <gtest/gtest.h>

#include "common/sqlite/sqlite_schema.h"

namespace sqlift {
namespace {

SchemaPlan Translate(const std::string& sql) {
  auto db = SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWriteCreate);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_TRUE((*db)->Exec(sql).ok());
  Result<std::vector<TableSchema>> tables = ReadSchema(**db);
  EXPECT_TRUE(tables.ok()) << tables.status().ToString();
  Result<SchemaPlan> p = TranslateSchema(*tables, {});
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return *p;
}

TargetColumn Col(std::string name, std::string type, bool not_null = false,
                 bool has_default = false) {
  TargetColumn c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.not_null = not_null;
  c.has_default = has_default;
  return c;
}

const Problem* Find(const SchemaPlan& p, std::string_view column, Problem::Severity s) {
  for (const Problem& x : p.problems)
    if (x.column == column && x.severity == s) return &x;
  return nullptr;
}

int Blockers(const SchemaPlan& p) {
  int n = 0;
  for (const Problem& x : p.problems)
    n += x.severity == Problem::Severity::kBlocker;
  return n;
}

constexpr const char* kLead =
    "CREATE TABLE Lead (id TEXT PRIMARY KEY, email TEXT NOT NULL, createdAt DATETIME, "
    "score INTEGER, active BOOLEAN);";

// Prisma's target: quoted camelCase, timestamp(3), a tenant_id, a defaulted updatedAt.
std::vector<TargetTable> PrismaLead() {
  TargetTable t;
  t.name = "Lead";
  t.columns = {Col("id", "text", true),
               Col("tenant_id", "uuid", true),
               Col("email", "varchar(40)", true),
               Col("createdAt", "timestamp(3)"),
               Col("SCORE", "integer"),
               Col("active", "boolean"),
               Col("updatedAt", "timestamp(3)", true, true)};
  t.primary_key = {"id"};
  return {t};
}

TEST(ExistingSchemaTest, MatchesNamesIgnoringCaseAndTakesTheTargetsTypes) {
  SchemaPlan p = Translate(kLead);
  Result<ExistingMatch> m = MatchExistingSchema(
      PrismaLead(), {{"", "tenant_id", "8f14e45f-ceea-467e-a8f9-6a2f1f9d2f3c"}}, "public", &p);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(Blockers(p), 0) << p.problems[0].what;
  EXPECT_TRUE(p.ddl.empty());  // nothing is created
  ASSERT_EQ(p.tables.size(), 1u);
  const TablePlan& t = p.tables[0];
  ASSERT_EQ(t.columns.size(), 6u);  // five source columns and the constant
  EXPECT_EQ(t.columns[3].source_name, "score");
  EXPECT_EQ(t.columns[3].pg_name, "SCORE");
  EXPECT_EQ(t.columns[3].mapping.type.kind, PgType::Kind::kInteger);
  EXPECT_EQ(t.columns[2].mapping.type.kind, PgType::Kind::kTimestamp);
  EXPECT_EQ(t.columns[2].mapping.type.time_precision, 3);
  EXPECT_EQ(t.columns[5].pg_name, "tenant_id");
  EXPECT_EQ(t.columns[5].constant, "8f14e45f-ceea-467e-a8f9-6a2f1f9d2f3c");
  EXPECT_EQ(t.columns[5].mapping.type.kind, PgType::Kind::kUuid);
  ASSERT_EQ(m->target_only.size(), 1u);
  EXPECT_EQ(m->target_only[0], "Lead.updatedAt: timestamp(3) DEFAULT");
  // The conversions that may fail, and the one that rounds, are warnings.
  const Problem* email = Find(p, "email", Problem::Severity::kWarning);
  ASSERT_NE(email, nullptr);
  EXPECT_NE(email->what.find("longer than 40"), std::string::npos) << email->what;
  const Problem* score = Find(p, "score", Problem::Severity::kWarning);
  ASSERT_NE(score, nullptr);
  EXPECT_NE(score->what.find("integer's range"), std::string::npos) << score->what;
  const Problem* at = Find(p, "createdAt", Problem::Severity::kWarning);
  ASSERT_NE(at, nullptr);
  EXPECT_NE(at->what.find("beyond 3 digits are rounded"), std::string::npos) << at->what;
}

// [mapping] "Lead.mail" = { column = "email" }: a source column filling a target column of
// another name, with the default type mapping; a rename to a column that does not exist blocks.
TEST(ExistingSchemaTest, AMappingEntryNamesTheTargetColumn) {
  auto db = SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWriteCreate);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)
                  ->Exec("CREATE TABLE Lead (id TEXT PRIMARY KEY, mail TEXT NOT NULL, "
                         "createdAt DATETIME, score INTEGER, on_off BOOLEAN);")
                  .ok());
  Result<std::vector<TableSchema>> tables = ReadSchema(**db);
  ASSERT_TRUE(tables.ok());
  TranslateOptions o;
  o.overrides["Lead.mail"].column = "email";
  o.overrides["lead.ON_OFF"].column = "enabled";
  Result<SchemaPlan> p = TranslateSchema(*tables, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->tables[0].columns[1].pg_name, "mail");  // sqlift's own schema keeps the name
  ASSERT_TRUE(MatchExistingSchema(PrismaLead(),
                                  {{"", "tenant_id", "8f14e45f-ceea-467e-a8f9-6a2f1f9d2f3c"}},
                                  "public", &*p)
                  .ok());
  EXPECT_EQ(p->tables[0].columns[1].source_name, "mail");
  EXPECT_EQ(p->tables[0].columns[1].pg_name, "email");
  EXPECT_EQ(p->tables[0].columns[1].mapping.type.kind, PgType::Kind::kVarchar);
  const Problem* on_off = Find(*p, "on_off", Problem::Severity::kBlocker);
  ASSERT_NE(on_off, nullptr);
  EXPECT_EQ(on_off->what, "Lead has no column enabled (the [mapping] entry's column)");
  EXPECT_EQ(Find(*p, "mail", Problem::Severity::kBlocker), nullptr);
}

TEST(ExistingSchemaTest, MissingTablesAndColumnsBlock) {
  SchemaPlan p = Translate(std::string(kLead) + "CREATE TABLE Note (id INTEGER PRIMARY KEY);");
  std::vector<TargetTable> target = PrismaLead();
  target[0].columns.erase(target[0].columns.begin() + 5);  // no "active"
  ASSERT_TRUE(MatchExistingSchema(
                  target, {{"", "tenant_id", "8f14e45f-ceea-467e-a8f9-6a2f1f9d2f3c"}}, "public", &p)
                  .ok());
  const Problem* active = Find(p, "active", Problem::Severity::kBlocker);
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->what, "Lead has no column of this name");
  bool note = false;
  for (const Problem& x : p.problems)
    note = note || (x.table == "Note" && x.severity == Problem::Severity::kBlocker);
  EXPECT_TRUE(note);
}

TEST(ExistingSchemaTest, ExtraNotNullColumnWithoutDefaultBlocksUnlessConstant) {
  SchemaPlan p = Translate(kLead);
  ASSERT_TRUE(MatchExistingSchema(PrismaLead(), {}, "public", &p).ok());
  const Problem* tenant = Find(p, "tenant_id", Problem::Severity::kBlocker);
  ASSERT_NE(tenant, nullptr);
  EXPECT_NE(tenant->what.find("NOT NULL without a default"), std::string::npos) << tenant->what;
  EXPECT_EQ(Blockers(p), 1);
}

TEST(ExistingSchemaTest, ConstantThatDoesNotFitOrFitsNothingBlocks) {
  SchemaPlan p = Translate(kLead);
  ASSERT_TRUE(MatchExistingSchema(
                  PrismaLead(), {{"", "tenant_id", "acme"}, {"Lead", "region", "eu"}}, "public", &p)
                  .ok());
  const Problem* bad = Find(p, "tenant_id", Problem::Severity::kBlocker);
  ASSERT_NE(bad, nullptr);
  EXPECT_NE(bad->what.find("does not fit uuid"), std::string::npos) << bad->what;
  const Problem* none = Find(p, "region", Problem::Severity::kBlocker);
  ASSERT_NE(none, nullptr);
  EXPECT_EQ(none->what, "no target table has this column");
}

TEST(ExistingSchemaTest, GeneratedAlwaysColumnsCannotBeWritten) {
  SchemaPlan p = Translate(kLead);
  std::vector<TargetTable> target = PrismaLead();
  target[0].columns[4].generated = true;  // SCORE
  ASSERT_TRUE(MatchExistingSchema(
                  target, {{"", "tenant_id", "8f14e45f-ceea-467e-a8f9-6a2f1f9d2f3c"}}, "public", &p)
                  .ok());
  const Problem* score = Find(p, "score", Problem::Severity::kBlocker);
  ASSERT_NE(score, nullptr);
  EXPECT_NE(score->what.find("GENERATED ALWAYS"), std::string::npos);
}

TEST(ExistingSchemaTest, IdentityTargetsAreMovedPastTheLoadedKeys) {
  SchemaPlan p = Translate("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);");
  TargetTable t;
  t.name = "users";
  t.columns = {Col("id", "bigint", true, false), Col("name", "text")};
  t.columns[0].identity = t.columns[0].has_sequence = true;
  t.primary_key = {"id"};
  ASSERT_TRUE(MatchExistingSchema({t}, {}, "app", &p).ok());
  ASSERT_EQ(p.after_data.size(), 1u);
  EXPECT_NE(p.after_data[0].find("pg_get_serial_sequence('\"app\".\"users\"', 'id')"),
            std::string::npos)
      << p.after_data[0];
  EXPECT_EQ(Blockers(p), 0);
}

TEST(ExistingSchemaTest, InsertTriggersAreNamed) {
  SchemaPlan p = Translate(kLead);
  std::vector<TargetTable> target = PrismaLead();
  target[0].triggers = {"lead_audit"};
  ASSERT_TRUE(MatchExistingSchema(
                  target, {{"", "tenant_id", "8f14e45f-ceea-467e-a8f9-6a2f1f9d2f3c"}}, "public", &p)
                  .ok());
  const Problem* t = Find(p, "", Problem::Severity::kWarning);
  ASSERT_NE(t, nullptr);
  EXPECT_NE(t->what.find("Lead has row triggers on INSERT (lead_audit)"), std::string::npos)
      << t->what;
  EXPECT_EQ(Blockers(p), 0);
}

TEST(ExistingSchemaTest, TheUpsertKeyNeedsAUniqueKeyInTheTarget) {
  const std::vector<TargetConstant> tenant = {
      {"", "tenant_id", "8f14e45f-ceea-467e-a8f9-6a2f1f9d2f3c"}};
  SchemaPlan by_id = Translate(kLead);
  ASSERT_TRUE(MatchExistingSchema(PrismaLead(), tenant, "public", &by_id).ok());
  EXPECT_EQ(Blockers(by_id), 0);
  EXPECT_FALSE(by_id.tables[0].constants_in_key);

  std::vector<TargetTable> target = PrismaLead();
  target[0].primary_key = {"tenant_id", "id"};
  SchemaPlan with_tenant = Translate(kLead);
  ASSERT_TRUE(MatchExistingSchema(target, tenant, "public", &with_tenant).ok());
  EXPECT_EQ(Blockers(with_tenant), 0);
  EXPECT_TRUE(with_tenant.tables[0].constants_in_key);

  target[0].primary_key = {"email"};
  target[0].unique_keys = {{"id"}};
  SchemaPlan unique = Translate(kLead);
  ASSERT_TRUE(MatchExistingSchema(target, tenant, "public", &unique).ok());
  EXPECT_EQ(Blockers(unique), 0);

  target[0].unique_keys = {{"id", "email"}};
  SchemaPlan none = Translate(kLead);
  ASSERT_TRUE(MatchExistingSchema(target, tenant, "public", &none).ok());
  const Problem* key = Find(none, "", Problem::Severity::kBlocker);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->what,
            "Lead has no primary key, unique constraint or unique index on (id) or (id, "
            "tenant_id): the applier upserts each row with ON CONFLICT on it");
  EXPECT_EQ(key->fix,
            "add one to the target schema (CREATE UNIQUE INDEX ON \"public\".\"Lead\" "
            "(\"id\"))");
}

TEST(ExistingSchemaTest, Conversions) {
  bool fail = false;
  auto conv = [&](const char* from, const char* to) {
    return DescribeConversion(*ParsePgType(from), *ParsePgType(to), &fail);
  };
  EXPECT_EQ(conv("text", "text"), "");
  EXPECT_FALSE(fail);
  EXPECT_EQ(conv("text", "uuid"), "text must be a UUID");
  EXPECT_TRUE(fail);
  EXPECT_EQ(conv("text", "integer"), "values must be whole numbers within integer's range");
  EXPECT_TRUE(fail);
  EXPECT_EQ(conv("double precision", "bigint"),
            "values must be whole numbers within bigint's range");
  EXPECT_TRUE(fail);
  EXPECT_EQ(conv("bigint", "smallint"), "integers outside smallint's range are refused");
  EXPECT_TRUE(fail);
  EXPECT_EQ(conv("integer", "bigint"), "");
  EXPECT_FALSE(fail);
  EXPECT_EQ(conv("timestamptz", "timestamp(3)"),
            "zoned text keeps its local time and loses its offset, as PostgreSQL's timestamp does "
            "(an ORM reading timestamp as UTC sees such values move by their offset); fractions "
            "beyond 3 digits are rounded");
  EXPECT_FALSE(fail);
  EXPECT_EQ(conv("bigint", "boolean"), "values must be 0/1, true/false or t/f");
  EXPECT_TRUE(fail);
  EXPECT_EQ(conv("text", "varchar(10)"), "text longer than 10 characters is refused");
  EXPECT_TRUE(fail);
}

TEST(ExistingSchemaTest, NormalizesFormatTypeSpellings) {
  EXPECT_EQ(NormalizeTargetType("timestamp(3) without time zone"), "timestamp(3)");
  EXPECT_EQ(NormalizeTargetType("timestamp without time zone"), "timestamp");
  EXPECT_EQ(NormalizeTargetType("timestamp(6) with time zone"), "timestamptz(6)");
  EXPECT_EQ(NormalizeTargetType("timestamp with time zone"), "timestamptz");
  EXPECT_EQ(NormalizeTargetType("character varying(40)"), "character varying(40)");
}

}  // namespace
}  // namespace sqlift
