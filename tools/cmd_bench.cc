// `sqlift bench capture|copy|stream|all`: figures against baselines measured in the same run.
#include "tools/bench_capture.h"
#include "tools/command.h"

namespace sqlift {
namespace {

struct BenchOptions {
  bool json = false;
  std::string size = "small";
  int64_t transactions = 0;  // 0: by --size
};

int NotYet(const char* what) {
  std::fprintf(stderr, "sqlift bench %s: not implemented yet\n", what);
  return kExitUsage;
}

}  // namespace

void AddBenchCommands(CLI::App& root, CommandTable& table, const GlobalOptions&) {
  static BenchOptions o;
  CLI::App* bench = root.add_subcommand(
      "bench",
      "Measure capture, copy and stream against baselines run on the same machine, "
      "in the same run");
  bench->require_subcommand(1);
  CLI::App* capture = bench->add_subcommand(
      "capture",
      "Write transactions (1 insert + 1 update, WAL, synchronous=NORMAL) with and "
      "without the recorder; print both rates and the ratio");
  capture->add_flag("--json", o.json, "Print one JSON object");
  capture->add_option("--size", o.size, "small (5,000 transactions per run) or full (20,000)")
      ->check(CLI::IsMember({"small", "full"}));
  capture->add_option("--transactions", o.transactions, "Transactions per run (overrides --size)");
  table.Set(capture, [] {
    BenchCaptureOptions b;
    b.json = o.json;
    b.transactions = o.transactions > 0 ? o.transactions : (o.size == "full" ? 20000 : 5000);
    return RunBenchCapture(b);
  });
  for (const char* name : {"copy", "stream", "all"}) {
    CLI::App* b = bench->add_subcommand(name, std::string("Benchmark: ") + name);
    b->add_flag("--json", o.json, "Print one JSON object");
    b->add_option("--size", o.size, "small or full");
    table.Set(b, [name] { return NotYet(name); });
  }
}

}  // namespace sqlift
