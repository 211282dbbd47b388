#include "capture/pg_logical/pgoutput_decoder.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace sqlift {
namespace {

using pgchange::Change;
using pgchange::Datum;
using Kind = PgOutputDecoder::Event::Kind;

constexpr int64_t kPgEpochUnixUs = int64_t{946684800} * 1000000;

// Builds a pgoutput message byte by byte (big-endian integers, NUL-terminated strings).
class Msg {
 public:
  explicit Msg(char type) { bytes_.push_back(type); }
  Msg& U8(uint8_t v) { return Int(v, 1); }
  Msg& I16(int16_t v) { return Int(static_cast<uint16_t>(v), 2); }
  Msg& U32(uint32_t v) { return Int(v, 4); }
  Msg& U64(uint64_t v) { return Int(v, 8); }
  Msg& Str(const std::string& s) {
    bytes_ += s;
    bytes_.push_back('\0');
    return *this;
  }
  Msg& Raw(const std::string& s) {
    bytes_ += s;
    return *this;
  }
  operator std::string() const { return bytes_; }  // NOLINT: a builder

 private:
  Msg& Int(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i)
      bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  std::string bytes_;
};

// A TupleData: nullopt is 'n', "\x01u" stands for 'u' (unchanged TOAST), anything else 't'.
const std::string kUnchanged = "\x01u";
std::string Tuple(const std::vector<std::optional<std::string>>& values) {
  Msg m('\0');
  m.I16(static_cast<int16_t>(values.size()));
  for (const auto& v : values) {
    if (!v) {
      m.U8('n');
    } else if (*v == kUnchanged) {
      m.U8('u');
    } else {
      m.U8('t').U32(static_cast<uint32_t>(v->size())).Raw(*v);
    }
  }
  return std::string(m).substr(1);
}

std::string Begin(uint64_t final_lsn, uint64_t pg_time, uint32_t xid) {
  return Msg('B').U64(final_lsn).U64(pg_time).U32(xid);
}
std::string Commit(uint64_t lsn, uint64_t end, uint64_t pg_time) {
  return Msg('C').U8(0).U64(lsn).U64(end).U64(pg_time);
}
// Relation `id` public.<table> with columns (name, key).
std::string Relation(uint32_t id, const std::string& table,
                     const std::vector<std::pair<std::string, bool>>& cols) {
  Msg m('R');
  m.U32(id).Str("public").Str(table).U8('d').I16(static_cast<int16_t>(cols.size()));
  for (const auto& [name, key] : cols)
    m.U8(key ? 1 : 0).Str(name).U32(25).U32(0xffffffff);
  return m;
}
std::string Insert(uint32_t rel, const std::string& tuple) {
  return Msg('I').U32(rel).U8('N').Raw(tuple);
}
std::string Update(uint32_t rel, char old_kind, const std::string& old_tuple,
                   const std::string& tuple) {
  Msg m('U');
  m.U32(rel);
  if (old_kind != 0) m.U8(old_kind).Raw(old_tuple);
  return m.U8('N').Raw(tuple);
}
std::string Delete(uint32_t rel, const std::string& old_tuple) {
  return Msg('D').U32(rel).U8('K').Raw(old_tuple);
}
std::string Message(bool transactional, uint64_t lsn, const std::string& prefix,
                    const std::string& content) {
  return Msg('M')
      .U8(transactional ? 1 : 0)
      .U64(lsn)
      .Str(prefix)
      .U32(static_cast<uint32_t>(content.size()))
      .Raw(content);
}

const std::vector<std::pair<std::string, bool>> kCols = {{"id", true}, {"v", false}};

class PgOutputDecoderTest : public ::testing::Test {
 protected:
  // Feeds every message (at LSNs 0x100, 0x200, ...); returns the events that completed.
  std::vector<PgOutputDecoder::Event> FeedAll(const std::vector<std::string>& msgs) {
    std::vector<PgOutputDecoder::Event> events;
    for (const std::string& m : msgs) {
      PgOutputDecoder::Event ev;
      Status st = decoder_.Feed(m, lsn_ += 0x100, &ev);
      EXPECT_TRUE(st.ok()) << st.ToString();
      if (ev.kind != Kind::kNone) events.push_back(std::move(ev));
    }
    return events;
  }
  // Feeds `setup` (which must decode) then `bad`, and returns the error for `bad`.
  Status FeedBad(const std::vector<std::string>& setup, const std::string& bad) {
    FeedAll(setup);
    PgOutputDecoder::Event ev;
    Status st = decoder_.Feed(bad, 0x1234, &ev);
    EXPECT_EQ(ev.kind, Kind::kNone);
    return st;
  }

