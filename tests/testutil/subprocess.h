// Runs a program to completion and captures what it printed, for scenario tests.
// Thread safety: each call is independent.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace sqlift::testing {

struct ProcessOutput {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;     // standard output
  std::string err;     // standard error
};

// Runs argv[0] with argv (no shell), waits for it, and returns its exit code and output.
// `input` is written to its standard input.
[[nodiscard]] Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv,
                                               const std::string& input = "");

}  // namespace sqlift::testing
