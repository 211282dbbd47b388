// Capture mode wal in `sqlift bench capture` (tools/bench/bench_capture_internal.h): the
// WalCaptureAgent beside the application, as `sqlift capture` runs it (RocksDB log, synced
// writes, progress file), but on a thread of the benchmark's own process.
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "capture/wal/wal_progress.h"
#include "tools/bench/bench_capture_internal.h"

namespace sqlift::bench_capture {
namespace {

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The value at fraction p of the sorted values (nearest rank).
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// The agent logged exactly the application's transactions: one seq each, no more, no less.
Status CheckLogged(const WalRig& rig, uint64_t logged, int64_t transactions) {
  const uint64_t want = rig.first_seq() + static_cast<uint64_t>(transactions);
  if (logged == want) return Status::OK();
  return Status::Internal(fmt::format(
      "the wal agent logged up to seq {} for {} transactions after seq {} (expected {})", logged,
      transactions, rig.first_seq(), want));
}

std::chrono::seconds DrainTimeout(int64_t transactions) {
  return std::chrono::seconds(60 + transactions / 1000);
}

double CpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

AgentCpu::AgentCpu()
    : process_s_(CpuSeconds(CLOCK_PROCESS_CPUTIME_ID)),
      writer_s_(CpuSeconds(CLOCK_THREAD_CPUTIME_ID)) {}

double AgentCpu::MsPer1000(int64_t transactions) const {
  const double process = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - process_s_;
  const double writer = CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - writer_s_;
  return transactions > 0 ? (process - writer) * 1e6 / static_cast<double>(transactions) : 0;
}

Result<std::unique_ptr<WalRig>> WalRig::Open(const std::string& db_path,
                                             const std::string& state_dir, bool restart_wal) {
  std::unique_ptr<WalRig> rig(new WalRig());
  SQLIFT_ASSIGN_OR_RETURN(rig->log_, state::OpenRocksChangeLog(state_dir));
  CaptureAgentOptions o;
  o.sqlite_path = db_path;
  o.wal_progress_path = wal::WalProgressPath(state_dir);
  o.restart_wal = restart_wal;
  o.on_logged = [r = rig.get()](uint64_t seq) { r->OnLogged(seq); };
  SQLIFT_ASSIGN_OR_RETURN(rig->agent_, WalCaptureAgent::Open(o, rig->log_.get()));
  rig->first_seq_ = rig->agent_->logged_seq();
  return rig;
}

WalRig::~WalRig() {
  if (thread_.joinable()) (void)Stop();
  agent_.reset();  // before the log it writes to
  log_.reset();
}

void WalRig::OnLogged(uint64_t seq) {
  const Clock::time_point now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  logged_ = seq;
  writes_.emplace_back(seq, now);
  cv_.notify_all();
}

void WalRig::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = true;
  }
  thread_ = std::thread([this] {
    Status st = agent_->Run();
    std::lock_guard<std::mutex> lock(mu_);
    run_status_ = st;
    running_ = false;
    cv_.notify_all();
  });
}

Status WalRig::WaitLogged(uint64_t seq, std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool done = cv_.wait_for(lock, timeout, [&] { return logged_ >= seq || !running_; });
  if (logged_ >= seq) return Status::OK();
  if (done) return run_status_.ok() ? Status::Aborted("the wal agent's loop ended") : run_status_;
  return Status::Aborted(
      fmt::format("the wal agent logged seq {} of {} in {} s", logged_, seq, timeout.count()));
}

Status WalRig::Stop() {
  agent_->Stop();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return run_status_;
}

Result<WalRun> RunWithWalAgent(const std::string& db_path, const std::string& state_dir,
                               int64_t transactions, bool restart_wal) {
  SQLIFT_ASSIGN_OR_RETURN(auto app, BookingApp::Create(db_path, "wal"));
  SQLIFT_ASSIGN_OR_RETURN(auto rig, WalRig::Open(db_path, state_dir, restart_wal));
  const AgentCpu cpu;
  rig->Start();
  const Clock::time_point start = Clock::now();
  for (int64_t i = 0; i < transactions; ++i) {
    SQLIFT_RETURN_IF_ERROR(app->Transaction(i, nullptr).With(fmt::format("txn {}", i)));
  }
  const Clock::time_point written = Clock::now();
  const std::chrono::duration<double> elapsed = written - start;
  const uint64_t want = rig->first_seq() + static_cast<uint64_t>(transactions);
  SQLIFT_RETURN_IF_ERROR(rig->WaitLogged(want, DrainTimeout(transactions)));
  const double catch_up_ms = Ms(Clock::now() - written);
  SQLIFT_RETURN_IF_ERROR(rig->Stop());
  const double cpu_ms = cpu.MsPer1000(transactions);
  SQLIFT_RETURN_IF_ERROR(CheckLogged(*rig, rig->agent().logged_seq(), transactions));
  return WalRun{transactions / elapsed.count(), cpu_ms, catch_up_ms, rig->agent().wal_restarts(),
                rig->agent().writers_held_max_ms()};
}