  PgOutputDecoder decoder_;
  uint64_t lsn_ = 0;
};

TEST_F(PgOutputDecoderTest, AssemblesATransaction) {
  auto events = FeedAll(
      {Relation(7, "t", kCols), Begin(0x5000, 1000, 42), Msg('Y').U32(99).Str("public").Str("e"),
       Insert(7, Tuple({"1", "it's \"q\"\nx"})), Update(7, 0, "", Tuple({"1", std::nullopt})),
       Update(7, 'K', Tuple({"1", std::nullopt}), Tuple({"2", kUnchanged})),
       Delete(7, Tuple({"2", std::nullopt})), Msg('T').U32(1).U8(0).U32(7),
       Commit(0x5000, 0x5040, 2000)});
  ASSERT_EQ(events.size(), 1u);
  const pgchange::Transaction& txn = events[0].txn;
  EXPECT_EQ(events[0].kind, Kind::kTransaction);
  EXPECT_EQ(txn.xid, 42u);
  EXPECT_EQ(txn.final_lsn, 0x5000u);
  EXPECT_EQ(txn.end_lsn, 0x5040u);
  EXPECT_EQ(txn.commit_time_us, kPgEpochUnixUs + 2000);
  EXPECT_EQ(txn.origin, "");
  ASSERT_EQ(txn.changes.size(), 5u);
  const auto& rel = *txn.changes[0].rel;
  EXPECT_EQ(rel.id, 7u);
  EXPECT_EQ(rel.schema, "public");
  EXPECT_EQ(rel.table, "t");
  ASSERT_EQ(rel.columns.size(), 2u);
  EXPECT_TRUE(rel.columns[0].key);
  EXPECT_FALSE(rel.columns[1].key);
  EXPECT_EQ(rel.columns[1].type_oid, 25u);
  EXPECT_EQ(rel.columns[1].type_mod, -1);

  const Change& ins = txn.changes[0];
  EXPECT_EQ(ins.op, Change::Op::kInsert);
  EXPECT_TRUE(ins.old_tuple.empty());
  ASSERT_EQ(ins.new_tuple.size(), 2u);
  EXPECT_EQ(ins.new_tuple[1].kind, Datum::Kind::kText);
  EXPECT_EQ(ins.new_tuple[1].text, "it's \"q\"\nx");
  const Change& same_key = txn.changes[1];
  EXPECT_EQ(same_key.op, Change::Op::kUpdate);
  EXPECT_TRUE(same_key.old_tuple.empty());
  EXPECT_EQ(same_key.new_tuple[1].kind, Datum::Kind::kNull);
  const Change& new_key = txn.changes[2];
  ASSERT_EQ(new_key.old_tuple.size(), 2u);
  EXPECT_EQ(new_key.old_tuple[0].text, "1");
  EXPECT_EQ(new_key.new_tuple[0].text, "2");
  EXPECT_EQ(new_key.new_tuple[1].kind, Datum::Kind::kUnchanged);
  EXPECT_EQ(txn.changes[3].op, Change::Op::kDelete);
  EXPECT_EQ(txn.changes[3].old_tuple[0].text, "2");
  EXPECT_TRUE(txn.changes[3].new_tuple.empty());
  EXPECT_EQ(txn.changes[4].op, Change::Op::kTruncate);
  EXPECT_EQ(txn.changes[4].rel->table, "t");
  EXPECT_FALSE(decoder_.in_transaction());
}

TEST_F(PgOutputDecoderTest, ChangesKeepTheRelationTheyWereMadeWith) {
  auto events = FeedAll({Relation(7, "t", kCols), Begin(0x10, 0, 1), Insert(7, Tuple({"1", "a"})),
                         Relation(7, "t", {{"id", true}, {"v", false}, {"w", false}}),
                         Insert(7, Tuple({"2", "b", "c"})), Commit(0x10, 0x20, 0)});
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].txn.changes.size(), 2u);
  EXPECT_EQ(events[0].txn.changes[0].rel->columns.size(), 2u);
  EXPECT_EQ(events[0].txn.changes[1].rel->columns.size(), 3u);
  EXPECT_EQ(decoder_.FindRelation(7)->columns.size(), 3u);
  EXPECT_EQ(decoder_.FindRelation(8), nullptr);
}

