// libFuzzer target: bytes as an outbox row's changeset might hold them (a damaged database, a
// bug in a recorder). DecodeChangeset must return Corruption or decode, never crash or hang
// (SQLite 3.40's changeset iterator hangs on some truncated input, which is why the decoder
// validates the bytes first); what it decodes must agree with CountChangesetRows, and every
// change must point at a table of the batch with as many values as the table has columns.
//
// The same entry point runs over the seed corpus in every build
// (changeset_decoder_corpus_test.cc), so this file must not need libFuzzer to link.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "capture/agent/changeset_decoder.h"

namespace {

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "changeset_decoder_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Names every column c0, c1, ... and keeps the changeset's primary-key flags.
  sqlift::ShapeFn shape =
      [](const sqlift::ChangesetTable& t) -> sqlift::Result<sqlift::wire::TableShape> {
    sqlift::wire::TableShape s;
    s.set_name(std::string(t.name));
    for (int i = 0; i < t.column_count; ++i) {
      s.add_columns("c" + std::to_string(i));
      if (t.pk[static_cast<size_t>(i)]) s.add_pk_columns(static_cast<uint32_t>(i));
    }
    if (s.pk_columns_size() == 0) return sqlift::Status::InvalidArgument("no primary key");
    return s;
  };
  sqlift::wire::ChangeBatch batch;
  sqlift::wire::Transaction* txn = batch.add_transactions();
  sqlift::Status st = sqlift::DecodeChangeset(bytes, shape, &batch, txn);
  sqlift::Result<int64_t> count = sqlift::CountChangesetRows(bytes);
  if (st.ok()) {
    Check(count.ok(), "decoded, but CountChangesetRows refused it");
    Check(*count == txn->changes_size(), "row count differs from the changes decoded");
    for (const sqlift::wire::RowChange& ch : txn->changes()) {
      Check(ch.table_index() < static_cast<uint32_t>(batch.tables_size()), "bad table index");
      int columns = batch.tables(static_cast<int>(ch.table_index())).columns_size();
      Check(ch.new_values_size() == 0 || ch.new_values_size() == columns, "new values width");
      Check(ch.old_values_size() == 0 || ch.old_values_size() == columns, "old values width");
    }
  } else {
    Check(st.code() == sqlift::Status::Code::kCorruption ||
              st.code() == sqlift::Status::Code::kInvalidArgument,
          "an error other than Corruption or the shape's refusal");
  }
  return 0;
}
