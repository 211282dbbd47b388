// Numbers from text without exceptions (std::from_chars): the whole text must be the number,
// with no sign for unsigned, no spaces and no trailing characters; a value out of range is an
// error, never a silent wrap. Errors are kInvalidArgument and name `what` and the text:
// "port: 'x12' is not an integer".
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/base/result.h"

namespace sqlift {

[[nodiscard]] Result<int64_t> ParseInt64(std::string_view text, std::string_view what);
[[nodiscard]] Result<uint64_t> ParseUint64(std::string_view text, std::string_view what);
// Decimal or exponent notation, "inf"/"nan" as from_chars reads them.
[[nodiscard]] Result<double> ParseDouble(std::string_view text, std::string_view what);

}  // namespace sqlift
