// WhyNotJson: a small RFC 8259 validator, so `plan` can say which text a jsonb column would
// reject without a round trip to PostgreSQL. It checks only; it builds nothing.
#include <fmt/format.h>

#include <cctype>

#include "apply/translate/type_mapping.h"

namespace sqlift {
namespace {

// Recursive descent over one document; depth is bounded so hostile input cannot overflow
// the stack (PostgreSQL has a similar limit).
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : s_(s) {}

  std::optional<std::string> Run() {
    Space();
    if (!Value(0)) return error_;
    Space();
    if (i_ == s_.size()) return std::nullopt;
    Fail("text after the JSON value");
    return error_;
  }

 private:
  bool Fail(std::string what) {
    if (error_.empty()) error_ = fmt::format("not JSON: {} at byte {}", what, i_);
    return false;
  }
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool Eat(char c) {
    Space();
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return Fail("an unknown word");
    i_ += word.size();
    return true;
  }
  bool Digits() {
    size_t start = i_;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])))
      ++i_;
    return i_ > start || Fail("a digit expected");
  }
  bool Number() {
    if (s_[i_] == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (!Digits()) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.' && !(++i_, Digits())) return false;
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      return Digits();
    }
    return true;
  }
  bool String() {
    ++i_;  // the opening quote
    while (i_ < s_.size() && s_[i_] != '"') {
      unsigned char c = s_[i_];
      if (c < 0x20) return Fail("a control character in a string");
      if (c == '\\') {
        if (++i_ >= s_.size()) break;
        char e = s_[i_];
        if (e == 'u') {
          if (s_.substr(i_ + 1, 4) == "0000") return Fail("\\u0000, which jsonb cannot hold");
          for (int k = 1; k <= 4; ++k) {
            if (i_ + k >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_ + k])))
              return Fail("a bad \\u escape");
          }
          i_ += 4;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return Fail("a bad escape");
        }
      }
      ++i_;
    }
    if (i_ >= s_.size()) return Fail("an unterminated string");
    ++i_;
    return true;
  }
  bool Members(int depth, char close, bool object) {
    if (Eat(close)) return true;
    do {
      Space();
      if (object) {
        if (i_ >= s_.size() || s_[i_] != '"') return Fail("a member name expected");
        if (!String()) return false;
        if (!Eat(':')) return Fail("':' expected");
      }
      if (!Value(depth + 1)) return false;
    } while (Eat(','));
    return Eat(close) || Fail(fmt::format("'{}' or ',' expected", close));
  }
  bool Value(int depth) {
    if (depth > 1000) return Fail("nesting deeper than 1000");
    Space();
    if (i_ >= s_.size()) return Fail("a value expected");
    char c = s_[i_];
    if (c == '{') return ++i_, Members(depth, '}', true);
    if (c == '[') return ++i_, Members(depth, ']', false);
    if (c == '"') return String();
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == 'n') return Literal("null");
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return Number();
    return Fail("a value expected");
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string error_;
};

}  // namespace

std::optional<std::string> WhyNotJson(std::string_view text) {
  return JsonChecker(text).Run();
}

}  // namespace sqlift
