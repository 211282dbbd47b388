// PageBuffers: the page images that PageStore drops when a newer frame of the same page
// arrives, kept for the WAL reader to read the next frames into, so that a steady stream of
// frames allocates and frees no page-sized buffer each (a cost larger than reading the page).
//
// One pool per thread (the reader and the store of one WAL source run on one thread), holding
// at most kMaxBytes. Thread safety: the functions touch only the calling thread's pool.
#pragma once

#include <string>
#include <string_view>

namespace sqlift::wal {

class PageBuffers {
 public:
  static constexpr size_t kMaxBytes = size_t{4} << 20;

  // `bytes` in a buffer from the pool when it has one, else a new string.
  static std::string Copy(std::string_view bytes);
  // Keeps `page`'s memory for a later Copy (or frees it when the pool is full).
  static void Recycle(std::string&& page);
};

}  // namespace sqlift::wal
