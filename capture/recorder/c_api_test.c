/* The C API exercised from C: proves sqlift_capture.h is valid C and that the calls behave as
 * documented. Driven by c_api_test.cc, which prepares the database (the outbox schema lives in
 * C++, defined once). Returns 0 on success, else the number of the failed check. */
#include <stdio.h>
#include <string.h>

#include "capture/recorder/sqlift_capture.h"

int sqlift_c_api_scenario(const char* path, char* why, size_t why_size);

#define CHECK(n, cond)                                              \
  do {                                                              \
    if (!(cond)) {                                                  \
      snprintf(why, why_size, "check %d failed: %s (%s)", n, #cond, \
               rec ? sqlift_recorder_errmsg(rec) : "no recorder");  \
      sqlift_recorder_free(rec);                                    \
      sqlite3_close(db);                                            \
      return n;                                                     \
    }                                                               \
  } while (0)

int sqlift_c_api_scenario(const char* path, char* why, size_t why_size) {
  sqlite3* db = NULL;
  sqlift_recorder* rec = NULL;
  sqlift_recorder* second = NULL;
  int64_t changes = -1;

  CHECK(1, sqlite3_open(path, &db) == SQLITE_OK);
  CHECK(2, sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", 0, 0, 0) == 0);
  CHECK(3, sqlift_recorder_attach(db, &rec) == SQLITE_OK);
  CHECK(4, strcmp(sqlift_recorder_errmsg(rec), "not an error") == 0);

  /* A second recorder on the same connection is refused, with a reason. */
  CHECK(5, sqlift_recorder_attach(db, &second) == SQLITE_MISUSE);
  CHECK(6, second != NULL && strstr(sqlift_recorder_errmsg(second), "already has a recorder"));
  CHECK(7, sqlift_recorder_flush(second, &changes) == SQLITE_MISUSE);
  sqlift_recorder_free(second);

  /* Flush outside a transaction. */
  CHECK(8, sqlift_recorder_flush(rec, &changes) == SQLITE_MISUSE);
  CHECK(9, strstr(sqlift_recorder_errmsg(rec), "no transaction is open") != NULL);

  /* The normal path. */
  CHECK(10, sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO t VALUES (1, 'a'), (2, 'b')", 0, 0, 0) ==
                SQLITE_OK);
  CHECK(11, sqlift_recorder_pending(rec, &changes) == SQLITE_OK && changes == 2);
  CHECK(12, sqlift_recorder_flush(rec, &changes) == SQLITE_OK && changes == 2);
  CHECK(13, sqlite3_exec(db, "COMMIT", 0, 0, 0) == SQLITE_OK);

  /* A commit without flush is refused; errmsg says why. */
  CHECK(14, sqlite3_exec(db, "BEGIN; DELETE FROM t", 0, 0, 0) == SQLITE_OK);
  CHECK(15, sqlift_recorder_discard(rec) == SQLITE_MISUSE); /* inside a transaction */
  CHECK(16, sqlite3_exec(db, "COMMIT", 0, 0, 0) == SQLITE_CONSTRAINT);
  CHECK(17, sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_COMMITHOOK);
  CHECK(18, strstr(sqlift_recorder_errmsg(rec), "sqlift_recorder_flush()") != NULL);
  CHECK(19, sqlift_recorder_discard(rec) == SQLITE_OK);
  CHECK(20, sqlift_recorder_pending(rec, NULL) == SQLITE_OK);

  sqlift_recorder_free(rec);
  rec = NULL;
  CHECK(21, sqlite3_close(db) == SQLITE_OK); /* the recorder left no statement behind */
  db = NULL;
  return 0;
}
