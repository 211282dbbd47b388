// Pieces of `sqlift bench copy` (tools/bench_copy.h), one file each: the booking database
// generator (bench_copy_data.cc) and the child processes it times (bench_copy_proc.cc); and
// the plan and the comparison of two loads (bench_copy.cc). `sqlift bench snapshot` uses them
// too.
//
// Thread safety: functions of their arguments; run on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "common/base/result.h"

namespace sqlift::bench_copy {

// What the generator wrote, table by table.
struct GeneratedDb {
  int64_t rooms = 0, bookings = 0, others = 0;  // others: users, business hours, settings
  int64_t rows() const { return rooms + bookings + others; }
  std::vector<std::string> tables;  // every table of the schema, in creation order
};

// Creates `path` with the booking application's schema (testdata/booking_schema.sql) and
// `rooms` rooms, `bookings` bookings and a few users, business hours and settings, with
// varied values from a fixed-seed generator (the same file for the same arguments).
[[nodiscard]] Result<GeneratedDb> GenerateBookingDb(const std::string& path, int64_t rooms,
                                                    int64_t bookings);

// One finished child process (or pipeline).
struct ChildRun {
  double seconds = 0;       // from spawn to the last exit
  int64_t peak_rss_kb = 0;  // largest ru_maxrss of the children
};

struct Spawn {
  std::vector<std::string> argv;  // argv[0]: an absolute path, or a name looked up on PATH
  std::vector<std::string> env;   // NAME=value added to the caller's environment, less PG*
};

// Runs `producer | consumer` (stdout of one into stdin of the other; the consumer's stdout
// is discarded; both stderrs go to `log`). Fails when either exits non-zero (with the tail of
// `log`) or when the pair is not done within `timeout`, which kills both.
[[nodiscard]] Result<ChildRun> RunPipeline(const Spawn& producer, const Spawn& consumer,
                                           const std::string& log, std::chrono::seconds timeout);

// Runs one program (stdout discarded, stderr to `log`), as RunPipeline.
[[nodiscard]] Result<ChildRun> RunChild(const Spawn& child, const std::string& log,
                                        std::chrono::seconds timeout);

// The plan `sqlift copy` makes of a SQLite file, into schema public.
[[nodiscard]] Result<SchemaPlan> PlanOf(const std::string& sqlite_path);

// Per table of the plan: "name count hash", its row count and a sum of a hash of every row's
// text (TimeZone UTC).
[[nodiscard]] Result<std::vector<std::string>> Fingerprint(const SchemaPlan& plan,
                                                           const std::string& uri);

// Both databases hold the same rows (Fingerprint), `rows` of them; Corruption naming what
// differs otherwise.
struct NamedUri {
  std::string name;  // for the message
  std::string uri;
};
[[nodiscard]] Status CompareLoads(const SchemaPlan& plan, int64_t rows, const NamedUri& a,
                                  const NamedUri& b);

}  // namespace sqlift::bench_copy
