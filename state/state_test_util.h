// Helpers for the state tests only: a scratch directory and the deterministic record values
// the crash test's parent and child agree on.
//
// Thread safety: TempDir is used by one test at a time; RecordValue is a pure function.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace sqlift::state::testing {

// A fresh directory under $TEST_TMPDIR (or the system temp dir), removed with its contents on
// destruction. Aborts when it cannot be made: no test could run without it.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TEST_TMPDIR");
    std::string templ =
        (base != nullptr ? std::filesystem::path(base) : std::filesystem::temp_directory_path()) /
        "sqlift_state_XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      std::perror(("mkdtemp " + templ).c_str());
      std::abort();
    }
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The value stored for `seq` in tests that check data after a crash or reopen: varied lengths,
// and binary (it holds a NUL byte).
inline std::string RecordValue(uint64_t seq) {
  std::string v = "change-" + std::to_string(seq);
  v.push_back('\0');
  v.append(seq % 61, static_cast<char>('a' + seq % 26));
  return v;
}

}  // namespace sqlift::state::testing
