// What the benchmarks (`sqlift bench capture|copy|stream`) share: the booking application's
// schema, a scratch directory, and the median of a few rounds.
//
// Thread safety: plain functions and values.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace sqlift {

// The whole of testdata/booking_schema.sql, copied so the benchmarks read no file at run
// time.
extern const char* const kBookingSchemaSql;

double Median(std::vector<double> v);

// A directory for a benchmark's files: the one asked for (kept), or a fresh one under TMPDIR
// that is removed when this is destroyed.
struct ScratchDir {
  std::filesystem::path dir;
  bool owned = false;
  ~ScratchDir();
};
[[nodiscard]] Status MakeScratchDir(const std::string& requested, ScratchDir* s);

}  // namespace sqlift
