// Formats log records for people and scripts (`sqlift log dump`): one line per row change or
// DDL event, as JSON Lines or as text.
//
// JSON values: NULL -> null; integers and reals -> numbers (non-finite reals -> "NaN",
// "Infinity", "-Infinity"); text and blobs by common/json's rule (text -> a string when it is
// valid UTF-8 without NUL, else {"text_hex": ".."}; blobs -> {"blob_hex": ".."}). UPDATE lines
// carry in "old" and "new" only the columns the changeset holds (the key and the changed
// columns).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/base/text.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

enum class ChangeFormat { kJsonLines, kText };

// Appends one line (ending in '\n') per change and DDL event of `batch` to *out.
void FormatChangeBatch(const wire::ChangeBatch& batch, ChangeFormat format, std::string* out);

}  // namespace sqlift
