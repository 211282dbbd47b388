// libFuzzer target for PgOutputDecoder. The input is a sequence of messages, each an Int16
// big-endian length and that many bytes (a last short record is fed as it is), all fed to one
// decoder as XLogData payloads at increasing LSNs.
//
// Checked: no crash or UB (run under the sanitizers); every error is kCorruption or, for the
// memory limit, kFailedPrecondition, and stays: later messages get the same error; every
// change handed out has a relation and tuples of that relation's width; markers are never
// handed out inside a transaction.
//
// The same entry point runs over the seed corpus (apply/fuzz/pgoutput) in the unit tests, so
// this file must not need libFuzzer to link.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "capture/pg_logical/pgoutput_decoder.h"

namespace sqlift {
namespace {

void Check(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  std::fprintf(stderr, "pgoutput_decoder_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

void CheckTransaction(const pgchange::Transaction& txn) {
  for (const pgchange::Change& c : txn.changes) {
    Check(c.rel != nullptr, "change without relation");
    const size_t width = c.rel->columns.size();
    Check(c.old_tuple.empty() || c.old_tuple.size() == width, "old tuple width");
    Check(c.new_tuple.empty() || c.new_tuple.size() == width, "new tuple width");
    const bool has_new =
        c.op == pgchange::Change::Op::kInsert || c.op == pgchange::Change::Op::kUpdate;
    Check(has_new != c.new_tuple.empty() || width == 0, "new tuple presence");
  }
}

}  // namespace
}  // namespace sqlift

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sqlift;  // NOLINT: a C entry point
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // A small limit, so that the fuzzer meets the memory limit path too.
  PgOutputDecoder decoder({.max_transaction_bytes = 1 << 16});
  Status first;
  pgchange::Lsn lsn = 0;
  while (!in.empty()) {
    size_t len = in.size() >= 2
                     ? (static_cast<unsigned char>(in[0]) << 8 | static_cast<unsigned char>(in[1]))
                     : 0;
    in.remove_prefix(std::min<size_t>(2, in.size()));
    std::string_view msg = in.substr(0, len);
    in.remove_prefix(msg.size());
    const bool was_in_txn = decoder.in_transaction();
    PgOutputDecoder::Event ev;
    Status st = decoder.Feed(msg, lsn += 0x28, &ev);
    if (!first.ok()) {
      Check(st.ToString() == first.ToString(), "error not permanent");
      continue;
    }
    if (!st.ok()) {
      Check(
          st.code() == Status::Code::kCorruption || st.code() == Status::Code::kFailedPrecondition,
          "unexpected error code:", st.ToString());
      Check(ev.kind == PgOutputDecoder::Event::Kind::kNone, "event with an error");
      first = st;
      continue;
    }
    if (ev.kind == PgOutputDecoder::Event::Kind::kTransaction) {
      Check(was_in_txn && !decoder.in_transaction(), "transaction outside Begin..Commit");
      CheckTransaction(ev.txn);
    } else if (ev.kind == PgOutputDecoder::Event::Kind::kMarker) {
      Check(!was_in_txn && ev.lsn == lsn, "marker inside a transaction or at a wrong LSN");
    }
  }
  return 0;
}