TEST_F(PgOutputDecoderTest, OriginNamesTheTransactionsOrigin) {
  auto events =
      FeedAll({Relation(7, "t", kCols), Begin(0x10, 0, 1), Msg('O').U64(0x99).Str("sqlift_app"),
               Insert(7, Tuple({"1", "a"})), Commit(0x10, 0x20, 0), Begin(0x30, 0, 2),
               Insert(7, Tuple({"2", "b"})), Commit(0x30, 0x40, 0)});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].txn.origin, "sqlift_app");
  EXPECT_EQ(events[1].txn.origin, "");  // an origin belongs to one transaction only
}

TEST_F(PgOutputDecoderTest, NonTransactionalMessageIsAMarker) {
  auto events = FeedAll({Message(false, 0x77, "sqlift", "cutover 1"), Relation(7, "t", kCols),
                         Begin(0x300, 0, 1), Message(true, 0x301, "app", "ignored"),
                         Insert(7, Tuple({"1", std::string("a\0b", 3)})), Commit(0x300, 0x380, 0)});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, Kind::kMarker);
  EXPECT_EQ(events[0].lsn, 0x100u);  // the XLogData's wal start
  EXPECT_EQ(events[0].prefix, "sqlift");
  EXPECT_EQ(events[0].content, "cutover 1");
  ASSERT_EQ(events[1].txn.changes.size(), 1u);  // the transactional message is not a change
  EXPECT_EQ(events[1].txn.changes[0].new_tuple[1].text, std::string("a\0b", 3));
}

TEST_F(PgOutputDecoderTest, TruncateGivesOneChangePerRelation) {
  auto events = FeedAll({Relation(7, "a", kCols), Relation(8, "b", kCols), Begin(0x10, 0, 1),
                         Msg('T').U32(2).U8(1).U32(7).U32(8), Commit(0x10, 0x20, 0)});
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(events[0].txn.changes.size(), 2u);
  EXPECT_EQ(events[0].txn.changes[0].rel->table, "a");
  EXPECT_EQ(events[0].txn.changes[1].rel->table, "b");
  EXPECT_EQ(events[0].txn.changes[1].op, Change::Op::kTruncate);
}

struct BadCase {
  const char* name;
  std::vector<std::string> setup;
  std::string bad;
  const char* expect;  // a piece of the error message
};

TEST_F(PgOutputDecoderTest, MalformedInputIsCorruptionNamingTheProblem) {
  const std::string rel = Relation(7, "t", kCols);
  const std::string begin = Begin(0x10, 0, 1);
  const std::vector<BadCase> cases = {
      {"empty", {}, "", "empty pgoutput message"},
      {"unknown type", {}, "Zxyz", "unknown pgoutput message type 'Z'"},
      {"unknown type byte", {}, "\x90", "type 0x90"},
      {"change before Begin", {rel}, Insert(7, Tuple({"1", "a"})), "outside a transaction"},
      {"unknown relation", {rel, begin}, Insert(8, Tuple({"1", "a"})), "relation id 8"},
      {"column count", {rel, begin}, Insert(7, Tuple({"1"})), "has 1 columns, relation public.t"},
      {"nested Begin", {begin}, begin, "nested Begin"},
      {"Commit without Begin", {}, Commit(0x10, 0x20, 0), "Commit outside a transaction"},
      {"Commit LSN", {begin}, Commit(0x11, 0x20, 0), "differs from Begin's final LSN"},
      {"binary value",
       {rel, begin},
       Msg('I').U32(7).U8('N').I16(2).U8('b').U32(0).U8('n'),
       "binary value for column id"},
      {"value kind", {rel, begin}, Msg('I').U32(7).U8('N').I16(2).U8('x'), "value kind 'x'"},
      {"negative length",
       {rel, begin},
       Msg('I').U32(7).U8('N').I16(2).U8('t').U32(0xfffffff0),
       "negative length"},
      {"length past end",
       {rel, begin},
       Msg('I').U32(7).U8('N').I16(2).U8('t').U32(100).Raw("ab"),
       "message ends inside text value"},
      {"trailing bytes", {}, Begin(1, 2, 3) + "zz", "2 unexpected bytes"},
      {"commit time", {}, Begin(1, 0x7fffffffffffff00, 3), "commit timestamp"},
      {"commit time at Commit", {begin}, Commit(0x10, 0x20, 0x8000000000000000), "out of range"},
      {"Delete marker",
       {rel, begin},
       Msg('D').U32(7).U8('N').Raw(Tuple({"1", "a"})),
       "expected 'K' or 'O'"},
      {"Update marker",
       {rel, begin},
       Msg('U').U32(7).U8('Q').Raw(Tuple({"1", "a"})),
       "tuple marker 'Q'"},
      {"Origin outside", {}, Msg('O').U64(1).Str("x"), "Origin \"x\" outside"},
      {"marker inside", {begin}, Message(false, 1, "p", "c"), "non-transactional message"},
      {"transactional outside", {}, Message(true, 1, "p", "c"), "transactional message \"p\""},
      {"negative columns", {}, Msg('R').U32(1).Str("s").Str("t").U8('d').I16(-1), "negative"},
      {"column count past end",
       {},
       Msg('R').U32(1).Str("s").Str("t").U8('d').I16(32767),
       "message ends inside columns"},
      {"no NUL", {}, Msg('R').U32(1).Raw("public"), "no terminating NUL"},
      {"truncate unknown", {rel, begin}, Msg('T').U32(1).U8(0).U32(9), "relation id 9"},
      {"truncate count", {rel, begin}, Msg('T').U32(0x80000000).U8(0), "negative relation count"},
      {"truncate short", {rel, begin}, Msg('T').U32(3).U8(0).U32(7), "relation ids"},
  };
  for (const BadCase& c : cases) {
    decoder_ = PgOutputDecoder();
    Status st = FeedBad(c.setup, c.bad);
    EXPECT_EQ(st.code(), Status::Code::kCorruption) << c.name << ": " << st.ToString();
    EXPECT_NE(st.ToString().find(c.expect), std::string::npos) << c.name << ": " << st.ToString();
  }
}

