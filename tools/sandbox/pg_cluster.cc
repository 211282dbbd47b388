#include "tools/sandbox/pg_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <system_error>
#include <thread>

#include "common/process/files.h"
#include "common/process/process.h"

namespace sqlift::pgcluster {
namespace {

namespace fs = std::filesystem;
using process::LastLines;

constexpr int kStartTimeoutS = 60;
constexpr int kStopTimeoutS = 60;
constexpr int kInitDbTimeoutS = 120;
constexpr const char* kConfFile = "sqlift_sandbox.conf";

bool HasServerTools(const std::string& dir) {
  return !dir.empty() && access((dir + "/initdb").c_str(), X_OK) == 0 &&
         access((dir + "/pg_ctl").c_str(), X_OK) == 0;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  return s;
}

// Runs a PostgreSQL tool to completion: no shell, stdin from /dev/null, stdout and stderr
// together (the last 64 KiB), the caller's environment without PG* variables (so a developer's
// PGPORT or PGDATA never leaks into a sandbox), its own process group so that a timeout kills
// the whole tree. A timeout is an error (kAborted); a non-zero exit is not.
Result<process::Output> RunTimed(std::vector<std::string> argv,
                                 const std::optional<process::UserIdentity>& user,
                                 const std::string& cwd, int timeout_s) {
  std::string program = argv.empty() ? "" : argv[0];
  process::Options o{.argv = std::move(argv),
                     .drop_pg_env = true,
                     .user = user,
                     .cwd = cwd,
                     .in = process::Stream::Null(),
                     .out = process::Stream::Capture(),
                     .err = process::Stream::SameAsStdout(),
                     .own_process_group = true,
                     .capture_limit = 64 * 1024};
  SQLIFT_ASSIGN_OR_RETURN(process::Output out,
                          process::Run(std::move(o), std::chrono::seconds(timeout_s)));
  if (!out.timed_out) return out;
  return Status::Aborted(program + " did not finish within " + std::to_string(timeout_s) +
                         " s and was killed; output: " + LastLines(out.out, 10));
}

std::string PgConfigBinDir() {
  std::string pg_config = process::FindOnPath("pg_config");
  if (pg_config.empty()) return "";
  auto out = RunTimed({pg_config, "--bindir"}, std::nullopt, "", 10);
  if (!out.ok() || out->exit_code != 0) return "";
  return Trim(out->out);
}

// The newest /usr/lib/postgresql/<version>/bin with the server tools, or "".
std::string NewestDebianBinDir() {
  std::string best;
  double best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string bin = entry.path().string() + "/bin";
    double version = std::strtod(entry.path().filename().c_str(), nullptr);
    if (version > best_version && HasServerTools(bin)) {
      best = bin;
      best_version = version;
    }
  }
  return best;
}

Result<process::Output> Run(const Cluster& c, std::vector<std::string> argv, int timeout_s) {
  return RunTimed(std::move(argv), c.user, c.dir, timeout_s);
}

// Runs a server tool; an IOError with its output when it exits non-zero.
Status RunTool(const Cluster& c, const std::string& what, std::vector<std::string> argv,
               int timeout_s) {
  SQLIFT_ASSIGN_OR_RETURN(auto out, Run(c, std::move(argv), timeout_s));
  if (out.exit_code == 0) return Status::OK();
  return Status::IOError(what + " failed (exit " + std::to_string(out.exit_code) +
                         "): " + LastLines(out.out, 20));
}

Status GiveToUser(const Cluster& c, const std::string& path) {
  return c.user ? process::ChownTree(path, *c.user) : Status::OK();
}

// 'value' for postgresql.conf.
std::string ConfQuote(const std::string& value) {
  std::string out = "'";
  for (char ch : value) {
    if (ch == '\'' || ch == '\\') out.push_back(ch == '\'' ? '\'' : '\\');
    out.push_back(ch);
  }
  return out + "'";
}

// The unix socket directory, or "" (TCP only) when the socket path would be too long.
std::string SocketDir(const Cluster& c) {
  constexpr size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;
  return c.dir.size() + std::string("/.s.PGSQL.65535").size() <= kMaxSocketPath ? c.dir : "";
}

std::string ReadFrom(const std::string& path, std::streamoff offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(offset);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::streamoff FileSize(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : static_cast<std::streamoff>(size);
}

// The postmaster's pid from postmaster.pid, or 0.
pid_t PostmasterPid(const Cluster& c) {
  std::ifstream in(c.data_dir + "/postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

bool Alive(pid_t pid) {
  if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM)) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: trust kill()
  size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

Status KillPostmaster(const Cluster& c) {
  pid_t pid = PostmasterPid(c);
  if (!Alive(pid)) return Status::OK();
  if (kill(pid, SIGKILL) != 0 && errno != ESRCH) {
    return Status::IOError("kill postmaster " + std::to_string(pid) + ": " +
                           std::error_code(errno, std::system_category()).message());
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Alive(pid)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::IOError("postmaster " + std::to_string(pid) + " survived SIGKILL for 10 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll with a deadline
  }
  return Status::OK();
}

}  // namespace

Result<std::string> FindServerBinDir() {
  if (const char* env = std::getenv("SQLIFT_PG_BINDIR"); env != nullptr && *env != '\0') {
    if (HasServerTools(env)) return std::string(env);
    return Status::FailedPrecondition("SQLIFT_PG_BINDIR=" + std::string(env) +
                                      " does not hold initdb and pg_ctl");
  }
  if (std::string dir = PgConfigBinDir(); HasServerTools(dir)) return dir;
  if (std::string dir = NewestDebianBinDir(); !dir.empty()) return dir;
  return Status::NotFound(
      "PostgreSQL server binaries (initdb, pg_ctl) not found via pg_config or in "
      "/usr/lib/postgresql/*/bin; install the Debian package 'postgresql-15' "
      "(deploy/install-deps.sh) or set SQLIFT_PG_BINDIR");
}

Result<std::optional<process::UserIdentity>> ServerUser() {
  if (geteuid() != 0) return std::optional<process::UserIdentity>();
  auto user = process::LookupUser("postgres");
  if (user.ok()) return std::optional<process::UserIdentity>(std::move(user).value());
  if (user.status().code() != Status::Code::kNotFound) return user.status();
  return Status::FailedPrecondition(
      "running as root, but PostgreSQL refuses to run as root and there is no system user "
      "'postgres' to run it as; install 'postgresql-15' (which creates that user) or run as "
      "an ordinary user");
}

namespace {

// Binds 127.0.0.1:port (0: any); the port bound, or the error.
Result<int> BindLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Status::IOError("socket: " + std::error_code(errno, std::system_category()).message());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  int err = errno;
  close(fd);
  if (!ok)
    return Status::IOError("bind 127.0.0.1:" + std::to_string(port) + ": " +
                           std::error_code(err, std::system_category()).message());
  return static_cast<int>(ntohs(addr.sin_port));
}

}  // namespace

// Below Linux's ephemeral range (32768-60999 by default): a port from that range can be taken
// by any outgoing connection between the pick and the bind, which busy tests (many
// connections, restarts) did hit. Random ports in [20000, 32768) first; port 0 as a last resort.
Result<int> PickFreePort() {
  static std::mt19937 rng(
      static_cast<uint32_t>(::getpid()) ^
      static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  for (int attempt = 0; attempt < 50; ++attempt) {
    Result<int> port = BindLoopback(20000 + static_cast<int>(rng() % 12768));
    if (port.ok()) return port;
  }
  return BindLoopback(0);
}

Status ValidateSettings(const Settings& settings) {
  for (const auto& [name, value] : settings) {
    bool plain =
        !name.empty() && name.find_first_not_of(
                             "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") == std::string::npos;
    if (!plain) return Status::InvalidArgument("bad PostgreSQL setting name '" + name + "'");
    if (value.find_first_of("\r\n", 0) != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return Status::InvalidArgument("value of setting " + name + " has a line break or NUL");
    }
    if (name == "port" || name == "listen_addresses" || name == "unix_socket_directories") {
      return Status::InvalidArgument("setting " + name + " is managed by the sandbox");
    }
  }
  return Status::OK();
}

Status InitDb(const Cluster& c) {
  SQLIFT_RETURN_IF_ERROR(RunTool(c, "initdb",
                                 {c.bindir + "/initdb", "-D", c.data_dir, "-U", "postgres", "-A",
                                  "trust", "-E", "UTF8", "--no-locale", "--no-sync"},
                                 kInitDbTimeoutS));
  std::ofstream conf(c.data_dir + "/postgresql.conf", std::ios::app);
  conf << "\n# Added by the sqlift sandbox; its settings win over the lines above.\n"
       << "include '" << kConfFile << "'\n";
  conf.close();
  if (!conf) return Status::IOError("append to " + c.data_dir + "/postgresql.conf");
  return Status::OK();
}

Status WriteSettings(const Cluster& c, int port, const Settings& extra) {
  Settings all = {{"listen_addresses", "127.0.0.1"},
                  {"port", std::to_string(port)},
                  {"unix_socket_directories", SocketDir(c)},
                  {"fsync", "off"},
                  {"max_connections", "100"},
                  {"shared_buffers", "64MB"},
                  {"wal_level", "logical"},
                  {"max_replication_slots", "10"},
                  {"max_wal_senders", "10"}};
  all.insert(all.end(), extra.begin(), extra.end());
  std::string text = "# Written by the sqlift sandbox (deploy/pg_sandbox.h).\n";
  for (const auto& [name, value] : all)
    text += name + " = " + ConfQuote(value) + "\n";
  std::string path = c.data_dir + "/" + kConfFile;
  SQLIFT_RETURN_IF_ERROR(process::WriteFileAtomic(path, text));
  return GiveToUser(c, path);
}

Status StartServer(const Cluster& c, bool* port_taken) {
  *port_taken = false;
  std::streamoff log_start = FileSize(c.log_file());
  SQLIFT_ASSIGN_OR_RETURN(auto out, Run(c,
                                        {c.bindir + "/pg_ctl", "-D", c.data_dir, "-l", c.log_file(),
                                         "-w", "-t", std::to_string(kStartTimeoutS), "-s", "start"},
                                        kStartTimeoutS + 30));
  if (out.exit_code == 0) return Status::OK();
  std::string log = ReadFrom(c.log_file(), log_start);
  *port_taken = log.find("could not bind") != std::string::npos ||
                log.find("could not create any TCP/IP sockets") != std::string::npos;
  return Status::Unavailable("pg_ctl start failed (exit " + std::to_string(out.exit_code) +
                             "): " + LastLines(out.out, 5) + "\n--- last lines of " + c.log_file() +
                             " ---\n" + LastLines(log, 20));
}

Status StopServer(const Cluster& c, const std::string& mode) {
  if (!Running(c)) return Status::OK();
  return RunTool(c, "pg_ctl stop -m " + mode,
                 {c.bindir + "/pg_ctl", "-D", c.data_dir, "-m", mode, "-w", "-t",
                  std::to_string(kStopTimeoutS), "-s", "stop"},
                 kStopTimeoutS + 30);
}

Status StopAnyHow(const Cluster& c) {
  Status fast = StopServer(c, "fast");
  if (fast.ok()) return fast;
  Status immediate = StopServer(c, "immediate");
  if (immediate.ok()) return immediate;
  Status killed = KillPostmaster(c);
  if (killed.ok()) return killed;
  return Status::IOError("could not stop PostgreSQL in " + c.data_dir + ": " + fast.ToString() +
                         "; " + immediate.ToString() + "; " + killed.ToString());
}

bool Running(const Cluster& c) {
  return Alive(PostmasterPid(c));
}

}  // namespace sqlift::pgcluster
