// The JSON wing: the rule for text that is not UTF-8, escaping, the layouts, and parsing that
// reports errors instead of throwing.
#include "common/json/json.h"

#include <gtest/gtest.h>

namespace sqlift {
namespace {

TEST(JsonTest, ValidUtf8IsAString) {
  EXPECT_EQ(DumpJson(JsonText("Zürich – 東京 🚀")), "\"Zürich – 東京 🚀\"");
  EXPECT_EQ(DumpJson(Json{{"name", "plain"}}), R"({"name":"plain"})");
}

TEST(JsonTest, InvalidUtf8IsTextHex) {
  EXPECT_EQ(DumpJson(JsonText("a\xff")), R"({"text_hex":"61ff"})");
  EXPECT_EQ(DumpJson(JsonText("\xc0\xaf")), R"({"text_hex":"c0af"})");  // overlong
  // Set as a plain string, the same rule applies when the document is written.
  EXPECT_EQ(DumpJson(Json{{"v", "\xed\xa0\x80"}, {"n", 1}}),
            R"({"v":{"text_hex":"eda080"},"n":1})");
}

TEST(JsonTest, NulBytesAreTextHex) {
  const std::string with_nul("a\0b", 3);
  EXPECT_EQ(DumpJson(JsonText(with_nul)), R"({"text_hex":"610062"})");
  EXPECT_EQ(DumpJson(Json::array({with_nul})), R"([{"text_hex":"610062"}])");
}

TEST(JsonTest, KeysThatAreNotUtf8AreHex) {
  Json doc = Json::object();
  doc["c\xff"] = 1;
  EXPECT_EQ(DumpJson(doc), R"({"63ff":1})");
}

TEST(JsonTest, BlobsAreBlobHex) {
  EXPECT_EQ(DumpJson(JsonBlob(std::string("\x00\xff", 2))), R"({"blob_hex":"00ff"})");
}

TEST(JsonTest, QuotesBackslashesAndControlCharactersAreEscaped) {
  EXPECT_EQ(DumpJson(Json("q\"b\\n\nr\rt\t\x01\x1f")), R"("q\"b\\n\nr\rt\t\u0001\u001f")");
}

TEST(JsonTest, NumbersNullAndOrder) {
  Json doc = Json::object();
  doc["z"] = uint64_t{18446744073709551615u};
  doc["a"] = int64_t{-3};
  doc["m"] = nullptr;
  doc["r"] = -0.5;
  doc["t"] = true;
  EXPECT_EQ(DumpJson(doc), R"({"z":18446744073709551615,"a":-3,"m":null,"r":-0.5,"t":true})");
}

TEST(JsonTest, Layouts) {
  Json doc = {{"a", 1}, {"b", Json::array({2, "x"})}, {"c", Json::object()}};
  EXPECT_EQ(DumpJsonSpaced(doc), R"({"a": 1, "b": [2, "x"], "c": {}})");
  EXPECT_EQ(DumpJson(doc, true),
            "{\n  \"a\": 1,\n  \"b\": [\n    2,\n    \"x\"\n  ],\n  \"c\": {}\n}");
  EXPECT_EQ(DumpJsonSpaced(Json{{"v", "\xff"}}), R"({"v": {"text_hex": "ff"}})");
}

TEST(JsonTest, Rounded) {
  EXPECT_EQ(DumpJson(JsonRounded(20000.4, 0)), "20000");
  EXPECT_EQ(DumpJson(JsonRounded(1.23456, 3)), "1.235");
  EXPECT_EQ(DumpJson(JsonRounded(12.04, 1)), "12.0");
  EXPECT_EQ(DumpJson(JsonRounded(std::numeric_limits<double>::infinity(), 1)), "null");
}

TEST(JsonTest, ParseRoundTrips) {
  const std::string odd("x\0\xfe\"\\\n", 6);
  Json doc = {{"text", JsonText(odd)}, {"plain", "é🚀"}, {"n", -7}, {"list", {1.5, nullptr}}};
  Result<Json> back = ParseJson(DumpJson(doc));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, doc);
  Result<std::string> text = TextFromJson((*back)["text"]);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, odd);
  EXPECT_EQ(TextFromJson((*back)["plain"]).value(), "é🚀");
  EXPECT_FALSE(TextFromJson((*back)["n"]).ok());
  EXPECT_EQ(ParseJson(R"( {"s":"\u00e9\ud83d\ude00\/"} )").value()["s"], "é😀/");
}

TEST(JsonTest, MalformedDocumentsAreErrorsNotExceptions) {
  for (std::string_view bad : {"", "{", R"({"a":1} x)", R"({"a":})", "[1,]", "\"\xff\"", "nul"}) {
    Result<Json> r = ParseJson(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
    }
  }
  EXPECT_FALSE(BytesFromHex("abc").ok());
  EXPECT_FALSE(BytesFromHex("zz").ok());
}

TEST(JsonTest, ExactRefusesTextThatIsNotUtf8) {
  EXPECT_EQ(DumpJsonExact(Json::array({"a", "b"})).value(), R"(["a","b"])");
  EXPECT_FALSE(DumpJsonExact(Json::array({"\xff"})).ok());
}

}  // namespace
}  // namespace sqlift
