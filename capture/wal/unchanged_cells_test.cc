// MatchUnchangedCells on hand-made table leaves: only cells equal byte for byte, with the same
// rowid and no overflow, are left out of a diff; a page it cannot vouch for is refused.
#include "capture/wal/unchanged_cells.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace sqlift::wal {
namespace {

constexpr uint32_t kPage = 512;

// A table leaf of 512 bytes holding `cells` (rowid < 128, payload < 128 bytes) in this order;
// a payload longer than the page keeps (per the spec) part of it local and names page 9 next.
std::string Leaf(const std::vector<std::pair<int, std::string>>& cells, int type = 13) {
  std::string page(kPage, '\0');
  page[0] = static_cast<char>(type);
  page[4] = static_cast<char>(cells.size());
  uint32_t end = kPage;
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& [rowid, payload] = cells[i];
    std::string cell{static_cast<char>(payload.size()), static_cast<char>(rowid)};
    cell += payload;
    end -= static_cast<uint32_t>(cell.size());
    page.replace(end, cell.size(), cell);
    page[8 + 2 * i] = static_cast<char>(end >> 8);
    page[9 + 2 * i] = static_cast<char>(end & 0xff);
  }
  return page;
}

// A one-cell leaf whose payload of 500 bytes overflows, with `local` as its local part.
std::string OverflowLeaf(char fill) {
  std::string page(kPage, '\0');
  page[0] = 13, page[4] = 1;
  const uint32_t local = LocalPayloadSize(500, kPage, true);
  std::string cell = {static_cast<char>(0x83), static_cast<char>(0x74), 1};  // 500, rowid 1
  cell += std::string(local, fill) + std::string("\0\0\0\x09", 4);
  const uint32_t at = kPage - static_cast<uint32_t>(cell.size());
  page.replace(at, cell.size(), cell);
  page[8] = static_cast<char>(at >> 8), page[9] = static_cast<char>(at & 0xff);
  return page;
}

Result<UnchangedCells> Match(const std::string& before, const std::string& after) {
  Result<BtreePage> b = BtreePage::Parse(before, 2, {kPage, kPage});
  Result<BtreePage> a = BtreePage::Parse(after, 2, {kPage, kPage});
  EXPECT_TRUE(b.ok() && a.ok());
  return MatchUnchangedCells(*b, *a);
}

TEST(UnchangedCellsTest, OnlyEqualRowsOfTheSameRowidMatch) {
  Result<UnchangedCells> m = Match(Leaf({{1,
                                          "\x02\x0f"
                                          "a"},
                                         {2,
                                          "\x02\x0f"
                                          "b"},
                                         {4,
                                          "\x02\x0f"
                                          "d"}}),
                                   Leaf({{1,
                                          "\x02\x0f"
                                          "a"},
                                         {2,
                                          "\x02\x0f"
                                          "B"},
                                         {3,
                                          "\x02\x0f"
                                          "c"},
                                         {4,
                                          "\x02\x0f"
                                          "d"}}));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->before, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(m->after, (std::vector<bool>{true, false, false, true}));
}

TEST(UnchangedCellsTest, SameBytesUnderAnotherRowidAreAChange) {
  Result<UnchangedCells> m = Match(Leaf({{1,
                                          "\x02\x0f"
                                          "a"}}),
                                   Leaf({{2,
                                          "\x02\x0f"
                                          "a"}}));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->before, std::vector<bool>{false});
  EXPECT_EQ(m->after, std::vector<bool>{false});
}

TEST(UnchangedCellsTest, AnOverflowingCellIsNeverVouchedFor) {
  Result<UnchangedCells> m = Match(OverflowLeaf('x'), OverflowLeaf('x'));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->before, std::vector<bool>{false});
  EXPECT_EQ(m->after, std::vector<bool>{false});
}

TEST(UnchangedCellsTest, UnorderedRowidsAndOtherPagesAreRefused) {
  const std::string ordered = Leaf({{1,
                                     "\x02\x0f"
                                     "a"}});
  EXPECT_FALSE(Match(Leaf({{2,
                            "\x02\x0f"
                            "a"},
                           {1,
                            "\x02\x0f"
                            "b"}}),
                     ordered)
                   .ok());
  EXPECT_FALSE(Match(ordered, Leaf({{1,
                                     "\x02\x0f"
                                     "a"},
                                    {1,
                                     "\x02\x0f"
                                     "a"}}))
                   .ok());
  EXPECT_FALSE(Match(Leaf({{1,
                            "\x02\x0f"
                            "a"}},
                          10),
                     ordered)
                   .ok());
}

}  // namespace
}  // namespace sqlift::wal
