// workload_writer DB WRITER_ID TRANSACTIONS SEED: an application process for the capture
// scenarios. Each transaction goes through a recorder and the transaction guard and does a
// random mix over two tables: inserts an event (WRITER_ID, n), inserts, updates or deletes an
// account, or moves an account to a new primary key. About one in five transactions is
// rolled back on purpose; their events carry a negative n, so a test can prove none of them
// reached the log. Busy errors are retried. Prints "committed N rolled_back M" at the end.
//
//   CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER,
//                          note BLOB);
//   CREATE TABLE events (writer INTEGER, n INTEGER, payload TEXT, PRIMARY KEY (writer, n));
#include <sqlite3.h>

#include <cstdio>
#include <initializer_list>
#include <random>
#include <string>

#include "capture/recorder/recorder.h"
#include "capture/recorder/transaction.h"

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "workload_writer: %s\n", what.c_str());
  return 1;
}

// The workload's statements, prepared once; values are always bound.
struct Statements {
  sqlite3_stmt* event = nullptr;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* update = nullptr;
  sqlite3_stmt* remove = nullptr;
  sqlite3_stmt* move = nullptr;

  bool Prepare(sqlite3* db) {
    auto p = [&](const char* sql, sqlite3_stmt** out) {
      return sqlite3_prepare_v2(db, sql, -1, out, nullptr) == SQLITE_OK;
    };
    return p("INSERT INTO events VALUES (?1, ?2, 'writer ' || ?1 || ' txn ' || ?2)", &event) &&
           p("INSERT OR IGNORE INTO accounts VALUES (?1, 'o' || ?1, 100, randomblob(?2))",
             &insert) &&
           p("UPDATE accounts SET balance = balance + 1, owner = owner || '+' WHERE id = ?1",
             &update) &&
           p("DELETE FROM accounts WHERE id = ?1", &remove) &&
           p("UPDATE OR IGNORE accounts SET id = ?2 WHERE id = ?1", &move);
  }
  void Finalize() {
    for (sqlite3_stmt** s : {&event, &insert, &update, &remove, &move}) {
      sqlite3_finalize(*s);
      *s = nullptr;
    }
  }
  ~Statements() { Finalize(); }
};

// Steps a statement with two integer parameters; false on an SQLite error.
bool Run(sqlite3_stmt* stmt, long a, long b) {
  sqlite3_bind_int64(stmt, 1, a);
  if (sqlite3_bind_parameter_count(stmt) > 1) sqlite3_bind_int64(stmt, 2, b);
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  return rc == SQLITE_DONE;
}

// The writes of one transaction; false on an SQLite error (the caller rolls back).
bool Writes(Statements& st, int writer, long n, std::mt19937_64& rng) {
  const long base = static_cast<long>(writer) * 1'000'000;
  if (!Run(st.event, writer, n)) return false;
  long id = base + static_cast<long>(rng() % 50);
  switch (rng() % 5) {
    case 0:
      return Run(st.insert, id, static_cast<long>(rng() % 64));
    case 1:
    case 2:
      return Run(st.update, id, 0);
    case 3:
      return Run(st.remove, id, 0);
    default:
      return Run(st.move, id, base + 50 + static_cast<long>(rng() % 50));  // new key
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return Fail("usage: workload_writer DB WRITER_ID TRANSACTIONS SEED");
  const int writer = std::stoi(argv[2]);
  const long count = std::stol(argv[3]);
  std::mt19937_64 rng(std::stoull(argv[4]));
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    return Fail(std::string("open: ") + sqlite3_errmsg(db));
  }
  sqlite3_busy_timeout(db, 20000);
  auto rec = sqlift::Recorder::Attach(db);
  if (!rec.ok()) return Fail("attach: " + rec.status().ToString());
  Statements st;
  if (!st.Prepare(db)) return Fail(std::string("prepare: ") + sqlite3_errmsg(db));
  long committed = 0, rolled_back = 0;
  for (long n = 1; n <= count;) {
    bool rollback = rng() % 5 == 0;
    auto txn = sqlift::Transaction::Begin(**rec);
    if (!txn.ok()) {
      if (txn.status().Retryable()) continue;
      return Fail("begin: " + txn.status().ToString());
    }
    if (!Writes(st, writer, rollback ? -n : n, rng)) {
      if (sqlite3_errcode(db) == SQLITE_BUSY) continue;  // the guard rolls back
      return Fail(std::string("write: ") + sqlite3_errmsg(db));
    }
    if (rollback) {
      if (!txn->Rollback().ok()) return Fail("rollback");
      ++rolled_back;
      ++n;
      continue;
    }
    auto done = txn->Commit();
    if (!done.ok()) {
      if (done.status().Retryable()) continue;
      return Fail("commit: " + done.status().ToString());
    }
    ++committed;
    ++n;
  }
  rec->reset();
  st.Finalize();  // before the connection closes
  sqlite3_close(db);
  std::printf("committed %ld rolled_back %ld\n", committed, rolled_back);
  return 0;
}
