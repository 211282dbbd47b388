// A cell's whole payload: its local part followed by its chain of overflow pages, each of
// which holds the next page's number in its first 4 bytes and then usable_size - 4 bytes.
//
// Pages come from a PageGetter, so the same code reads a database file, a WAL overlay or a
// test's pages. Thread safety: a pure function of its arguments and the getter.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/wal/btree_page.h"

namespace sqlift::wal {

// Page `page_number` (page_size bytes); the view stays valid while the getter's owner is
// unchanged. NotFound (or Corruption) for a page the database does not have.
using PageGetter = std::function<Result<std::string_view>(uint32_t page_number)>;

// The payload of `cell` (of page `page_number`). Corruption naming the page when the chain
// ends early, goes on past the payload, visits a page twice, or names a page outside
// 2..page_count. When `chain` is set, the overflow page numbers are appended to it.
[[nodiscard]] Result<std::string> ReadPayload(const Cell& cell, uint32_t page_number,
                                              const PageGeometry& geometry,
                                              const PageGetter& get_page, uint32_t page_count,
                                              std::vector<uint32_t>* chain = nullptr);

}  // namespace sqlift::wal
