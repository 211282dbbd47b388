// OldSqliteTest: the wal agent's fixture (wal_agent_fixture.h) over a database an old SQLite
// shell (deploy/install-deps.sh; their paths, joined by colons, in SQLIFT_OLD_SQLITE_SHELLS)
// creates and writes: file layouts, a seeded random SQL script for any version from 3.7.8
// on, and the replayed log compared with the tables as this process's SQLite reads them.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "capture/agent/testing/wal_agent_fixture.h"
#include "capture/agent/wal_agent.h"

namespace sqlift::testing_wal {

// The shells CMake found; SQLIFT_OLD_SQLITE=<version> keeps that one only.
inline std::vector<std::string> OldShells() {
  std::vector<std::string> out;
  std::stringstream in(SQLIFT_OLD_SQLITE_SHELLS);
  const char* only = std::getenv("SQLIFT_OLD_SQLITE");
  for (std::string path; std::getline(in, path, ':');) {
    if (path.empty()) continue;
    if (only && std::filesystem::path(path).parent_path().filename() != only) continue;
    out.push_back(path);
  }
  return out;
}

inline std::string Text(const std::string& s) {
  wire::Value v;
  v.set_text(s);
  return v.SerializeAsString();
}

inline bool UnderCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// "3.8.11.1" -> 3008011: the version as SQLITE_VERSION_NUMBER spells it.
inline int VersionNumber(const std::string& shell) {
  const std::string name = std::filesystem::path(shell).parent_path().filename().string();
  int major = 0, minor = 0, patch = 0;
  std::sscanf(name.c_str(), "%d.%d.%d", &major, &minor, &patch);
  return major * 1000000 + minor * 1000 + patch;
}

struct Layout {
  const char* name;
  const char* create;   // before the first table: the file's layout
  const char* session;  // every connection of the shell
};

inline void PrintTo(const Layout& layout, std::ostream* os) {
  *os << layout.name;
}

inline const Layout kLayouts[] = {
    {"page512_utf8", "PRAGMA page_size=512;", ""},
    {"page1024_utf16le_full",
     "PRAGMA page_size=1024; PRAGMA encoding='UTF-16le'; "
     "PRAGMA auto_vacuum=FULL;",
     ""},
    {"page4096_utf16be_incremental",
     "PRAGMA page_size=4096; PRAGMA encoding='UTF-16be'; "
     "PRAGMA auto_vacuum=INCREMENTAL;",
     ""},
    {"page65536_secure_delete", "PRAGMA page_size=65536;", "PRAGMA secure_delete=ON;"},
    // The default of 3.7.8 and before: schema format 1 (no descending indexes, no boolean
    // serial types); later versions write it when asked, as long as they know the pragma.
    {"legacy_file_format", "PRAGMA page_size=2048;", "PRAGMA legacy_file_format=ON;"},
};

class OldSqliteTest : public testing_wal::WalAgentTest {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    path_ = (dir_ / "app.db").string();
    log_ = state::NewMemChangeLog();
    keys_ = {{"users", {"id"}},     {"tags", {"code"}},
             {"pairs", {"a", "b"}}, {"seats", {"seat", "row_no"}},
             {"bulk", {"id"}},      {"extra", {"k"}}};
  }

