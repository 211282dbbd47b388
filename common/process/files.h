// Small file helpers for the tools that drive other programs (the PostgreSQL sandbox, the
// benchmarks): finding a program, durable writes, whole-file reads, the tail of a log.
//
// Thread safety: every function here may be called from any thread.
#pragma once

#include <cstddef>
#include <string>

#include "common/base/result.h"
#include "common/base/status.h"

namespace sqlift::process {

// The first executable `name` on $PATH, or "" when there is none.
std::string FindOnPath(const std::string& name);

// Writes `content` durably: temp file, fsync, rename, fsync of the directory.
[[nodiscard]] Status WriteFileAtomic(const std::string& path, const std::string& content);

// Reads a whole (small) file.
[[nodiscard]] Result<std::string> ReadFile(const std::string& path);

// The last `max_lines` lines of `text`.
std::string LastLines(const std::string& text, int max_lines);

// The last `bytes` bytes of the file at `path` ("..." in front when cut; "" when unreadable),
// for failure messages that quote a child's log.
std::string FileTail(const std::string& path, size_t bytes);

}  // namespace sqlift::process
