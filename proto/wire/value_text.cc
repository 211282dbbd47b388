#include "proto/wire/value_text.h"

#include <fmt/format.h>

#include "common/base/text.h"

namespace sqlift {

std::string DescribeValue(const wire::Value& v) {
  if (v.has_integer()) return std::to_string(v.integer());
  if (v.has_real()) return fmt::format("{}", v.real());
  if (v.has_blob()) {
    std::string hex;
    for (size_t i = 0; i < v.blob().size() && i < 20; ++i) {
      hex += fmt::format("{:02x}", static_cast<unsigned char>(v.blob()[i]));
    }
    return fmt::format("x'{}{}'", hex, v.blob().size() > 20 ? "..." : "");
  }
  if (!v.has_text()) return "NULL";
  std::string out = "'";
  const std::string& s = v.text();
  size_t chars = 0;
  for (size_t i = 0; i < s.size() && chars < 40; ++chars) {
    size_t n = Utf8SequenceLength(s, i);
    unsigned char c = s[i];
    if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7f))) {
      out += fmt::format("\\x{:02x}", c), ++i;  // invalid UTF-8 or a control byte, shown as hex
    } else {
      out += c == '\'' ? std::string("''") : s.substr(i, n), i += n;
    }
  }
  return out + (chars >= 40 ? "...'" : "'");
}

}  // namespace sqlift
