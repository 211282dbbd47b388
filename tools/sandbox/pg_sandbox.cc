#include "tools/sandbox/pg_sandbox.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "common/base/parse.h"
#include "common/pg/pg_connection.h"
#include "common/process/files.h"
#include "common/process/user.h"
#include "tools/sandbox/pg_cluster.h"

namespace sqlift {
namespace {

namespace fs = std::filesystem;
constexpr const char* kInfoFile = "sandbox.info";

// A new, empty, absolute directory for a sandbox.
Result<std::string> MakeDir(const std::string& wanted) {
  std::error_code ec;
  if (wanted.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = fs::absolute(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", ec).string();
    std::string templ = base + "/sqlift-pg-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      return Status::IOError("create a directory in " + base + ": " +
                             std::error_code(errno, std::system_category()).message());
    }
    return templ;
  }
  std::string dir = fs::absolute(wanted, ec).string();
  if (!fs::exists(dir, ec)) {
    if (!fs::create_directories(dir, ec)) {
      return Status::IOError("create directory " + dir + ": " + ec.message());
    }
    fs::permissions(dir, fs::perms::owner_all, ec);
    return dir;
  }
  if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec)) {
    return Status::InvalidArgument("sandbox directory " + dir + " exists and is not empty");
  }
  return dir;
}

Result<pgcluster::Cluster> MakeCluster(const std::string& dir, const std::string& data_dir,
                                       const std::string& bindir, const std::string& run_as) {
  pgcluster::Cluster c{dir, data_dir, bindir, std::nullopt};
  if (!run_as.empty()) {
    SQLIFT_ASSIGN_OR_RETURN(c.user, process::LookupUser(run_as));
  }
  return c;
}

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string PercentEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out += {'%', kHex[ch >> 4], kHex[ch & 15]};
    }
  }
  return out;
}

std::string BaseUri(int port) {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port);
}

}  // namespace

PgSandbox::PgSandbox(std::string dir, std::string bindir, std::string run_as)
    : dir_(std::move(dir)),
      data_dir_(dir_ + "/data"),
      bindir_(std::move(bindir)),
      run_as_(std::move(run_as)) {}

Result<std::unique_ptr<PgSandbox>> PgSandbox::Start(PgSandboxOptions options) {
  SQLIFT_RETURN_IF_ERROR(pgcluster::ValidateSettings(options.settings));
  SQLIFT_ASSIGN_OR_RETURN(std::string bindir, pgcluster::FindServerBinDir());
  SQLIFT_ASSIGN_OR_RETURN(auto user, pgcluster::ServerUser());
  SQLIFT_ASSIGN_OR_RETURN(std::string dir, MakeDir(options.dir));
  // From here on the destructor stops whatever was started and removes the directory.
  std::unique_ptr<PgSandbox> sandbox(new PgSandbox(dir, bindir, user ? user->name : ""));
  Status st = sandbox->Init(options.settings);
  if (!st.ok()) return st.With("start PostgreSQL sandbox in " + dir);
  sandbox->keep_ = options.keep;
  return sandbox;
}

Status PgSandbox::Init(const pgcluster::Settings& settings) {
  SQLIFT_ASSIGN_OR_RETURN(auto c, MakeCluster(dir_, data_dir_, bindir_, run_as_));
  if (c.user) {
    SQLIFT_RETURN_IF_ERROR(process::ChownTree(dir_, *c.user));
    SQLIFT_RETURN_IF_ERROR(process::CheckAccessAs(*c.user, dir_));
  }
  SQLIFT_RETURN_IF_ERROR(pgcluster::InitDb(c));
  // The port was free when picked, but anything may take it before the server binds it.
  Status st;
  for (int attempt = 0; attempt < 5; ++attempt) {
    SQLIFT_ASSIGN_OR_RETURN(int port, pgcluster::PickFreePort());
    SQLIFT_RETURN_IF_ERROR(pgcluster::WriteSettings(c, port, settings));
    bool port_taken = false;
    st = pgcluster::StartServer(c, &port_taken);
    if (st.ok()) {
      port_ = port;
      uri_ = UriFor("postgres");
      return WriteInfo();
    }
    if (!port_taken) return st;
  }
  return st.With("no free port after 5 attempts");
}

