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
#include <random>
#include <string>

#include "capture/recorder.h"
#include "capture/transaction.h"

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "workload_writer: %s\n", what.c_str());
  return 1;
}

bool Exec(sqlite3* db, const std::string& sql) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
}

// The writes of one transaction; false on an SQLite error (the caller rolls back).
bool Writes(sqlite3* db, int writer, long n, std::mt19937_64& rng) {
  const long base = static_cast<long>(writer) * 1'000'000;
  std::string sql = "INSERT INTO events VALUES (" + std::to_string(writer) + ", " +
                    std::to_string(n) + ", 'writer " + std::to_string(writer) + " txn " +
                    std::to_string(n) + "');";
  long id = base + static_cast<long>(rng() % 50);
  switch (rng() % 5) {
    case 0:
      sql += "INSERT OR IGNORE INTO accounts VALUES (" + std::to_string(id) + ", 'o" +
             std::to_string(id) + "', 100, randomblob(" + std::to_string(rng() % 64) + "));";
      break;
    case 1:
    case 2:
      sql += "UPDATE accounts SET balance = balance + 1, owner = owner || '+' WHERE id = " +
             std::to_string(id) + ";";
      break;
    case 3:
      sql += "DELETE FROM accounts WHERE id = " + std::to_string(id) + ";";
      break;
    default:  // a primary key change, when the new id is free
      sql += "UPDATE OR IGNORE accounts SET id = " + std::to_string(base + 50 + rng() % 50) +
             " WHERE id = " + std::to_string(id) + ";";
  }
  return Exec(db, sql);
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
  long committed = 0, rolled_back = 0;
  for (long n = 1; n <= count;) {
    bool rollback = rng() % 5 == 0;
    auto txn = sqlift::Transaction::Begin(**rec);
    if (!txn.ok()) {
      if (txn.status().Retryable()) continue;
      return Fail("begin: " + txn.status().ToString());
    }
    if (!Writes(db, writer, rollback ? -n : n, rng)) {
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
  sqlite3_close(db);
  std::printf("committed %ld rolled_back %ld\n", committed, rolled_back);
  return 0;
}
