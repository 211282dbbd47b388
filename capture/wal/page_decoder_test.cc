// The page, payload and record decoder on hand-made bytes: the spec's formulas and encodings,
// and malformed input rejected with the page and offset named (never read out of bounds).
// Real pages are covered by wal_decoder_test.cc and the wal_page_fuzz corpus.
#include <gtest/gtest.h>

#include <map>

#include "capture/wal/btree_walk.h"
#include "capture/wal/bytes.h"

namespace sqlift::wal {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string out;
  for (int c : b)
    out.push_back(static_cast<char>(c));
  return out;
}

std::vector<Value> MustDecode(const std::string& record, TextEncoding enc = TextEncoding::kUtf8) {
  Result<std::vector<Value>> v = DecodeRecord(record, enc);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? std::move(v).value() : std::vector<Value>{};
}

std::string ErrorOf(const std::string& record, TextEncoding enc = TextEncoding::kUtf8) {
  Result<std::vector<Value>> v = DecodeRecord(record, enc);
  return v.ok() ? "ok" : v.status().ToString();
}

TEST(PageDecoderTest, VarintsOfOneToNineBytes) {
  EXPECT_EQ(ReadVarint(Bytes({0x7f}), 0)->value, 0x7fu);
  EXPECT_EQ(ReadVarint(Bytes({0x81, 0x00}), 0)->value, 0x80u);
  auto nine = ReadVarint(std::string(8, '\xff') + "\xff", 0);
  EXPECT_EQ(nine->value, ~uint64_t{0});
  EXPECT_EQ(nine->length, 9u);
  EXPECT_FALSE(ReadVarint(Bytes({0x81}), 0).has_value());
}

TEST(PageDecoderTest, RecordSerialTypes) {
  // Header: size 8, types NULL, int8, int24, 0, 1, float, text(1), blob(2).
  std::string rec = Bytes({9, 0, 1, 3, 8, 9, 7, 15, 16}) + Bytes({0xfe}) +
                    Bytes({0xff, 0xff, 0xfe}) + Bytes({0x3f, 0xf8, 0, 0, 0, 0, 0, 0}) + "a" +
                    Bytes({1, 2});
  std::vector<Value> v = MustDecode(rec);
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(v[0], Value::Null());
  EXPECT_EQ(v[1], Value::Integer(-2));
  EXPECT_EQ(v[2], Value::Integer(-2));
  EXPECT_EQ(v[3], Value::Integer(0));
  EXPECT_EQ(v[4], Value::Integer(1));
  EXPECT_EQ(v[5], Value::Real(1.5));
  EXPECT_EQ(v[6], Value::Text("a"));
  EXPECT_EQ(v[7], Value::Blob(Bytes({1, 2})));
}

TEST(PageDecoderTest, Utf16TextBecomesUtf8AndBadUtf16IsAnError) {
  // "é😀" in UTF-16le: e9 00, 3d d8 00 de.
  std::string le = Bytes({0xe9, 0x00, 0x3d, 0xd8, 0x00, 0xde});
  EXPECT_EQ(MustDecode(Bytes({2, 13 + 12}) + le, TextEncoding::kUtf16le)[0],
            Value::Text("\xc3\xa9\xf0\x9f\x98\x80"));
  std::string be = Bytes({0x00, 0xe9, 0xd8, 0x3d, 0xde, 0x00});
  EXPECT_EQ(MustDecode(Bytes({2, 13 + 12}) + be, TextEncoding::kUtf16be)[0],
            Value::Text("\xc3\xa9\xf0\x9f\x98\x80"));
  EXPECT_NE(ErrorOf(Bytes({2, 13 + 4}) + Bytes({0x3d, 0xd8, 0x41, 0}), TextEncoding::kUtf16le)
                .find("lone high surrogate"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Bytes({2, 13 + 2}) + "abc", TextEncoding::kUtf16le).find("odd"),
            std::string::npos);
}

TEST(PageDecoderTest, MalformedRecordsNameTheOffset) {
  EXPECT_NE(ErrorOf(Bytes({2, 10})).find("record offset 1: reserved serial type 10"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Bytes({5, 1})).find("header size 5"), std::string::npos);
  EXPECT_NE(ErrorOf(Bytes({2, 4, 0, 0})).find("runs past"), std::string::npos);
  EXPECT_NE(ErrorOf(Bytes({2, 1, 7, 0})).find("1 bytes after the last body"), std::string::npos);
  EXPECT_NE(ErrorOf(Bytes({3, 0x81, 0x81})).find("serial type varint"), std::string::npos);
}

