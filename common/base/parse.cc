#include "common/base/parse.h"

#include <charconv>
#include <string>
#include <system_error>

namespace sqlift {
namespace {

template <typename T>
Result<T> ParseWhole(std::string_view text, std::string_view what, std::string_view kind) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc() && ptr == end && !text.empty()) return value;
  std::string message = std::string(what) + ": '" + std::string(text) + "' is ";
  message += ec == std::errc::result_out_of_range ? "out of range for " : "not ";
  message += kind;
  return Status::InvalidArgument(message);
}

}  // namespace

Result<int64_t> ParseInt64(std::string_view text, std::string_view what) {
  return ParseWhole<int64_t>(text, what, "a 64-bit integer");
}

Result<uint64_t> ParseUint64(std::string_view text, std::string_view what) {
  return ParseWhole<uint64_t>(text, what, "an unsigned 64-bit integer");
}

Result<double> ParseDouble(std::string_view text, std::string_view what) {
  return ParseWhole<double>(text, what, "a number");
}

}  // namespace sqlift
