// BatchPacker: tables merged and re-indexed, the budget, and a shape change splitting batches.
#include "capture/shipper/batch_packer.h"

#include <gtest/gtest.h>

namespace sqlift {
namespace {

wire::ChangeBatch Record(uint64_t seq, const std::vector<std::string>& tables, int columns = 1) {
  wire::ChangeBatch b;
  b.set_first_seq(seq);
  b.set_last_seq(seq);
  auto* txn = b.add_transactions();
  txn->set_seq(seq);
  txn->set_kind(wire::Transaction::CHANGES);
  for (size_t i = 0; i < tables.size(); ++i) {
    auto* t = b.add_tables();
    t->set_name(tables[i]);
    for (int c = 0; c < columns; ++c)
      t->add_columns("c" + std::to_string(c));
    txn->add_changes()->set_table_index(static_cast<uint32_t>(i));
  }
  return b;
}

TEST(BatchPackerTest, MergesTablesAndReindexesChanges) {
  BatchPacker packer(1000);
  ASSERT_TRUE(packer.Add(Record(1, {"a", "b"}), 10));
  ASSERT_TRUE(packer.Add(Record(2, {"b", "c"}), 10));
  wire::ChangeBatch out = packer.Take();
  EXPECT_TRUE(packer.empty());
  EXPECT_EQ(out.first_seq(), 1u);
  EXPECT_EQ(out.last_seq(), 2u);
  ASSERT_EQ(out.tables_size(), 3);
  EXPECT_EQ(out.tables(2).name(), "c");
  ASSERT_EQ(out.transactions_size(), 2);
  EXPECT_EQ(out.transactions(1).changes(0).table_index(), 1u);  // b
  EXPECT_EQ(out.transactions(1).changes(1).table_index(), 2u);  // c
}

TEST(BatchPackerTest, BudgetAndShapeChangeStartTheNextBatch) {
  BatchPacker packer(25);
  ASSERT_TRUE(packer.Add(Record(1, {"a"}), 40));  // the first record always fits
  EXPECT_FALSE(packer.Add(Record(2, {"a"}), 1));
  packer.Take();
  ASSERT_TRUE(packer.Add(Record(2, {"a"}), 10));
  EXPECT_FALSE(packer.Add(Record(3, {"a"}, 2), 10));  // table a gained a column
  EXPECT_EQ(packer.Take().last_seq(), 2u);
}

}  // namespace
}  // namespace sqlift
