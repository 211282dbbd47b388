// ScratchDir: a fresh directory under the system temp dir for one test, removed with it.
//
// Thread safety: none; one per test.
#pragma once

#include <filesystem>
#include <string>

namespace sqlift::wal::testing {

class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

}  // namespace sqlift::wal::testing
