#include "common/pg/pg_identifier.h"

#include <gtest/gtest.h>

#include <string>

namespace sqlift {
namespace {

using namespace std::string_literals;

TEST(QuoteIdentifierTest, WrapsInDoubleQuotes) {
  EXPECT_EQ(QuoteIdentifier("orders"), "\"orders\"");
  EXPECT_EQ(QuoteIdentifier("user"), "\"user\"");
  EXPECT_EQ(QuoteIdentifier("Mixed Case"), "\"Mixed Case\"");
  EXPECT_EQ(QuoteIdentifier(""), "\"\"");
}

TEST(QuoteIdentifierTest, DoublesEmbeddedQuotes) {
  EXPECT_EQ(QuoteIdentifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteIdentifier("\""), "\"\"\"\"");
  EXPECT_EQ(QuoteIdentifier("\"; DROP TABLE x; --"), "\"\"\"; DROP TABLE x; --\"");
}

TEST(QuoteIdentifierTest, LeavesEverythingElseAlone) {
  EXPECT_EQ(QuoteIdentifier("it's"), "\"it's\"");
  EXPECT_EQ(QuoteIdentifier("back\\slash"), "\"back\\slash\"");
  EXPECT_EQ(QuoteIdentifier("\xC3\xA9t\xC3\xA9"), "\"\xC3\xA9t\xC3\xA9\"");
  EXPECT_EQ(QuoteIdentifier("a\0b"s), "\"a\0b\""s);
}

TEST(QuoteIdentifierTest, QualifiedNamesQuoteEachPart) {
  EXPECT_EQ(QuoteQualified("sqlift", "positions"), "\"sqlift\".\"positions\"");
  EXPECT_EQ(QuoteQualified("my.schema", "a\"b"), "\"my.schema\".\"a\"\"b\"");
}

TEST(CheckIdentifierTest, AcceptsWhatPostgresKeepsWhole) {
  EXPECT_TRUE(CheckIdentifier("user").ok());
  EXPECT_TRUE(CheckIdentifier("\"; DROP TABLE x; --").ok());
  EXPECT_TRUE(CheckIdentifier("\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x9A\x80").ok());
  EXPECT_TRUE(CheckIdentifier(std::string(kMaxPgIdentifierBytes, 'a')).ok());
}

TEST(CheckIdentifierTest, RejectsWhatPostgresWouldChangeOrRefuse) {
  for (const std::string& bad : {""s, "a\0b"s, std::string(kMaxPgIdentifierBytes + 1, 'a'), "\xC3"s,
                                 "\xC0\xAF"s, "\xED\xA0\x80"s, "\xF4\x90\x80\x80"s, "\xFF"s}) {
    Status st = CheckIdentifier(bad);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << QuoteIdentifier(bad);
  }
}

}  // namespace
}  // namespace sqlift
