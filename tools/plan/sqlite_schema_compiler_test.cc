// The applier's schema compiler and the additive-DDL rule: schema text as the agent sends it
// becomes the same plan `sqlift plan` prints; a table's new definition replaces the old one
// with its indexes kept; new tables and new columns give statements, anything else refuses.
#include "tools/plan/sqlite_schema_compiler.h"

#include <gtest/gtest.h>

#include "apply/translate/ddl_diff.h"

namespace sqlift {
namespace {

const std::vector<std::string> kSchema = {
    "CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price DECIMAL(10,2))",
    "CREATE TABLE \"user\" (id INTEGER PRIMARY KEY, room_id INTEGER REFERENCES rooms (id))",
    "CREATE INDEX user_room ON \"user\" (room_id)",
};

SchemaPlan Compile(SqliteSchemaCompiler& c, const std::vector<std::string>& sql) {
  Result<SchemaPlan> plan = c.Compile(sql);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : SchemaPlan{};
}

TEST(SqliteSchemaCompilerTest, CompilesWithMappingOverridesOfExistingColumnsOnly) {
  SqliteSchemaCompiler c({{"rooms.price", "numeric(12,3)", "x:1:1", "", ""},
                          {"later.v", "jsonb", "x:2:1", "", ""}},  // a table that may come later
                         "public");
  SchemaPlan plan = Compile(c, kSchema);
  ASSERT_EQ(plan.tables.size(), 2u);
  EXPECT_EQ(plan.tables[0].source_name, "rooms");
  EXPECT_EQ(plan.tables[0].columns[2].mapping.type.sql, "numeric(12,3)");
  EXPECT_EQ(plan.tables[0].columns[1].ddl, "\"name\" text NOT NULL");
  bool index = false;
  for (const std::string& s : plan.after_data)
    index |= s.find("\"user_room\"") != std::string::npos;
  EXPECT_TRUE(index);
}

TEST(SqliteSchemaCompilerTest, RefusesAnythingButCreateTableAndIndex) {
  SqliteSchemaCompiler c({}, "public");
  for (const char* sql :
       {"ATTACH '/tmp/x' AS x", "CREATE TABLE a (id INTEGER PRIMARY KEY); DROP TABLE a",
        "CREATE TRIGGER t AFTER INSERT ON rooms BEGIN SELECT 1; END", "CREATE TABLE broken ("}) {
    std::vector<std::string> sql_list = kSchema;
    sql_list.push_back(sql);
    EXPECT_FALSE(c.Compile(sql_list).ok()) << sql;
  }
}

TEST(SqliteSchemaCompilerTest, ReplaceTableKeepsIndexesAndDropRemovesThem) {
  SqliteSchemaCompiler c({}, "public");
  auto added = c.ReplaceTable(kSchema, "user",
                              "CREATE TABLE \"user\" (id INTEGER PRIMARY KEY, room_id INTEGER "
                              "REFERENCES rooms (id), nick TEXT DEFAULT 'x')");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ASSERT_EQ(added->size(), 3u);
  EXPECT_NE((*added)[1].find("nick"), std::string::npos);
  EXPECT_EQ((*added)[2], kSchema[2]);
  auto dropped = c.ReplaceTable(kSchema, "user", "");
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, std::vector<std::string>{kSchema[0]});
  auto fresh = c.ReplaceTable(kSchema, "later", "CREATE TABLE later (id INTEGER PRIMARY KEY)");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->size(), 4u);
}

// An AUTOINCREMENT table makes SQLite create sqlite_sequence, whose CREATE statement no one may
// run: it must not end up among the source's statements (found with a first DDL event after a
// snapshot at seq 0).
TEST(SqliteSchemaCompilerTest, ReplaceTableLeavesSqliteSequenceOut) {
  SqliteSchemaCompiler c({}, "public");
  const std::vector<std::string> sql = {
      "CREATE TABLE rooms (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)"};
  auto replaced = c.ReplaceTable(sql, "rooms", sql[0]);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(*replaced, sql);
}

