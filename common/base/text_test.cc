#include "common/base/text.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sqlift {
namespace {

// The definition, one sequence at a time: what IsValidUtf8's word-at-a-time path must agree
// with wherever a sequence sits against an eight-byte boundary.
bool ValidOneByOne(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t len = Utf8SequenceLength(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

TEST(TextTest, IsValidUtf8AcceptsAsciiAndWellFormedSequences) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii, longer than one word of eight bytes"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 and more after it"));
}

TEST(TextTest, IsValidUtf8RejectsWhatPostgresRejects) {
  for (std::string bad :
       {"\x80", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC3", "\xFF"}) {
    for (size_t pad = 0; pad < 17; ++pad) {  // the bad byte at every offset of a word
      const std::string text = std::string(pad, 'a') + bad + std::string(pad % 5, 'b');
      EXPECT_FALSE(IsValidUtf8(text)) << "pad " << pad;
    }
  }
}

TEST(TextTest, IsValidUtf8AgreesWithTheDefinitionOnRandomText) {
  std::mt19937 rng(12345);
  const std::string pieces[] = {
      "a",    "bcdefgh", "\xC3\xA9",     "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
      "\x80", "\xC3",    "\xED\xA0\x80", "\x7F"};
  for (int n = 0; n < 20000; ++n) {
    std::string text;
    const int count = static_cast<int>(rng() % 12);
    for (int k = 0; k < count; ++k)
      text += pieces[rng() % std::size(pieces)];
    ASSERT_EQ(IsValidUtf8(text), ValidOneByOne(text)) << testing::PrintToString(text);
  }
}

}  // namespace
}  // namespace sqlift
