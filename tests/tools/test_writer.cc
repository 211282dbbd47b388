// recorder_test_writer DB POINT: an application process for recorder_crash_test. It attaches a
// recorder, writes one transaction (100 inserts and an update through BEGIN IMMEDIATE) and kills
// itself with SIGKILL at POINT: before-flush, after-flush (before COMMIT) or after-commit.
// It prints each step it completed on stdout (flushed at once) so the test knows how far it got.
#include <sqlite3.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "capture/recorder/recorder.h"

namespace {

int Fail(const char* what, const std::string& why) {
  std::fprintf(stderr, "test_writer: %s: %s\n", what, why.c_str());
  return 1;
}

void Step(const char* name) {
  std::printf("%s\n", name);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3)
    return Fail("usage", "recorder_test_writer DB before-flush|after-flush|after-commit");
  const std::string point = argv[2];
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    return Fail("open", sqlite3_errmsg(db));
  }
  sqlite3_busy_timeout(db, 10000);
  auto rec = sqlift::Recorder::Attach(db);
  if (!rec.ok()) return Fail("attach", rec.status().ToString());

  // Ids 1000..1099, generated in SQL: no value is spliced into the statement text.
  const char* sql =
      "BEGIN IMMEDIATE; UPDATE items SET qty = qty + 1 WHERE id = 1;"
      "WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n WHERE i < 1099) "
      "INSERT INTO items SELECT i, 'crash', 0 FROM n;";
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Fail("write", sqlite3_errmsg(db));
  }
  Step("written");
  if (point == "before-flush") std::raise(SIGKILL);
  sqlift::Result<int64_t> n = (*rec)->Flush();
  if (!n.ok()) return Fail("flush", n.status().ToString());
  Step(("flushed " + std::to_string(*n)).c_str());
  if (point == "after-flush") std::raise(SIGKILL);
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Fail("commit", sqlite3_errmsg(db));
  }
  Step("committed");
  std::raise(SIGKILL);  // after-commit: no clean close either
  return 1;
}