TEST_F(PgOutputDecoderTest, EveryTruncatedMessageIsCorruption) {
  const std::string rel = Relation(7, "t", kCols);
  const std::string begin = Begin(0x10, 0, 1);
  const std::vector<std::pair<std::vector<std::string>, std::string>> valid = {
      {{}, begin},
      {{begin}, Commit(0x10, 0x20, 0)},
      {{begin}, Msg('O').U64(1).Str("origin")},
      {{}, rel},
      {{}, Msg('Y').U32(1).Str("s").Str("t")},
      {{rel, begin}, Insert(7, Tuple({"1", "abc"}))},
      {{rel, begin}, Update(7, 'O', Tuple({"1", "a"}), Tuple({"1", std::nullopt}))},
      {{rel, begin}, Delete(7, Tuple({"1", std::nullopt}))},
      {{rel, begin}, Msg('T').U32(1).U8(0).U32(7)},
      {{}, Message(false, 5, "prefix", "content")},
  };
  for (const auto& [setup, msg] : valid) {
    for (size_t len = 0; len < msg.size(); ++len) {
      decoder_ = PgOutputDecoder();
      Status st = FeedBad(setup, msg.substr(0, len));
      EXPECT_EQ(st.code(), Status::Code::kCorruption)
          << "message " << msg[0] << " cut to " << len << " bytes: " << st.ToString();
    }
    decoder_ = PgOutputDecoder();
    FeedAll(setup);
    PgOutputDecoder::Event ev;
    EXPECT_TRUE(decoder_.Feed(msg, 0x1234, &ev).ok()) << "message " << msg[0] << " whole";
  }
}

TEST_F(PgOutputDecoderTest, ErrorNamesMessageAndLsnAndIsPermanent) {
  Status st = FeedBad({Relation(7, "t", kCols), Begin(0x10, 0, 1)}, Insert(7, Tuple({"1"})));
  EXPECT_EQ(st.context(), "decode pgoutput Insert message at 0/1234");
  PgOutputDecoder::Event ev;
  Status again = decoder_.Feed(Commit(0x10, 0x20, 0), 0x2000, &ev);
  EXPECT_EQ(again.ToString(), st.ToString());
  EXPECT_EQ(ev.kind, Kind::kNone);
}

TEST_F(PgOutputDecoderTest, RefusesATransactionPastTheMemoryLimit) {
  decoder_ = PgOutputDecoder({.max_transaction_bytes = 4096});
  Status st = FeedBad({Relation(7, "t", kCols), Begin(0x10, 0, 77)},
                      Insert(7, Tuple({"1", std::string(5000, 'x')})));
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("xid 77"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace sqlift
