// libFuzzer target for the WAL reader: bytes read as a -wal file. Scanning must never crash,
// and what it yields must hold together: frame indexes consecutive from 0, each transaction
// ending in its commit frame, every page of the header's size; and resuming from the end of
// the first transaction must yield exactly the rest of the full scan.
//
// The same entry point runs over the seed corpus (fuzz_reader/) in every build.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "capture/wal/wal_reader.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sqlift::wal;
  StringFile file(std::string(reinterpret_cast<const char*>(data), size));
  sqlift::Result<WalScan> full = ScanWal(file, std::nullopt);
  Check(full.ok());
  uint64_t next = 0;
  for (const WalTransaction& t : full->transactions) {
    Check(!t.frames.empty() && t.db_size_pages != 0);
    for (const WalFrame& f : t.frames) {
      Check(f.index == next++ && f.page_number != 0);
      Check(f.page.size() == full->next.header.page_size);
    }
    Check(t.end.frames == next);
  }
  Check(full->next.frames == next);
  if (full->transactions.empty()) return 0;
  sqlift::Result<WalScan> rest = ScanWal(file, full->transactions[0].end);
  Check(rest.ok() && rest->continuity == WalContinuity::kContinues);
  Check(rest->transactions.size() + 1 == full->transactions.size());
  Check(rest->next.frames == full->next.frames && rest->next.checksum == full->next.checksum);
  return 0;
}