TEST(PageDecoderTest, LocalPayloadFollowsTheSpec) {
  // U = 4096. Table leaf: X = U - 35 = 4061. Index: X = (4084 * 64 / 255) - 23 = 1002.
  // Both: M = (4084 * 32 / 255) - 23 = 489, K = M + (P - M) % (U - 4).
  EXPECT_EQ(LocalPayloadSize(4061, 4096, true), 4061u);  // P <= X: all local
  EXPECT_EQ(LocalPayloadSize(4062, 4096, true), 489u);   // K = 4062 > X: M
  EXPECT_EQ(LocalPayloadSize(5000, 4096, true), 908u);   // K = 489 + 4511 % 4092
  EXPECT_EQ(LocalPayloadSize(1002, 4096, false), 1002u);
  EXPECT_EQ(LocalPayloadSize(1003, 4096, false), 489u);  // K = 489 + 514 = 1003 > X: M
  EXPECT_EQ(LocalPayloadSize(1600, 4096, false), 489u);  // K = 1600 > X: M
  EXPECT_EQ(LocalPayloadSize(5000, 4096, false), 908u);
}

// A 512-byte table leaf at page 2 with one cell whose payload overflows into `chain`.
struct OverflowFixture {
  std::map<uint32_t, std::string> pages;
  DecodeContext ctx;

  explicit OverflowFixture(std::vector<uint32_t> chain_next) {
    std::string leaf(512, '\0');
    leaf[0] = 13;
    leaf[4] = 1;              // one cell
    leaf[8] = 0x01;           // cell pointer: offset 0x0100
    uint32_t payload = 1000;  // record: header [2, 12 + 2 * 997], blob of 997 bytes
    std::string cell = Bytes({0x87, 0x68, 1});  // payload size 1000, rowid 1
    std::string record = Bytes({3, 0x8f, 0x56}) + std::string(997, 'x');
    uint32_t local = LocalPayloadSize(payload, 512, true);
    cell += record.substr(0, local) + Bytes({0, 0, 0, 3});
    leaf.replace(0x100, cell.size(), cell);
    pages[2] = leaf;
    for (size_t i = 0; i < chain_next.size(); ++i) {
      std::string o(512, 'x');
      uint32_t next = chain_next[i];
      o.replace(0, 4, Bytes({0, 0, static_cast<int>(next >> 8), static_cast<int>(next & 0xff)}));
      pages[3 + static_cast<uint32_t>(i)] = o;
    }
    ctx = {{512, 512}, TextEncoding::kUtf8, 10, [this](uint32_t n) -> Result<std::string_view> {
             auto it = pages.find(n);
             if (it == pages.end()) return Status::NotFound("no page");
             return std::string_view(it->second);
           }};
  }
  std::string Walk() {
    std::string out;
    Status st = WalkBtree(ctx, 2, [&](BtreeEntry&& e) {
      out = e.values[0].bytes;
      return Status::OK();
    });
    return st.ok() ? out : st.ToString();
  }
};

TEST(PageDecoderTest, OverflowChainsAreFollowedAndCheckedExactly) {
  // U = 512, P = 1000: 39 bytes local (K = 492 > X = 477), then two pages of 508.
  EXPECT_EQ(OverflowFixture({4, 0}).Walk(), std::string(997, 'x'));
  EXPECT_NE(OverflowFixture({3}).Walk().find("page 2 cell at offset 256: overflow chain: bad "
                                             "or repeated page 3"),
            std::string::npos);
  EXPECT_NE(OverflowFixture({0}).Walk().find("ends 453 bytes early"), std::string::npos);
  EXPECT_NE(OverflowFixture({4, 5}).Walk().find("goes on to page 5"), std::string::npos);
}

TEST(PageDecoderTest, DatabaseHeaderFields) {
  std::string page1(1024, '\0');
  page1.replace(0, 16, std::string("SQLite format 3\0", 16));
  page1[16] = 0, page1[17] = 1;  // 65536 is stored as 1
  page1[20] = 8;
  page1[21] = 64, page1[22] = 32, page1[23] = 32;
  page1[59] = 3;
  Result<DatabaseHeader> h = ParseDatabaseHeader(page1);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->geometry.page_size, 65536u);
  EXPECT_EQ(h->geometry.usable_size, 65528u);
  EXPECT_EQ(h->encoding, TextEncoding::kUtf16be);
  page1[21] = 65;
  EXPECT_FALSE(ParseDatabaseHeader(page1).ok());
}

TEST(PageDecoderTest, CellPointerOutsideThePageIsAnErrorNamingIt) {
  std::string leaf(512, '\0');
  leaf[0] = 13, leaf[4] = 1, leaf[8] = 0x02, leaf[9] = 0x00;  // cell at 512: past the end
  Result<BtreePage> page = BtreePage::Parse(leaf, 7, {512, 512});
  ASSERT_TRUE(page.ok());
  Result<Cell> cell = page->CellAt(0);
  ASSERT_FALSE(cell.ok());
  EXPECT_NE(cell.status().message().find("page 7 offset 8"), std::string::npos)
      << cell.status().ToString();
}

}  // namespace
}  // namespace sqlift::wal
