#include "capture/wal/payload.h"

#include <fmt/format.h>

#include <unordered_set>

#include "capture/wal/bytes.h"

namespace sqlift::wal {
namespace {

Status ChainError(uint32_t page_number, const Cell& cell, std::string_view what) {
  return Status::Corruption(
      fmt::format("page {} cell at offset {}: overflow chain: {}", page_number, cell.offset, what));
}

}  // namespace

Result<std::string> ReadPayload(const Cell& cell, uint32_t page_number, const PageGeometry& g,
                                const PageGetter& get_page, uint32_t page_count,
                                std::vector<uint32_t>* chain) {
  if (cell.first_overflow == 0) return std::string(cell.local);
  uint64_t per_page = g.usable_size - 4;
  uint64_t rest = cell.payload_size - cell.local.size();
  if ((rest + per_page - 1) / per_page > page_count) {
    return ChainError(page_number, cell,
                      fmt::format("{} bytes need more pages than the {} of the "
                                  "database",
                                  rest, page_count));
  }
  std::string out(cell.local);
  out.reserve(cell.payload_size);
  std::unordered_set<uint32_t> seen;
  uint32_t next = cell.first_overflow;
  while (rest > 0) {
    if (next == 0) return ChainError(page_number, cell, fmt::format("ends {} bytes early", rest));
    if (next < 2 || next > page_count || !seen.insert(next).second) {
      return ChainError(page_number, cell, fmt::format("bad or repeated page {}", next));
    }
    SQLIFT_ASSIGN_OR_RETURN(std::string_view page, get_page(next));
    if (chain) chain->push_back(next);
    if (page.size() < g.usable_size) return ChainError(page_number, cell, "short overflow page");
    size_t take = static_cast<size_t>(std::min(rest, per_page));
    out.append(page.substr(4, take));
    rest -= take;
    next = Get32(page, 0);
  }
  if (next != 0) return ChainError(page_number, cell, fmt::format("goes on to page {}", next));
  return out;
}

}  // namespace sqlift::wal