  // A new directory, log and database path for `shell`'s files (named by its version), with
  // no agent or connection of this process open.
  void StartOver(const std::string& shell) {
    agent_.reset();
    app_.reset();
    dir_ = tmp_.path() / std::filesystem::path(shell).parent_path().filename();
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "app.db").string();
    log_ = state::NewMemChangeLog();
  }

  // Runs `sql` through the old shell on the database; fails the test on any error.
  void Shell(const std::string& sql) {
    const std::string script = (dir_ / "script.sql").string();
    const std::string out = (dir_ / "shell.out").string();
    std::ofstream(script) << ".timeout 20000\n" << session_ << "\n" << sql << "\n";
    const std::string cmd =
        fmt::format("'{}' -bail '{}' < '{}' > '{}' 2>&1", shell_, path_, script, out);
    const int rc = std::system(cmd.c_str());
    std::ifstream in(out);
    const std::string output((std::istreambuf_iterator<char>(in)), {});
    ASSERT_TRUE(rc == 0 && output.find("Error") == std::string::npos)
        << shell_ << " failed (" << rc << "): " << output << "\nscript:\n"
        << sql.substr(0, 2000);
  }

  // The old shell creates the database in `layout`; this process then holds it open, so that
  // no shell's close checkpoints the WAL away.
  void Create(const std::string& shell, const Layout& layout) {
    shell_ = shell;
    version_ = VersionNumber(shell);
    session_ = layout.session;
    const bool without_rowid = version_ >= 3008002;
    Shell(std::string(layout.create) + R"(
      PRAGMA journal_mode=WAL;
      CREATE TABLE _sqlift_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,
        committed_at INTEGER NOT NULL, kind INTEGER NOT NULL, payload BLOB NOT NULL);
      CREATE TABLE _sqlift_state (key TEXT PRIMARY KEY, value);
      CREATE TABLE _sqlift_route (tenant TEXT PRIMARY KEY, side TEXT NOT NULL
        CHECK (side IN ('sqlite', 'postgres')), epoch INTEGER NOT NULL,
        fenced INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL);
      INSERT INTO _sqlift_state (key, value) VALUES ('capture_mode', 'wal');
      CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, score REAL, photo BLOB);
      CREATE TABLE tags (code TEXT PRIMARY KEY, label TEXT);
      CREATE TABLE pairs (a INT, b TEXT, v, PRIMARY KEY (a, b));
      CREATE TABLE bulk (id INTEGER PRIMARY KEY, body TEXT);
    )" +
          (without_rowid ? "CREATE TABLE seats (row_no INT, seat TEXT, holder TEXT, "
                           "PRIMARY KEY (seat, row_no)) WITHOUT ROWID;"
                         : ""));
    auto db = SqliteDb::Open(path_, SqliteDb::Mode::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    app_ = std::move(db).value();
    ASSERT_TRUE(app_->QueryInt64("SELECT count(*) FROM users").ok());  // holds the file
    page_size_ = static_cast<int>(*app_->QueryInt64("PRAGMA page_size"));
  }

  // One random transaction (or a rolled back one) of the script.
  std::string RandomTransaction(std::mt19937& rng) {
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
    const int id = 1 + pick(80), code = pick(40), a = pick(6);
    // A row a tenth of the time three and a half pages long: three overflow pages or more.
    const int blob = pick(10) == 0 ? page_size_ * 7 / 2 : 20 + pick(200);
    std::vector<std::string> s = {
        fmt::format("INSERT OR REPLACE INTO users (id, name, score, photo) VALUES ({}, "
                    "'u{}' || hex(zeroblob({})), {}, randomblob({}));",
                    id, pick(100), pick(30), pick(3) ? "2.5" : "3", blob),
        fmt::format("UPDATE users SET name = name || 'x', score = score + 1 WHERE id = {};", id),
        fmt::format("DELETE FROM users WHERE id BETWEEN {} AND {};", id, id + pick(3)),
        fmt::format("UPDATE users SET id = {0} WHERE id = {1} AND NOT EXISTS "
                    "(SELECT 1 FROM users WHERE id = {0});",
                    1 + pick(200), id),
        fmt::format("INSERT OR REPLACE INTO tags VALUES ('c{}', 'l{}');", code, pick(9)),
        fmt::format("UPDATE tags SET code = 'n' || code WHERE code = 'c{0}' AND NOT EXISTS "
                    "(SELECT 1 FROM tags WHERE code = 'nc{0}');",
                    code),
        fmt::format("DELETE FROM tags WHERE code IN ('c{0}', 'nc{0}');", code),
        fmt::format("INSERT OR REPLACE INTO pairs VALUES ({}, 'b{}', {});", a, pick(5), pick(99)),
        fmt::format("UPDATE OR IGNORE pairs SET b = b || 'x' WHERE a = {} AND length(b) < 5;", a),
        fmt::format("DELETE FROM pairs WHERE a = {} AND b = 'b{}';", a, pick(5)),
    };
    if (version_ >= 3008002) {
      s.push_back(fmt::format("INSERT OR REPLACE INTO seats VALUES ({}, 's{}', 'h{}');", pick(8),
                              pick(6), pick(50)));
      s.push_back(fmt::format("UPDATE seats SET holder = NULL WHERE row_no = {};", pick(8)));
      s.push_back(
          fmt::format("UPDATE OR IGNORE seats SET seat = seat || 'x' WHERE row_no = {} AND "
                      "length(seat) < 4;",
                      pick(8)));
      s.push_back(fmt::format("DELETE FROM seats WHERE seat = 's{}';", pick(6)));
    }
    if (extra_)
      s.push_back(
          fmt::format("INSERT OR REPLACE INTO extra VALUES ('k{}', {});", pick(17), pick(1000)));
    std::string sql = "BEGIN;\n";
    for (int n = 1 + pick(4); n > 0; --n)
      sql += s[static_cast<size_t>(pick(static_cast<int>(s.size())))] + "\n";
    return sql + (pick(12) == 0 ? "ROLLBACK;\n" : "COMMIT;\n");
  }

  // Rows of `bulk` from `from` on, enough to split pages many times (a 64 KiB page holds
  // some 400 of them), doubled statement by statement (no recursive CTE before 3.8.3).
  std::string ManyRows(int from) {
    std::string sql =
        fmt::format("BEGIN; INSERT INTO bulk VALUES ({}, hex(randomblob(40)));\n", from);
    for (int n = 1; n < std::max(512, page_size_ / 64); n *= 2) {
      sql += fmt::format(
          "INSERT INTO bulk SELECT id + {0}, hex(randomblob(40)) FROM bulk WHERE id >= {1} AND "
          "id < {1} + {0};\n",
          n, from);
    }
    return sql + "COMMIT;\n";
  }

  void Drain() {
    auto drained = agent_->DrainAvailable();
    ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  }

  void CheckReplay() {
    auto model = Replay();
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    for (auto& [name, rows] : Actual()) {
      Table& got = (*model)[name];
      for (auto& [key, row] : got) {  // rows older than a column added later
        for (const auto& [col, value] : rows[key])
          if (!row.contains(col)) row[col] = AddedDefault(name, col);
      }
      EXPECT_EQ(got.size(), rows.size()) << name;
      EXPECT_TRUE(got == rows) << name << " differs from the replayed log";
    }
  }

  std::string shell_, session_;
  int version_ = 0;
  int page_size_ = 0;
  bool extra_ = false;  // the table created mid-run exists
};

// Skips (or, under CI, fails) when install-deps built no old shell.
#define REQUIRE_OLD_SHELLS()                                                                       \
  if (OldShells().empty()) {                                                                       \
    if (UnderCi()) FAIL() << "no old SQLite shell in " SQLIFT_OLD_SQLITE_DIR ": run install-deps"; \
    GTEST_SKIP() << "no old SQLite shell in " SQLIFT_OLD_SQLITE_DIR " (deploy/install-deps.sh)";   \
  }

}  // namespace sqlift::testing_wal
