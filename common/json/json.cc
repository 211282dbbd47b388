#include "common/json/json.h"

#include <cmath>
#include <cstdint>

#include "common/base/text.h"

namespace sqlift {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr auto kReplace = Json::error_handler_t::replace;  // never reached: see DumpJson

// Whether `text` must go to hex under the rule.
bool NeedsHex(std::string_view text) {
  return text.find('\0') != std::string_view::npos || !IsValidUtf8(text);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Whether every string and key of `doc` already follows the rule (the common case: no copy).
bool FollowsRule(const Json& doc) {
  if (doc.is_string()) return !NeedsHex(doc.get_ref<const std::string&>());
  if (doc.is_array()) {
    for (const Json& e : doc)
      if (!FollowsRule(e)) return false;
  }
  if (doc.is_object()) {
    for (auto it = doc.begin(); it != doc.end(); ++it)
      if (NeedsHex(it.key()) || !FollowsRule(it.value())) return false;
  }
  return true;
}

// A copy of `doc` with the rule applied to every string and key.
Json WithRule(const Json& doc) {
  if (doc.is_string()) return JsonText(doc.get_ref<const std::string&>());
  if (doc.is_array()) {
    Json out = Json::array();
    for (const Json& e : doc)
      out.push_back(WithRule(e));
    return out;
  }
  if (doc.is_object()) {
    Json out = Json::object();
    for (auto it = doc.begin(); it != doc.end(); ++it)
      out[NeedsHex(it.key()) ? HexBytes(it.key()) : it.key()] = WithRule(it.value());
    return out;
  }
  return doc;
}

std::string Compact(const Json& doc) {
  return doc.dump(-1, ' ', false, kReplace);
}

void AppendSpaced(const Json& doc, std::string* out) {
  if (!doc.is_structured()) {
    *out += Compact(doc);
    return;
  }
  const bool object = doc.is_object();
  *out += object ? '{' : '[';
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it != doc.begin()) *out += ", ";
    if (object) *out += Compact(Json(it.key())) + ": ";
    AppendSpaced(it.value(), out);
  }
  *out += object ? '}' : ']';
}

}  // namespace

Json JsonText(std::string_view bytes) {
  if (NeedsHex(bytes)) return Json{{"text_hex", HexBytes(bytes)}};
  return Json(std::string(bytes));
}

Result<std::string> TextFromJson(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.size() == 1 && value.contains("text_hex") &&
      value["text_hex"].is_string()) {
    return BytesFromHex(value["text_hex"].get_ref<const std::string&>());
  }
  return Status::InvalidArgument("neither a string nor {\"text_hex\": ..}");
}

Json JsonBlob(std::string_view bytes) {
  return Json{{"blob_hex", HexBytes(bytes)}};
}

std::string HexBytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 15]);
  }
  return out;
}

Result<std::string> BytesFromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument("hex with an odd number of digits");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("hex holding a non-hex digit");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

Json JsonRounded(double v, int decimals) {
  if (!std::isfinite(v)) return nullptr;
  if (decimals <= 0 && std::fabs(v) < 9e18) return static_cast<int64_t>(std::llround(v));
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

std::string DumpJson(const Json& doc, bool pretty) {
  // After WithRule every string is valid UTF-8, so the replace handler only keeps dump() from
  // ever throwing.
  const int indent = pretty ? 2 : -1;
  if (FollowsRule(doc)) return doc.dump(indent, ' ', false, kReplace);
  return WithRule(doc).dump(indent, ' ', false, kReplace);
}

std::string DumpJsonSpaced(const Json& doc) {
  std::string out;
  AppendSpaced(FollowsRule(doc) ? doc : WithRule(doc), &out);
  return out;
}

Result<std::string> DumpJsonExact(const Json& doc) {
  try {
    return doc.dump();
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(e.what());
  }
}

Result<Json> ParseJson(std::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(e.what());
  }
}

}  // namespace sqlift
