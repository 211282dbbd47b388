#include "tests/testutil/real_clients.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json/json.h"
#include "common/process/process.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift::testing {
namespace {

constexpr const char* kInstallHint =
    "; run deploy/install-deps.sh (it installs node, npm and the pinned better-sqlite3 into "
    "tests/clients/node), then re-run cmake";

// Every column as typeof:hex, the same text tests/clients/workload.py writes.
constexpr const char* kCanonicalRows =
    "SELECT 'items|' || typeof(id) || ':' || hex(id) || '|' || typeof(owner) || ':' || "
    "hex(owner) || '|' || typeof(qty) || ':' || hex(qty) || '|' || typeof(price) || ':' || "
    "hex(price) || '|' || typeof(note) || ':' || hex(note) || '|' || typeof(payload) || ':' || "
    "hex(payload) FROM items UNION ALL SELECT 'tags|' || typeof(name) || ':' || hex(name) || "
    "'|' || typeof(item_id) || ':' || hex(item_id) || '|' || typeof(label) || ':' || hex(label) "
    "FROM tags";

Status CheckProgram(const std::string& path, const std::string& what) {
  if (!path.empty() && std::filesystem::exists(path)) return Status::OK();
  return Status::FailedPrecondition(
      fmt::format("{} not found (CMake found \"{}\"){}", what, path, kInstallHint));
}

std::vector<std::string> Argv(const ClientPaths& paths, const ClientRun& run,
                              const std::string& db_path, const std::string& expected) {
  std::vector<std::string> tail = {db_path, std::to_string(run.seed),
                                   std::to_string(run.transactions), expected};
  std::vector<std::string> argv;
  switch (run.runtime) {
    case ClientRuntime::kPython:
      argv = {paths.python, paths.clients_dir + "/python_writer.py"};
      break;
    case ClientRuntime::kShell:
      argv = {paths.python, paths.clients_dir + "/shell_writer.py"};
      break;
    case ClientRuntime::kNode:
      argv = {paths.node, paths.clients_dir + "/node/writer.js"};
      break;
  }
  argv.insert(argv.end(), tail.begin(), tail.end());
  return argv;
}

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The last non-empty line of the client's stdout, parsed.
Result<ClientReport> ParseReport(const std::string& out_path, const std::string& expected) {
  SQLIFT_ASSIGN_OR_RETURN(std::string out, ReadWhole(out_path));
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  SQLIFT_ASSIGN_OR_RETURN(Json doc, ParseJson(out.substr(out.rfind('\n') + 1)));
  if (!doc.is_object() || !doc.contains("transactions"))
    return Status::Corruption("no report in " + out_path);
  ClientReport r;
  r.client = doc.value("client", "");
  r.sqlite_version = doc.value("sqlite_version", "");
  r.transactions = doc.value("transactions", int64_t{-1});
  r.rollbacks = doc.value("rollbacks", int64_t{-1});
  r.row_changes = doc.value("row_changes", int64_t{-1});
  r.busy_retries = doc.value("busy_retries", int64_t{-1});
  r.expected_rows_path = expected;
  return r;
}

Result<std::vector<std::string>> ReadLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

}  // namespace

Status CheckRealClients(const ClientPaths& paths) {
  SQLIFT_RETURN_IF_ERROR(CheckProgram(paths.python, "python3"));
  SQLIFT_RETURN_IF_ERROR(CheckProgram(paths.sqlite3, "the sqlite3 shell"));
  SQLIFT_RETURN_IF_ERROR(CheckProgram(paths.node, "node"));
  const std::string module = paths.clients_dir + "/node/node_modules/better-sqlite3";
  SQLIFT_ASSIGN_OR_RETURN(
      process::Output out,
      process::RunCaptured(
          {paths.node, "-e", "new (require(process.argv[1]))(':memory:')", module}));
  if (out.exit_code == 0) return Status::OK();
  return Status::FailedPrecondition(
      fmt::format("node cannot load better-sqlite3 from {}: {}{}", module, out.err, kInstallHint));
}

Result<std::vector<ClientReport>> RunRealClients(const ClientPaths& paths,
                                                 const std::string& db_path,
                                                 const std::string& work_dir,
                                                 const std::vector<ClientRun>& runs) {
  std::vector<process::Child> children;
  std::vector<std::string> names;
  for (const ClientRun& run : runs) {
    names.push_back(fmt::format("{}/client{}", work_dir, names.size()));
    process::Options o;
    o.argv = Argv(paths, run, db_path, names.back() + ".expected");
    o.env = {"SQLIFT_SQLITE3=" + paths.sqlite3};
    o.out = process::Stream::File(names.back() + ".out");
    o.err = process::Stream::File(names.back() + ".err");
    SQLIFT_ASSIGN_OR_RETURN(process::Child child, process::Child::Spawn(std::move(o)));
    children.push_back(std::move(child));
  }
  std::vector<ClientReport> reports;
  for (size_t i = 0; i < children.size(); ++i) {
    SQLIFT_ASSIGN_OR_RETURN(process::Exit exit, children[i].Wait());
    const int code = exit.exit_code;
    if (code != 0) {
      Result<std::string> err = ReadWhole(names[i] + ".err");
      return Status::Internal(fmt::format("client {} exited with {}: {}", names[i], code,
                                          err.ok() ? *err : err.status().ToString()));
    }
    SQLIFT_ASSIGN_OR_RETURN(ClientReport r, ParseReport(names[i] + ".out", names[i] + ".expected"));
    reports.push_back(std::move(r));
  }
  return reports;
}

Result<std::vector<std::string>> ReadCanonicalRows(const std::string& db_path) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(db_path, SqliteDb::Mode::kReadOnly));
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, db->Prepare(kCanonicalRows));
  std::vector<std::string> rows;
  while (true) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    rows.emplace_back(stmt.ColumnText(0));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

Result<std::vector<std::string>> ReadExpectedRows(const std::vector<ClientReport>& reports) {
  std::vector<std::string> rows;
  for (const ClientReport& r : reports) {
    SQLIFT_ASSIGN_OR_RETURN(std::vector<std::string> lines, ReadLines(r.expected_rows_path));
    rows.insert(rows.end(), lines.begin(), lines.end());
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

Result<std::string> QueryText(const std::string& db_path, const std::string& sql) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(db_path, SqliteDb::Mode::kReadOnly));
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, db->Prepare(sql));
  SQLIFT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("no row from " + sql);
  return std::string(stmt.ColumnText(0));
}

std::string DescribeRowDifference(const std::vector<std::string>& got,
                                  const std::vector<std::string>& want) {
  std::vector<std::string> missing, extra;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
  if (missing.empty() && extra.empty()) return "";
  std::string out = fmt::format("{} rows missing, {} unexpected", missing.size(), extra.size());
  for (size_t i = 0; i < std::min<size_t>(missing.size(), 3); ++i)
    out += "\n  missing: " + missing[i].substr(0, 160);
  for (size_t i = 0; i < std::min<size_t>(extra.size(), 3); ++i)
    out += "\n  unexpected: " + extra[i].substr(0, 160);
  return out;
}

}  // namespace sqlift::testing
