// Process-wide logging setup: spdlog to stderr as text or as one JSON object per line.
//
// Called once from main() before any sub-command runs; libraries log through spdlog's default
// logger. Thread safety: SetupLogging is not thread-safe; logging afterwards is.
#pragma once

#include <string_view>

#include "common/base/status.h"

namespace sqlift {

// format: "text" | "json"; level: trace|debug|info|warn|error|off.
[[nodiscard]] Status SetupLogging(std::string_view format, std::string_view level);

}  // namespace sqlift
