// Writes the seed corpora of the fuzz targets from databases SQLite itself writes; skipped
// unless SQLIFT_WAL_WRITE_CORPUS names the capture/wal folder to write them into:
//   SQLIFT_WAL_WRITE_CORPUS=$PWD/capture/wal build/release/capture/wal/wal_test
//     --gtest_filter='WalCorpusWriter.*'
// fuzz/: one seed per b-tree root of small databases (page sizes 512 to 65536, each text
// encoding, reserved bytes, overflow rows), in wal_page_fuzz.cc's input layout.
// fuzz_reader/: a small WAL (512-byte pages, several transactions): whole, torn, and with a
// damaged frame.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "capture/wal/page_store.h"
#include "capture/wal/testing/scratch_dir.h"
#include "capture/wal/testing/sqlite_oracle.h"
#include "capture/wal/wal_reader.h"

namespace sqlift::wal {
namespace {

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A small database with overflow rows and non-ASCII text, left open so its WAL stays.
std::unique_ptr<SqliteDb> SmallDatabase(const testing::DbConfig& c, const std::string& path) {
  auto db = testing::CreateWalDatabase(path, c).value();
  std::string big(c.page_size <= 4096 ? 3 * c.page_size + 100 : 300, 'z');
  EXPECT_TRUE(db->Exec("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL, d);"
                       "CREATE TABLE w(k TEXT, n INT, v, PRIMARY KEY(n, k)) WITHOUT ROWID;"
                       "INSERT INTO t VALUES (1, 'héllo ☃ 😀', 1.5, x'00ff'), (2, NULL, 3, -7);"
                       "INSERT INTO t VALUES (3, '" +
                       big +
                       "', 2.25, 'x');"
                       "INSERT INTO w VALUES ('a', 1, 1e100), ('😀', 2, '" +
                       big + "');")
                  .ok());
  return db;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(WalCorpusWriter, WriteSeeds) {
  const char* out = std::getenv("SQLIFT_WAL_WRITE_CORPUS");
  if (!out) GTEST_SKIP() << "SQLIFT_WAL_WRITE_CORPUS not set";
  std::filesystem::create_directories(std::string(out) + "/fuzz");
  std::filesystem::create_directories(std::string(out) + "/fuzz_reader");
  const char* encodings[] = {"UTF-8", "UTF-16le", "UTF-16be"};
  int n = 0;
  for (uint32_t page_size : {512u, 1024u, 4096u, 65536u}) {
    for (int e = 0; e < 3; ++e) {
      if (page_size >= 4096 && e != (page_size == 4096 ? 1 : 0)) continue;  // keep it small
      testing::ScratchDir dir;
      testing::DbConfig c{page_size, encodings[e], e == 1 ? 8 : 0, "NONE"};
      auto db = SmallDatabase(c, dir.Path("s.db"));
      ASSERT_TRUE(db->Exec("PRAGMA wal_checkpoint(FULL)").ok());
      std::string image = ReadAll(dir.Path("s.db"));
      if (page_size == 65536) image.resize(2 * page_size);
      uint32_t pages = static_cast<uint32_t>(image.size() / page_size);
      std::set<uint32_t> roots{2};
      if (page_size <= 1024) roots.insert({1, pages});
      for (uint32_t root : roots) {
        std::string seed;
        seed.push_back(static_cast<char>(__builtin_ctz(page_size) - 9));
        seed.push_back(static_cast<char>(c.reserved_bytes));
        seed.push_back(static_cast<char>(e + 1));
        seed.push_back(static_cast<char>(root - 1));
        WriteFile(fmt::format("{}/fuzz/seed_{:02}_p{}_{}_root{}", out, n++, page_size, encodings[e],
                              root),
                  seed + image);
      }
    }
  }
  testing::ScratchDir dir;
  auto db = SmallDatabase({512, "UTF-8", 0, "NONE"}, dir.Path("s.db"));
  std::string wal = ReadAll(dir.Path("s.db-wal"));
  ASSERT_GT(wal.size(), 32 + 4 * (24 + 512));
  WriteFile(std::string(out) + "/fuzz_reader/sqlite_wal", wal);
  WriteFile(std::string(out) + "/fuzz_reader/sqlite_wal_torn", wal.substr(0, wal.size() - 300));
  std::string bad = wal;
  bad[32 + 3 * (24 + 512) + 40] ^= 4;
  WriteFile(std::string(out) + "/fuzz_reader/sqlite_wal_bad_frame3", bad);
}

}  // namespace
}  // namespace sqlift::wal
