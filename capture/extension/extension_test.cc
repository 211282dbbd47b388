// libsqlift_capture.so: loaded into this process, into /usr/bin/python3's sqlite3 module and into
// the sqlite3 shell; and refused when the host runs another SQLite library.
#define SQLITE_CORE 1  // the layout of sqlite3_api_routines, without the call macros
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sqlite3ext.h>

#include "capture/recorder/recorder_testutil.h"
#include "common/process/process.h"

namespace sqlift {
namespace {

using namespace sqlift::testing;  // NOLINT

class ExtensionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.Path("app.db");
    DbPtr db = OpenDb(path_);
    Exec(db.get(),
         "PRAGMA journal_mode=WAL; CREATE TABLE items(id INTEGER PRIMARY KEY, name, qty)");
  }

  // Loads the extension by file name only, so SQLite derives the entry point's name.
  static int Load(sqlite3* db, std::string* error) {
    sqlite3_enable_load_extension(db, 1);
    char* err = nullptr;
    int rc = sqlite3_load_extension(db, SQLIFT_CAPTURE_EXT, nullptr, &err);
    *error = err ? err : "";
    sqlite3_free(err);
    return rc;
  }

  static std::string Text(sqlite3* db, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }

  std::vector<RowChange> OnlyOutboxRow() {
    DbPtr db = OpenDb(path_, false);
    std::vector<OutboxRow> rows = ReadOutbox(db.get());
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? std::vector<RowChange>{} : Decode(rows[0].payload);
  }

  TempDir dir_;
  std::string path_;
};

TEST_F(ExtensionTest, InProcessFlushPendingAndRefusal) {
  DbPtr db = OpenDb(path_, false);
  std::string error;
  ASSERT_EQ(Load(db.get(), &error), SQLITE_OK) << error;
  Exec(db.get(), "BEGIN; INSERT INTO items VALUES (1, 'a', 2), (2, 'b', 3)");
  EXPECT_EQ(QueryInt(db.get(), "SELECT sqlift_pending()"), 2);
  EXPECT_EQ(QueryInt(db.get(), "SELECT sqlift_flush()"), 2);
  Exec(db.get(), "COMMIT");

  Exec(db.get(), "BEGIN; DELETE FROM items");
  EXPECT_EQ(TryExec(db.get(), "COMMIT"), SQLITE_CONSTRAINT_COMMITHOOK);
  EXPECT_NE(Text(db.get(), "SELECT sqlift_last_refusal()").find("sqlift_flush()"),
            std::string::npos);
  EXPECT_EQ(TryExec(db.get(), "SELECT sqlift_flush()"), SQLITE_ERROR);  // outside a transaction
  EXPECT_NE(std::string(sqlite3_errmsg(db.get())).find("no transaction is open"),
            std::string::npos);

  // One recorder per connection: a second load is refused and says why.
  EXPECT_EQ(Load(db.get(), &error), SQLITE_ERROR);
  EXPECT_NE(error.find("already has a recorder"), std::string::npos) << error;

  // No statement is left open: the plain sqlite3_close() succeeds and frees the recorder.
  EXPECT_EQ(sqlite3_close(db.release()), SQLITE_OK);
  std::vector<RowChange> changes = OnlyOutboxRow();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].op, SQLITE_INSERT);
}

// sqlift_route() while a switch is in flight: a cutover's fence (sqlite, fenced) and a
// fallback's (postgres, fenced) both answer "fenced": wait and ask again, whatever the side. A
// flush of the tenant's rows says "being switched" (SQLITE_BUSY: retry).
TEST_F(ExtensionTest, RouteWhileFencedSaysFencedWhateverItsSide) {
  DbPtr db = OpenDb(path_, false);
  std::string error;
  ASSERT_EQ(Load(db.get(), &error), SQLITE_OK) << error;
  for (const std::string side : {"sqlite", "postgres"}) {
    Exec(db.get(), "INSERT OR REPLACE INTO _sqlift_route VALUES ('*', '" + side + "', 5, 1, 0)");
    EXPECT_EQ(Text(db.get(), "SELECT sqlift_route('acme')"),
              "{\"tenant\":\"acme\",\"side\":\"" + side + "\",\"epoch\":5,\"fenced\":true}");
    Exec(db.get(), "BEGIN; INSERT INTO items VALUES (1, 'a', 2)");
    EXPECT_EQ(TryExec(db.get(), "SELECT sqlift_flush()"), SQLITE_BUSY) << side;
    EXPECT_NE(std::string(sqlite3_errmsg(db.get())).find("is being switched (route epoch 5)"),
              std::string::npos)
        << sqlite3_errmsg(db.get());
    Exec(db.get(), "ROLLBACK");
  }
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM items"), 0);
}