PgSandbox::~PgSandbox() {
  if (keep_) return;
  auto c = MakeCluster(dir_, data_dir_, bindir_, run_as_);
  Status st = c.ok() ? pgcluster::StopAnyHow(*c) : c.status();
  if (!st.ok())
    std::fprintf(stderr, "sqlift: stop sandbox %s: %s\n", dir_.c_str(), st.ToString().c_str());
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) std::fprintf(stderr, "sqlift: remove %s: %s\n", dir_.c_str(), ec.message().c_str());
}

std::string PgSandbox::UriFor(const std::string& database) const {
  return BaseUri(port_) + "/" + PercentEncode(database);
}

Status PgSandbox::Stop() {
  SQLIFT_ASSIGN_OR_RETURN(auto c, MakeCluster(dir_, data_dir_, bindir_, run_as_));
  return pgcluster::StopServer(c, "fast").With("stop PostgreSQL sandbox " + dir_);
}

Status PgSandbox::Crash() {
  SQLIFT_ASSIGN_OR_RETURN(auto c, MakeCluster(dir_, data_dir_, bindir_, run_as_));
  return pgcluster::StopServer(c, "immediate").With("crash PostgreSQL sandbox " + dir_);
}

Status PgSandbox::Restart() {
  SQLIFT_ASSIGN_OR_RETURN(auto c, MakeCluster(dir_, data_dir_, bindir_, run_as_));
  std::string what = "restart PostgreSQL sandbox " + dir_ + " on port " + std::to_string(port_);
  SQLIFT_RETURN_IF_ERROR(pgcluster::StopServer(c, "fast").With(what));
  bool port_taken = false;
  Status st = pgcluster::StartServer(c, &port_taken);
  if (port_taken) return st.With(what + ": the port is taken by another process");
  return st.With(what);
}

bool PgSandbox::running() const {
  return pgcluster::Running({dir_, data_dir_, bindir_, std::nullopt});
}

Result<std::string> PgSandbox::CreateDatabase(const std::string& name) {
  std::string what = "create database " + QuoteIdentifier(name) + " in sandbox " + dir_;
  SQLIFT_RETURN_IF_ERROR(CheckIdentifier(name).With(what));
  SQLIFT_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(uri_, std::chrono::seconds(30)));
  SQLIFT_RETURN_IF_ERROR(conn->Exec("CREATE DATABASE " + QuoteIdentifier(name)).With(what));
  return UriFor(name);
}

Status PgSandbox::WriteInfo() const {
  std::string text = "port=" + std::to_string(port_) + "\nuri=" + uri_ + "\ndata_dir=" + data_dir_ +
                     "\nbindir=" + bindir_ + "\n";
  return process::WriteFileAtomic(dir_ + "/" + kInfoFile, text);
}

Result<PgSandboxInfo> PgSandbox::ReadInfo(const std::string& dir) {
  std::string path = dir + "/" + kInfoFile;
  SQLIFT_ASSIGN_OR_RETURN(std::string text, process::ReadFile(path));
  PgSandboxInfo info;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "port") {
      Result<int64_t> port = ParseInt64(value, "port");
      info.port = port.ok() ? static_cast<int>(*port) : 0;  // 0: reported as missing below
    }
    if (key == "uri") info.uri = value;
    if (key == "data_dir") info.data_dir = value;
    if (key == "bindir") info.bindir = value;
  }
  if (info.port <= 0 || info.data_dir.empty() || info.bindir.empty()) {
    return Status::Corruption(path + " lacks port, data_dir or bindir");
  }
  return info;
}

Status PgSandbox::StopDir(const std::string& dir) {
  std::string what = "stop PostgreSQL sandbox " + dir;
  auto info = ReadInfo(dir);
  if (!info.ok()) return info.status().With(what + " (not a sqlift sandbox?)");
  pgcluster::Cluster c{dir, info->data_dir, info->bindir, std::nullopt};
  if (geteuid() == 0) {
    SQLIFT_ASSIGN_OR_RETURN(c.user, process::LookupOwner(info->data_dir));
  }
  SQLIFT_RETURN_IF_ERROR(pgcluster::StopAnyHow(c).With(what));
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return Status::IOError("remove " + dir + ": " + ec.message()).With(what);
  return Status::OK();
}

}  // namespace sqlift
