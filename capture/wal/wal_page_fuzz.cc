// libFuzzer target for the page and record decoder: bytes read as a small database image
// whose b-tree rooted at a chosen page is walked in full (cells, overflow chains, records,
// text conversion). Decoding must return Corruption or rows, never crash, hang or read out of
// bounds.
//
// Input: byte 0 picks the page size (512 << (b % 8)), byte 1 the reserved bytes, byte 2 the
// text encoding (b % 4), byte 3 the root page (1 + b % pages); the rest are the pages,
// the last one zero-padded. The seeds (fuzz/) are pages of databases SQLite wrote.
//
// The same entry point runs over the seed corpus in every build, so this file must not need
// libFuzzer to link.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "capture/wal/btree_walk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sqlift::wal;
  if (size < 5) return 0;
  uint32_t page_size = 512u << (data[0] % 8);
  uint32_t reserved = data[1];
  auto encoding = static_cast<TextEncoding>(data[2] % 4);
  std::string image(reinterpret_cast<const char*>(data) + 4, size - 4);
  uint32_t pages = static_cast<uint32_t>((image.size() + page_size - 1) / page_size);
  image.resize(static_cast<size_t>(pages) * page_size, '\0');
  DecodeContext ctx{{page_size, page_size - reserved},
                    encoding,
                    pages,
                    [&](uint32_t n) -> sqlift::Result<std::string_view> {
                      if (n < 1 || n > pages) return sqlift::Status::NotFound("no such page");
                      return std::string_view(image).substr((n - 1) * size_t{page_size}, page_size);
                    }};
  uint32_t root = 1 + data[3] % pages;
  sqlift::Status st = WalkBtree(ctx, root, [](BtreeEntry&&) { return sqlift::Status::OK(); });
  if (!st.ok() && st.code() != sqlift::Status::Code::kCorruption &&
      st.code() != sqlift::Status::Code::kNotFound) {
    std::abort();  // only damaged input may fail, and only as damage
  }
  (void)ParseDatabaseHeader(ctx.get_page(1).value());
  return 0;
}
