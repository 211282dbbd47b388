#include "state/keys.h"

#include <fmt/format.h>

namespace sqlift::state {

void PutFixed64BE(std::string* out, uint64_t value) {
  char buf[kSeqKeyBytes];
  for (size_t i = 0; i < kSeqKeyBytes; ++i) {
    buf[i] = static_cast<char>((value >> (8 * (kSeqKeyBytes - 1 - i))) & 0xff);
  }
  out->append(buf, kSeqKeyBytes);
}

Result<uint64_t> GetFixed64BE(std::string_view bytes) {
  if (bytes.size() != kSeqKeyBytes) {
    return Status::Corruption(
        fmt::format("fixed64 of {} bytes, expected {}", bytes.size(), kSeqKeyBytes));
  }
  uint64_t v = 0;
  for (char c : bytes)
    v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

}  // namespace sqlift::state
