// Runs the fuzz entry point (frame_decoder_fuzz.cc) over every file of the seed corpus, in
// the normal build, and checks that the seeds are what this file generates.
//
// To regenerate the seeds after changing them here:
//   SQLIFT_WRITE_FUZZ_SEEDS=1 build/<dir>/proto/wire/proto_frame_decoder_corpus_test
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "proto/wire/frame_codec.h"
#include "proto/wire/frame_test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace sqlift::proto {
namespace {

using namespace std::string_literals;
namespace fs = std::filesystem;
using testing::Encode;

struct Seed {
  std::string name;
  std::string bytes;
  size_t frames;       // frames a decoder takes before it stops
  Status::Code final;  // the decoder's first error, or the outcome of Finish
};

std::vector<Seed> Seeds() {
  const std::string hello = Encode(testing::SampleHello());
  const std::string batch = Encode(testing::SampleChangeBatch());
  return {
      {"hello.bin", hello, 1, Status::Code::kOk},
      {"change_batch.bin", batch, 1, Status::Code::kOk},
      {"snapshot_chunk.bin", Encode(testing::SampleSnapshotChunk()), 1, Status::Code::kOk},
      {"session.bin",
       hello + Encode(testing::SampleHelloReply()) + Encode(testing::SampleHeartbeat(5)) +
           Encode(testing::SampleAck()) + Encode(testing::SampleError()),
       5, Status::Code::kOk},
      {"truncated.bin", hello + batch.substr(0, 40), 1, Status::Code::kCorruption},
      {"zero_length.bin", "\x00\x00\x00\x00"s, 0, Status::Code::kCorruption},
      {"over_max.bin", "\x80\x00\x00\x00\x0a\x00"s, 0, Status::Code::kCorruption},
      {"bad_body.bin", "\x00\x00\x00\x03\xff\xff\xff"s, 0, Status::Code::kCorruption},
      {"unknown_body.bin", "\x00\x00\x00\x03\x98\x06\x01"s, 0, Status::Code::kCorruption},
  };
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "write " << path;
}

TEST(proto_FrameDecoderCorpus, SeedsDecodeAsDescribedAndMatchTheCorpus) {
  const fs::path dir = SQLIFT_FRAME_DECODER_CORPUS;
  const bool write = std::getenv("SQLIFT_WRITE_FUZZ_SEEDS") != nullptr;
  for (const Seed& seed : Seeds()) {
    SCOPED_TRACE(seed.name);
    testing::Decoded got = testing::DecodeStream(seed.bytes, 1);
    EXPECT_EQ(got.frames.size(), seed.frames);
    EXPECT_EQ(got.status.code(), seed.final) << got.status.ToString();
    if (write) WriteFile(dir / seed.name, seed.bytes);
    EXPECT_TRUE(ReadFile(dir / seed.name) == seed.bytes)
        << "seed differs from " << (dir / seed.name) << "; regenerate (see top of file)";
  }
}

TEST(proto_FrameDecoderCorpus, FuzzEntryPointRunsOverEveryFile) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(SQLIFT_FRAME_DECODER_CORPUS)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), Seeds().size());
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    const std::string bytes = ReadFile(file);
    // Aborts (failing the test binary) on any disagreement it finds.
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0);
  }
}

}  // namespace
}  // namespace sqlift::proto