// Database-per-tenant: the constant tenant column leads the key, the unique constraints and
// both sides of the foreign keys; rowid aliases stay identities.
TEST(SqliteSchemaCompilerTest, ConstantTenantColumnLeadsEveryKey) {
  SqliteSchemaCompiler c({}, "public", "tenant_id");
  SchemaPlan plan = Compile(c, {"CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT UNIQUE)",
                                "CREATE TABLE bookings (id INTEGER PRIMARY KEY, room_id INTEGER "
                                "REFERENCES rooms (id))"});
  ASSERT_EQ(plan.tables.size(), 2u);
  const TablePlan& rooms = plan.tables[1];
  EXPECT_EQ(rooms.constant_tenant_column, "tenant_id");
  ASSERT_EQ(rooms.columns.size(), 3u);
  EXPECT_EQ(rooms.columns[0].ddl, "\"tenant_id\" text NOT NULL");
  EXPECT_TRUE(rooms.columns[1].mapping.identity);
  std::string all;
  for (const std::string& s : plan.ddl)
    all += s + "\n";
  for (const std::string& s : plan.after_data)
    all += s + "\n";
  EXPECT_NE(all.find("PRIMARY KEY (\"tenant_id\", \"id\")"), std::string::npos) << all;
  EXPECT_NE(all.find("UNIQUE (\"tenant_id\", \"name\")"), std::string::npos) << all;
  EXPECT_NE(all.find("FOREIGN KEY (\"tenant_id\", \"room_id\") REFERENCES \"public\".\"rooms\" "
                     "(\"tenant_id\", \"id\")"),
            std::string::npos)
      << all;
}

TEST(AdditiveDdlTest, NewColumnsAndTablesGiveStatementsOthersRefuse) {
  SqliteSchemaCompiler c({}, "public");
  SchemaPlan before = Compile(c, kSchema);
  auto with_column = c.ReplaceTable(kSchema, "rooms",
                                    "CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT NOT "
                                    "NULL, price DECIMAL(10,2), floor INTEGER NOT NULL DEFAULT 1)");
  ASSERT_TRUE(with_column.ok());
  auto stmts = AdditiveDdl(before, Compile(c, *with_column), "rooms", "public");
  ASSERT_TRUE(stmts.ok()) << stmts.status().ToString();
  EXPECT_EQ(*stmts, std::vector<std::string>{"ALTER TABLE \"public\".\"rooms\" ADD COLUMN IF NOT "
                                             "EXISTS \"floor\" bigint NOT NULL DEFAULT 1"});

  auto with_table = c.ReplaceTable(kSchema, "later",
                                   "CREATE TABLE later (id INTEGER PRIMARY KEY, v TEXT UNIQUE)");
  ASSERT_TRUE(with_table.ok());
  stmts = AdditiveDdl(before, Compile(c, *with_table), "later", "public");
  ASSERT_TRUE(stmts.ok());
  ASSERT_GE(stmts->size(), 2u);  // the table and its unique constraint
  EXPECT_EQ((*stmts)[0].rfind("CREATE TABLE IF NOT EXISTS \"public\".\"later\"", 0), 0u);

  stmts = AdditiveDdl(before, before, "rooms", "public");  // the same definition again
  ASSERT_TRUE(stmts.ok());
  EXPECT_TRUE(stmts->empty());

  auto retyped = c.ReplaceTable(kSchema, "rooms",
                                "CREATE TABLE rooms (id INTEGER PRIMARY KEY, name BLOB, price "
                                "DECIMAL(10,2))");
  ASSERT_TRUE(retyped.ok());
  stmts = AdditiveDdl(before, Compile(c, *retyped), "rooms", "public");
  EXPECT_EQ(stmts.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(stmts.status().message().find("changed type"), std::string::npos);

  auto dropped = c.ReplaceTable(kSchema, "user", "");
  ASSERT_TRUE(dropped.ok());
  stmts = AdditiveDdl(before, Compile(c, *dropped), "user", "public");
  EXPECT_NE(stmts.status().message().find("dropped"), std::string::npos);
}

}  // namespace
}  // namespace sqlift
