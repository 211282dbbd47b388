// JSON for `sqlift verify` (apply/verify_normalize.h): jsonb prints a document its own way
// (keys reordered, duplicates dropped, spaces after ':' and ','), so both sides are parsed and
// printed back compactly with keys in byte order, the last duplicate kept (as jsonb keeps it),
// strings with escapes decoded, numbers as CanonicalNumeric spells them.
#include <fmt/format.h>

#include <map>
#include <optional>

#include "tools/verify/verify_normalize.h"

namespace sqlift {
namespace {

class JsonCanonicalizer {
 public:
  explicit JsonCanonicalizer(std::string_view s) : s_(s) {}

  std::optional<std::string> Run() {
    std::string out;
    if (!Value(0, &out)) return std::nullopt;
    Space();
    if (i_ != s_.size()) return std::nullopt;
    return out;
  }

 private:
  static constexpr int kMaxDepth = 1000;

  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool Eat(char c) {
    Space();
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }

  bool Value(int depth, std::string* out) {
    if (depth > kMaxDepth) return false;
    Space();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '{') return Object(depth, out);
    if (c == '[') return Array(depth, out);
    if (c == '"') {
      std::string text;
      if (!String(&text)) return false;
      AppendString(text, out);
      return true;
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        out->append(word);
        return true;
      }
    }
    return Number(out);
  }

  bool Object(int depth, std::string* out) {
    ++i_;
    std::map<std::string, std::string> members;  // byte order; a later duplicate replaces
    if (!Eat('}')) {
      do {
        std::string key, value;
        Space();
        if (i_ >= s_.size() || s_[i_] != '"' || !String(&key) || !Eat(':')) return false;
        if (!Value(depth + 1, &value)) return false;
        members[key] = std::move(value);
      } while (Eat(','));
      if (!Eat('}')) return false;
    }
    out->push_back('{');
    bool first = true;
    for (const auto& [key, value] : members) {
      if (!first) out->push_back(',');
      first = false;
      AppendString(key, out);
      out->push_back(':');
      out->append(value);
    }
    out->push_back('}');
    return true;
  }

  bool Array(int depth, std::string* out) {
    ++i_;
    out->push_back('[');
    if (!Eat(']')) {
      bool first = true;
      do {
        if (!first) out->push_back(',');
        first = false;
        if (!Value(depth + 1, out)) return false;
      } while (Eat(','));
      if (!Eat(']')) return false;
    }
    out->push_back(']');
    return true;
  }

  bool Number(std::string* out) {
    size_t start = i_;
    while (i_ < s_.size() && std::string_view("+-0123456789.eE").find(s_[i_]) != std::string::npos)
      ++i_;
    if (i_ == start) return false;
    std::string n = CanonicalNumeric(s_.substr(start, i_ - start));
    if (n.empty() || (n[0] != '-' && (n[0] < '0' || n[0] > '9'))) return false;
    out->append(n);
    return true;
  }

  bool Hex4(uint32_t* v) {
    if (i_ + 4 > s_.size()) return false;
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return false;
      *v = *v << 4 | static_cast<uint32_t>(d);
    }
    return true;
  }

  static void PutUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | cp >> 6));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | cp >> 12));
      out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | cp >> 18));
      out->push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // A string literal at s_[i_] (the opening quote), escapes decoded.
  bool String(std::string* text) {
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        text->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      uint32_t cp = 0, low = 0;
      switch (e) {
        case 'b':
          text->push_back('\b');
          break;
        case 'f':
          text->push_back('\f');
          break;
        case 'n':
          text->push_back('\n');
          break;
        case 'r':
          text->push_back('\r');
          break;
        case 't':
          text->push_back('\t');
          break;
        case 'u':
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            if (!Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          PutUtf8(cp, text);
          break;
        default:
          text->push_back(e);  // '"', '\\', '/'
      }
    }
    return Eat('"');
  }

  static void AppendString(std::string_view text, std::string* out) {
    out->push_back('"');
    for (char c : text) {
      if (c == '"' || c == '\\') {
        out->push_back('\\'), out->push_back(c);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        out->append(fmt::format("\\u{:04x}", static_cast<unsigned char>(c)));
      } else {
        out->push_back(c);
      }
    }
    out->push_back('"');
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::string CanonicalJson(std::string_view text) {
  std::optional<std::string> out = JsonCanonicalizer(text).Run();
  return out ? *out : std::string(text);
}

}  // namespace sqlift
