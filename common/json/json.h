// The one JSON writer and reader of sqlift: every --json output, HTTP body, JSON-lines log
// and JSON parameter goes through here. Json is nlohmann::ordered_json, so an object's fields
// print in the order they were set.
//
// The rule for text that may not be valid UTF-8 (table names, values, messages, paths), the
// same in every document: text that is valid UTF-8 and holds no NUL byte is a JSON string;
// any other text is {"text_hex": "<every byte as two lowercase hex digits>"}, so its bytes
// round-trip exactly. NUL goes to hex too: PostgreSQL's jsonb (where verify reports are kept)
// refuses \u0000. Blobs are {"blob_hex": ".."} (JsonBlob). DumpJson applies the rule to every
// string of the document, so callers set text as it is; an object key that is not valid UTF-8
// (a key cannot be an object) is written as the hex of its bytes.
//
// Nothing here throws: nlohmann's exceptions are caught inside and come back as Status.
// Thread safety: pure functions; a Json value is not synchronized.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/result.h"

namespace sqlift {

using Json = nlohmann::ordered_json;

// The rule above, for one text; and its inverse (a string, or a {"text_hex"} object).
Json JsonText(std::string_view bytes);
[[nodiscard]] Result<std::string> TextFromJson(const Json& value);
Json JsonBlob(std::string_view bytes);  // {"blob_hex": ".."}

std::string HexBytes(std::string_view bytes);  // two lowercase hex digits per byte
[[nodiscard]] Result<std::string> BytesFromHex(std::string_view hex);

// The value, or null when there is none.
template <typename T>
Json JsonOrNull(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

// `v` rounded to `decimals` places, for a figure shown at a fixed precision: an integer when
// decimals is 0; null when v is not finite.
Json JsonRounded(double v, int decimals);

// One line with no spaces ({"a":1,"b":[2]}), or with pretty=true indented by two spaces.
std::string DumpJson(const Json& doc, bool pretty = false);
// One line with ", " and ": " between items ({"a": 1, "b": [2]}): the bench reports' layout.
std::string DumpJsonSpaced(const Json& doc);
// For a document another program takes as data (a jsonb query parameter): strings written as
// they are, and InvalidArgument, not an altered byte, when one is not valid UTF-8.
[[nodiscard]] Result<std::string> DumpJsonExact(const Json& doc);

// One whole document (surrounding white space allowed); InvalidArgument when it is not JSON.
[[nodiscard]] Result<Json> ParseJson(std::string_view text);

}  // namespace sqlift