TEST_F(ExtensionTest, ExportsOnlyItsEntryPointAndTheCApi) {
  void* lib = dlopen(SQLIFT_CAPTURE_EXT, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  EXPECT_NE(dlsym(lib, "sqlite3_sqliftcapture_init"), nullptr);
  EXPECT_NE(dlsym(lib, "sqlift_recorder_attach"), nullptr);
  // SQLite tries this generic name first; it must not find one here.
  EXPECT_EQ(dlsym(lib, "sqlite3_extension_init"), nullptr);
  EXPECT_EQ(dlsym(lib, "_ZNK6sqlift6Status4WithESt17basic_string_viewIcSt11char_traitsIcEE"),
            nullptr);
  dlclose(lib);
}

const sqlite3_api_routines* g_api = nullptr;
int CaptureApi(sqlite3*, char**, const sqlite3_api_routines* api) {
  g_api = api;
  return SQLITE_OK;
}
int ForeignVersion() {
  return 3099002;
}

TEST_F(ExtensionTest, RefusesHostWithAnotherSqliteLibrary) {
  // The routine table SQLite hands to extensions, borrowed through an auto-extension.
  auto entry = reinterpret_cast<void (*)()>(&CaptureApi);
  ASSERT_EQ(sqlite3_auto_extension(entry), SQLITE_OK);
  DbPtr db = OpenDb(path_, false);
  sqlite3_cancel_auto_extension(entry);
  ASSERT_NE(g_api, nullptr);

  // The same table as another library would pass it: its functions live elsewhere.
  sqlite3_api_routines foreign = *g_api;
  foreign.libversion_number = &ForeignVersion;
  void* lib = dlopen(SQLIFT_CAPTURE_EXT, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  using Init = int (*)(sqlite3*, char**, const sqlite3_api_routines*);
  auto init = reinterpret_cast<Init>(dlsym(lib, "sqlite3_sqliftcapture_init"));
  ASSERT_NE(init, nullptr);
  char* err = nullptr;
  EXPECT_EQ(init(db.get(), &err, &foreign), SQLITE_ERROR);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  EXPECT_NE(msg.find("different SQLite library (version 3.99.2 in "), std::string::npos) << msg;
  EXPECT_NE(msg.find("version 3.40.1 at "), std::string::npos) << msg;
  EXPECT_NE(msg.find("libsqlite3.so"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sessions cannot cross libraries"), std::string::npos) << msg;
  EXPECT_EQ(TryExec(db.get(), "SELECT sqlift_flush()"), SQLITE_ERROR);  // nothing registered
  EXPECT_NE(std::string(sqlite3_errmsg(db.get())).find("no such function"), std::string::npos);

  // The real table passes the check.
  EXPECT_EQ(init(db.get(), &err, g_api), SQLITE_OK) << (err ? err : "");
  db.reset();  // frees the recorder before the library goes
  dlclose(lib);
}

TEST_F(ExtensionTest, PythonSqlite3Module) {
  Result<process::Output> p =
      process::RunCaptured({"/usr/bin/python3", SQLIFT_EXTENSION_PY, SQLIFT_CAPTURE_EXT, path_});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->exit_code, 0) << p->out << p->err;
  EXPECT_EQ(p->out, "ok\n") << p->err;

  // Only the flushed transaction reached the outbox, with exactly its net changes.
  std::vector<RowChange> changes = OnlyOutboxRow();
  ASSERT_EQ(changes.size(), 2u);
  for (const RowChange& c : changes) {
    EXPECT_EQ(c.op, SQLITE_INSERT);
    if (c.new_values[0] == Int(1)) {
      EXPECT_EQ(c.new_values[1], testing::Text("py"));
      EXPECT_EQ(c.new_values[2], Int(7));  // inserted as 5, then updated in the same txn
    } else {
      EXPECT_EQ(c.new_values[0], Int(2));
      EXPECT_EQ(c.new_values[2], Blob(std::string("\0\xff", 2)));
    }
  }
}

TEST_F(ExtensionTest, Sqlite3Shell) {
  std::string script = std::string(".load ") + SQLIFT_CAPTURE_EXT +
                       "\n"
                       "BEGIN;\n"
                       "INSERT INTO items VALUES (10, 'shell', 1);\n"
                       "SELECT 'flushed', sqlift_flush();\n"
                       "COMMIT;\n"
                       "BEGIN;\n"
                       "INSERT INTO items VALUES (11, 'unflushed', 1);\n"
                       "COMMIT;\n"
                       "SELECT 'refused', sqlift_last_refusal() LIKE '%sqlift_flush()%';\n"
                       "SELECT 'rows', count(*) FROM items;\n";
  Result<process::Output> p = process::RunCaptured({"/usr/bin/sqlite3", path_}, script);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->out, "flushed|1\nrefused|1\nrows|1\n") << p->err;
  EXPECT_NE(p->err.find("constraint failed"), std::string::npos) << p->err;
  EXPECT_EQ(p->err.find("close"), std::string::npos) << p->err;  // closed cleanly

  std::vector<RowChange> changes = OnlyOutboxRow();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].new_values[0], Int(10));
  EXPECT_EQ(changes[0].new_values[1], testing::Text("shell"));
}

}  // namespace
}  // namespace sqlift
