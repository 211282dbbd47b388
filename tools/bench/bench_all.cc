// `sqlift bench all [--json] [--size small|full]`: capture, copy, stream and snapshot,
// each with its baselines measured in the same run, and one table of figures and ratios.
// Each benchmark prints one JSON object into a buffer; the table reads its figures from them,
// and --json prints the four objects as one document.
#include "tools/bench/bench_all.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>

#include "common/json/json.h"
#include "tools/bench/bench_capture.h"
#include "tools/bench/bench_copy.h"
#include "tools/bench/bench_snapshot.h"
#include "tools/bench/bench_stream.h"

namespace sqlift {
namespace {

// One benchmark's JSON output, or null when it printed none that parses.
Json Parsed(const std::string& out) {
  Result<Json> doc = ParseJson(out);
  return doc.ok() ? std::move(doc).value() : Json(nullptr);
}

// The number `key` of a benchmark's output; NaN when absent.
double Field(const Json& doc, const char* key) {
  if (!doc.is_object()) return std::nan("");
  auto it = doc.find(key);
  return it != doc.end() && it->is_number() ? it->get<double>() : std::nan("");
}

// One row of the table; NaN prints as "nan", an empty baseline as blanks.
void Row(std::ostream& out, const char* bench, const char* figure, double value, int decimals,
         const char* baseline, double base, double ratio, const char* target) {
  const std::string base_s = *baseline ? fmt::format("{:>12.{}f}", base, decimals) : "";
  const std::string ratio_s = *baseline ? fmt::format("{:>8.3f}", ratio) : "";
  fmt::print(out, "  {:<8} {:<34} {:>12.{}f} {:<28} {:>12} {:>8}  {}\n", bench, figure, value,
             decimals, baseline, base_s, ratio_s, target);
}

void PrintTable(const BenchAllOptions& o, const Json& cj, const Json& pj, const Json& sj,
                const Json& nj) {
  fmt::print(*o.out,
             "bench all ({}): every figure against its baseline, measured in the same run\n"
             "  {:<8} {:<34} {:>12} {:<28} {:>12} {:>8}  {}\n",
             o.size, "", "figure", "value", "baseline", "value", "ratio", "target");
  std::ostream& out = *o.out;
  Row(out, "capture", "app txn/s with the recorder", Field(cj, "recorder_txn_per_s"), 0,
      "without sqlift", Field(cj, "baseline_txn_per_s"), Field(cj, "ratio"), ">= 0.85");
  Row(out, "capture", "app txn/s with the wal agent", Field(cj, "wal_txn_per_s"), 0,
      "without sqlift", Field(cj, "baseline_txn_per_s"), Field(cj, "wal_ratio"), ">= 0.95");
  Row(out, "capture", "wal decode row changes/s", Field(cj, "wal_decode_changes_per_s"), 0, "", 0,
      0, "");
  Row(out, "capture", "wal lag p99 ms at 5,000 txn/s", Field(cj, "wal_lag_p99_ms"), 1, "", 0, 0,
      "");
  Row(out, "copy", "sqlift copy rows/s", Field(pj, "sqlift_rows_per_s"), 0, "sqlite3 | psql COPY",
      Field(pj, "pipe_rows_per_s"), Field(pj, "ratio"), ">= 1.2");
  Row(out, "copy", "peak RSS MB", Field(pj, "sqlift_peak_rss_mb"), 1, "", 0, 0, "< 256");
  Row(out, "stream", "row changes/s end to end", Field(sj, "stream_changes_per_s"), 0,
      "direct PostgreSQL", Field(sj, "direct_pg_changes_per_s"), Field(sj, "stream_vs_direct_pg"),
      ">= 20000");
  Row(out, "stream", "lag p99 ms at 5,000 changes/s", Field(sj, "lag_p99_ms"), 1, "", 0, 0,
      "< 1000");
  Row(out, "snapshot", "snapshot rows/s (wal, daemons)", Field(nj, "snapshot_rows_per_s"), 0,
      "sqlift copy", Field(nj, "copy_rows_per_s"), Field(nj, "ratio"), ">= 0.9");
}

}  // namespace

int RunBenchAll(const BenchAllOptions& o) {
  const bool full = o.size == "full";
  std::ostringstream capture_out, copy_out, stream_out, snapshot_out;
  BenchCaptureOptions c;
  c.json = true, c.out = &capture_out, c.err = o.err;
  c.transactions = full ? 20000 : 5000;
  BenchCopyOptions p;
  p.json = true, p.out = &copy_out, p.err = o.err;
  p.bookings = full ? 2000000 : 200000;
  p.rounds = full ? 3 : 1;
  BenchStreamOptions s;
  s.json = true, s.out = &stream_out, s.err = o.err;
  s.size = o.size;
  BenchSnapshotOptions n;
  n.json = true, n.out = &snapshot_out, n.err = o.err;
  n.bookings = p.bookings;
  fmt::print(*o.err, "bench all ({}): capture\n", o.size);
  int rc = RunBenchCapture(c);
  fmt::print(*o.err, "bench all ({}): copy\n", o.size);
  rc = std::max(rc, RunBenchCopy(p));
  fmt::print(*o.err, "bench all ({}): stream\n", o.size);
  rc = std::max(rc, RunBenchStream(s));
  fmt::print(*o.err, "bench all ({}): snapshot\n", o.size);
  rc = std::max(rc, RunBenchSnapshot(n));
  const Json cj = Parsed(capture_out.str()), pj = Parsed(copy_out.str()),
             sj = Parsed(stream_out.str()), nj = Parsed(snapshot_out.str());
  if (o.json) {
    *o.out
        << DumpJsonSpaced(
               {{"size", o.size}, {"capture", cj}, {"copy", pj}, {"stream", sj}, {"snapshot", nj}})
        << "\n";
    return rc;
  }
  PrintTable(o, cj, pj, sj, nj);
  return rc;
}

}  // namespace sqlift
