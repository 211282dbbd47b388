// `sqlift log dump|stats`: the durable change log, for people and for tests. Opens the state
// read-only, so it works beside a running agent (it sees the log as of the moment it opens).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <limits>

#include "state/change_log.h"
#include "state/keys.h"
#include "tools/cli/change_format.h"
#include "tools/cli/command.h"

namespace sqlift {
namespace {

struct LogOptions {
  std::string state_dir;
  uint64_t from = 1;
  uint64_t to = std::numeric_limits<uint64_t>::max();
  std::string format = "jsonl";
};

Result<std::unique_ptr<state::ChangeLog>> OpenLog(const GlobalOptions& global,
                                                  const LogOptions& o) {
  std::string dir = o.state_dir;
  if (dir.empty() && global.config) dir = global.config->state_dir;
  if (dir.empty()) {
    return Status::InvalidArgument("give --state DIR, or --config FILE with [state] dir");
  }
  return state::OpenRocksChangeLog(
      dir, {.create_if_missing = false, .read_only = true, .secondary_dir = ""});
}

Status Dump(state::ChangeLog& log, const LogOptions& o) {
  ChangeFormat format = o.format == "text" ? ChangeFormat::kText : ChangeFormat::kJsonLines;
  std::string out;
  Status st = log.Scan(o.from, o.to, [&](uint64_t seq, std::string_view value) {
    wire::ChangeBatch batch;
    if (!batch.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return Status::Corruption(fmt::format("log record of seq {} does not parse", seq));
    }
    FormatChangeBatch(batch, format, &out);
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
    return Status::OK();
  });
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return st;
}

Status Stats(state::ChangeLog& log) {
  SQLIFT_ASSIGN_OR_RETURN(state::LogStats s, log.Stats());
  SQLIFT_ASSIGN_OR_RETURN(uint64_t logged, log.GetPosition(state::kMetaLoggedSeq));
  SQLIFT_ASSIGN_OR_RETURN(uint64_t acked, log.GetPosition(state::kMetaAckedSeq));
  std::printf(
      "first_seq  %llu\nlast_seq   %llu\ncount      %llu\nbytes      %llu\n"
      "logged_seq %llu\nacked_seq  %llu\n",
      static_cast<unsigned long long>(s.first_seq), static_cast<unsigned long long>(s.last_seq),
      static_cast<unsigned long long>(s.count), static_cast<unsigned long long>(s.bytes),
      static_cast<unsigned long long>(logged), static_cast<unsigned long long>(acked));
  return Status::OK();
}

int Report(const char* what, const Status& st) {
  if (st.ok()) return kExitOk;
  spdlog::error("log {}: {}", what, st.ToString());
  return ExitCodeFor(st);
}

}  // namespace

void AddLogCommands(CLI::App& root, CommandTable& table, const GlobalOptions& global) {
  static LogOptions o;
  CLI::App* log = root.add_subcommand("log", "Inspect the capture agent's durable change log");
  log->require_subcommand(1);

  CLI::App* dump = log->add_subcommand(
      "dump",
      "Print one line per row change or DDL event: seq, committed_at, table, op, pk, "
      "old, new");
  dump->add_option("--state", o.state_dir, "The agent's state directory (default: [state] dir)");
  dump->add_option("--from", o.from, "First seq to print");
  dump->add_option("--to", o.to, "Last seq to print");
  dump->add_option("--format", o.format, "jsonl (one JSON object per line) or text")
      ->check(CLI::IsMember({"jsonl", "text"}));
  table.Set(dump, [&global] {
    Result<std::unique_ptr<state::ChangeLog>> l = OpenLog(global, o);
    return Report("dump", l.ok() ? Dump(**l, o) : l.status());
  });

  CLI::App* stats = log->add_subcommand(
      "stats",
      "Print the first and last seq, record count, bytes, and the logged and acked "
      "positions");
  stats->add_option("--state", o.state_dir, "The agent's state directory (default: [state] dir)");
  table.Set(stats, [&global] {
    Result<std::unique_ptr<state::ChangeLog>> l = OpenLog(global, o);
    return Report("stats", l.ok() ? Stats(**l) : l.status());
  });
}

}  // namespace sqlift
