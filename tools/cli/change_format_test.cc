#include "tools/cli/change_format.h"

#include <gtest/gtest.h>

namespace sqlift {
namespace {

wire::ChangeBatch SampleBatch() {
  wire::ChangeBatch b;
  b.set_first_seq(7);
  b.set_last_seq(7);
  wire::TableShape* t = b.add_tables();
  t->set_name("we\"ird");
  t->add_columns("id");
  t->add_columns("v");
  t->add_pk_columns(0);
  wire::Transaction* ddl = b.add_transactions();
  ddl->set_seq(7);
  ddl->set_kind(wire::Transaction::DDL);
  ddl->set_ddl_table("we\"ird");
  ddl->set_ddl_sql("CREATE TABLE \"we\"\"ird\" (id INTEGER PRIMARY KEY, v)");
  wire::Transaction* txn = b.add_transactions();
  txn->set_seq(7);
  txn->set_committed_at_us(1'700'000'000'123'456);
  txn->set_kind(wire::Transaction::CHANGES);
  wire::RowChange* c = txn->add_changes();
  c->set_op(wire::RowChange::UPDATE);
  c->add_pk()->set_integer(5);
  c->add_old_values()->set_integer(5);
  c->add_old_values()->set_text(std::string("a\0\xff", 3));
  c->add_new_values();  // not present
  c->add_new_values()->set_real(-0.5);
  return b;
}

TEST(ChangeFormatTest, JsonLinesAreExactAndEscaped) {
  std::string out;
  FormatChangeBatch(SampleBatch(), ChangeFormat::kJsonLines, &out);
  EXPECT_EQ(out,
            "{\"seq\":7,\"committed_at\":\"1970-01-01T00:00:00.000000Z\",\"table\":\"we\\\"ird\","
            "\"ddl\":\"CREATE TABLE \\\"we\\\"\\\"ird\\\" (id INTEGER PRIMARY KEY, v)\"}\n"
            "{\"seq\":7,\"committed_at\":\"2023-11-14T22:13:20.123456Z\",\"table\":\"we\\\"ird\","
            "\"op\":\"UPDATE\",\"pk\":[5],\"old\":{\"id\":5,\"v\":{\"text_hex\":\"6100ff\"}},"
            "\"new\":{\"v\":-0.5}}\n");
}

TEST(ChangeFormatTest, TextIsReadable) {
  std::string out;
  FormatChangeBatch(SampleBatch(), ChangeFormat::kText, &out);
  EXPECT_NE(out.find("seq=7 2023-11-14T22:13:20.123456Z UPDATE we\"ird pk=(5) "
                     "old={id=5, v=x'6100ff'(text)} new={v=-0.5}"),
            std::string::npos)
      << out;
}

TEST(ChangeFormatTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("Zürich – 東京 🚀"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
}

TEST(ChangeFormatTest, NonFiniteRealsAreStrings) {
  wire::ChangeBatch b = SampleBatch();
  b.mutable_transactions(1)->mutable_changes(0)->mutable_new_values(1)->set_real(
      std::numeric_limits<double>::infinity());
  std::string out;
  FormatChangeBatch(b, ChangeFormat::kJsonLines, &out);
  EXPECT_NE(out.find("\"new\":{\"v\":\"Infinity\"}"), std::string::npos) << out;
}

}  // namespace
}  // namespace sqlift
