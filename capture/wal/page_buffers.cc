#include "capture/wal/page_buffers.h"

#include <vector>

namespace sqlift::wal {
namespace {

struct Pool {
  std::vector<std::string> free;
  size_t bytes = 0;
};

Pool& ThreadPool() {
  thread_local Pool pool;
  return pool;
}

}  // namespace

std::string PageBuffers::Copy(std::string_view bytes) {
  Pool& pool = ThreadPool();
  while (!pool.free.empty()) {
    std::string page = std::move(pool.free.back());
    pool.free.pop_back();
    pool.bytes -= page.capacity();
    if (page.capacity() < bytes.size()) continue;  // a smaller page size: let it go
    page.assign(bytes.data(), bytes.size());
    return page;
  }
  return std::string(bytes);
}

void PageBuffers::Recycle(std::string&& page) {
  Pool& pool = ThreadPool();
  const size_t capacity = page.capacity();
  if (capacity < 512 || pool.bytes + capacity > kMaxBytes) return;  // freed by the caller
  pool.bytes += capacity;
  pool.free.push_back(std::move(page));
}

}  // namespace sqlift::wal