Result<Decode> MeasureDecode(const std::string& db_path, const std::string& state_dir,
                             int64_t transactions) {
  SQLIFT_ASSIGN_OR_RETURN(auto app, BookingApp::Create(db_path, "wal"));
  // Opened first: its pin keeps every frame of the backlog in the WAL. Without WAL restarts: a
  // drain called on its own copies the WAL on its own thread (a running agent's checkpointer
  // thread does that), and the copy is not decoding.
  SQLIFT_ASSIGN_OR_RETURN(auto rig, WalRig::Open(db_path, state_dir, /*restart_wal=*/false));
  for (int64_t i = 0; i < transactions; ++i) {
    SQLIFT_RETURN_IF_ERROR(app->Transaction(i, nullptr).With(fmt::format("txn {}", i)));
  }
  const Clock::time_point start = Clock::now();
  SQLIFT_ASSIGN_OR_RETURN(DrainStats stats, rig->agent().DrainAvailable());
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  SQLIFT_RETURN_IF_ERROR(CheckLogged(*rig, stats.logged_seq, transactions));
  const int64_t want = BookingApp::RowChanges(transactions);
  if (stats.changes != static_cast<uint64_t>(want)) {
    return Status::Internal(
        fmt::format("the wal agent decoded {} row changes of {}", stats.changes, want));
  }
  return Decode{want / elapsed.count(), want};
}

namespace {

// Each transaction's lag: the first synced log write at or past its seq, less its commit time.
std::vector<double> Lags(const WalRig& rig, const std::vector<Clock::time_point>& commits) {
  const auto& writes = rig.writes();
  std::vector<double> lags;
  size_t w = 0;
  for (size_t i = 0; i < commits.size(); ++i) {
    const uint64_t seq = rig.first_seq() + 1 + i;
    while (w < writes.size() && writes[w].first < seq)
      ++w;
    if (w == writes.size()) break;  // CheckLogged has ruled this out
    lags.push_back(Ms(writes[w].second - commits[i]));
  }
  std::sort(lags.begin(), lags.end());
  return lags;
}

// The paced writer: a transaction every 1/txn_per_s on a fixed schedule for `seconds` (a late
// one runs at once, so the offered rate holds unless the writer itself cannot keep up); when
// each COMMIT returned.
Result<std::vector<Clock::time_point>> PacedWrites(BookingApp& app, double txn_per_s,
                                                   double seconds, const std::string& wal_path,
                                                   uint64_t* wal_max_bytes) {
  const auto interval = std::chrono::duration<double>(1.0 / txn_per_s);
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<Clock::time_point> commits;
  for (int64_t slot = 0;; ++slot) {
    const auto at = start + std::chrono::duration_cast<Clock::duration>(slot * interval);
    if (at >= end) break;
    std::this_thread::sleep_until(at);
    SQLIFT_RETURN_IF_ERROR(app.Transaction(slot, nullptr).With(fmt::format("txn {}", slot)));
    commits.push_back(Clock::now());
    if (slot % 50 == 0) {
      std::error_code ec;
      const uintmax_t size = std::filesystem::file_size(wal_path, ec);
      if (!ec) *wal_max_bytes = std::max<uint64_t>(*wal_max_bytes, size);
    }
  }
  return commits;
}

}  // namespace

Result<Lag> MeasureLag(const std::string& db_path, const std::string& state_dir, double txn_per_s,
                       double seconds, bool restart_wal) {
  SQLIFT_ASSIGN_OR_RETURN(auto app, BookingApp::Create(db_path, "wal"));
  SQLIFT_ASSIGN_OR_RETURN(auto rig, WalRig::Open(db_path, state_dir, restart_wal));
  const AgentCpu cpu;
  rig->Start();
  const Clock::time_point start = Clock::now();
  uint64_t wal_max_bytes = 0;
  SQLIFT_ASSIGN_OR_RETURN(std::vector<Clock::time_point> commits,
                          PacedWrites(*app, txn_per_s, seconds, db_path + "-wal", &wal_max_bytes));
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  const int64_t n = static_cast<int64_t>(commits.size());
  SQLIFT_RETURN_IF_ERROR(rig->WaitLogged(rig->first_seq() + n, DrainTimeout(n)));
  SQLIFT_RETURN_IF_ERROR(rig->Stop());
  const double cpu_ms = cpu.MsPer1000(n);
  SQLIFT_RETURN_IF_ERROR(CheckLogged(*rig, rig->agent().logged_seq(), n));
  const std::vector<double> lags = Lags(*rig, commits);
  return Lag{n / elapsed.count(),
             n,
             Percentile(lags, 0.5),
             Percentile(lags, 0.99),
             lags.empty() ? 0 : lags.back(),
             cpu_ms,
             static_cast<double>(wal_max_bytes) / (1 << 20),
             rig->agent().wal_restarts(),
             rig->agent().writers_held_max_ms()};
}

}  // namespace sqlift::bench_capture
