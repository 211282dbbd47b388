// Runs a fuzz entry point (LLVMFuzzerTestOneInput, linked in) over every file of its seed
// corpus in the normal build, so that the targets keep compiling and every input found by
// fuzzing stays a regression test. The corpus directory is SQLIFT_FUZZ_CORPUS.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(FuzzCorpusTest, EverySeedRunsClean) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SQLIFT_FUZZ_CORPUS)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0)
        << entry.path();
    ++files;
  }
  EXPECT_GT(files, 2);  // the corpus is there
}

}  // namespace
