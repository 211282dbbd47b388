// RealClients: runs the writers of tests/clients, programs that know nothing of sqlift and
// write with their own SQLite library (Python's sqlite3 module, the sqlite3 shell, Node with
// better-sqlite3), as separate concurrent processes on one WAL database, and reads back what
// they say they committed and what the database holds, in one canonical row text.
//
// Ownership: the caller owns the database and the work directory (each client's stdout,
// stderr and expected-rows file go there). Thread safety: each call is independent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/base/result.h"
#include "common/base/status.h"

namespace sqlift::testing {

// Where the runtimes and the client programs are (the test passes what CMake found).
struct ClientPaths {
  std::string python;       // python3 (its sqlite3 module: the system's SQLite)
  std::string sqlite3;      // the sqlite3 shell
  std::string node;         // node (better-sqlite3 bundles its own SQLite)
  std::string clients_dir;  // tests/clients in the source tree
};

enum class ClientRuntime { kPython, kShell, kNode };

struct ClientRun {
  ClientRuntime runtime;
  int seed;          // distinct per client of one runtime: the key space derives from it
  int transactions;  // committed transactions to make (planned rollbacks come on top)
};

// What one client printed at its end, and where it wrote the rows it owns.
struct ClientReport {
  std::string client;
  std::string sqlite_version;  // select sqlite_version() in that runtime
  int64_t transactions = 0;    // committed
  int64_t rollbacks = 0;
  int64_t row_changes = 0;  // inserts + updates (primary-key changes included) + deletes
  int64_t busy_retries = 0;
  std::string expected_rows_path;
};

// Ok when every runtime is there and Node loads better-sqlite3; otherwise FailedPrecondition
// saying what is missing and that deploy/install-deps.sh installs it.
[[nodiscard]] Status CheckRealClients(const ClientPaths& paths);

// Starts every run at once on `db_path` and waits for all; an error when one does not exit 0
// (its stderr in the message).
[[nodiscard]] Result<std::vector<ClientReport>> RunRealClients(const ClientPaths& paths,
                                                               const std::string& db_path,
                                                               const std::string& work_dir,
                                                               const std::vector<ClientRun>& runs);

// Every row of the clients' tables as "items|<typeof>:<hex>|..." (read with the system SQLite,
// read-only), sorted.
[[nodiscard]] Result<std::vector<std::string>> ReadCanonicalRows(const std::string& db_path);

// The rows the clients say they own at the end, from their expected-rows files, sorted.
[[nodiscard]] Result<std::vector<std::string>> ReadExpectedRows(
    const std::vector<ClientReport>& reports);

// The first column of the first row of `sql` as text (for PRAGMA integrity_check and
// journal_mode), read with the system SQLite.
[[nodiscard]] Result<std::string> QueryText(const std::string& db_path, const std::string& sql);

// A short description of how two sorted row lists differ (the first few rows only, each cut
// to 160 characters), or "" when they are equal.
std::string DescribeRowDifference(const std::vector<std::string>& got,
                                  const std::vector<std::string>& want);

}  // namespace sqlift::testing
