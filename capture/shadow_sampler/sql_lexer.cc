#include "capture/shadow_sampler/sql_lexer.h"

#include <strings.h>

#include <cctype>

namespace sqlift {
namespace {

bool IsWordByte(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

bool IsWordStart(unsigned char c) {
  return std::isalpha(c) || c == '_' || c >= 0x80;
}

}  // namespace

bool SqlToken::Is(std::string_view keyword) const {
  return kind == Kind::kWord && text.size() == keyword.size() &&
         strncasecmp(text.data(), keyword.data(), keyword.size()) == 0;
}

std::string SqlToken::Identifier() const {
  if (kind != Kind::kQuoted || text.size() < 2) return std::string(text);
  const char close = text[0] == '[' ? ']' : text[0];
  std::string out;
  std::string_view body = text.substr(1, text.size() - 2);
  for (size_t i = 0; i < body.size(); ++i) {
    out.push_back(body[i]);
    if (close != ']' && body[i] == close && i + 1 < body.size() && body[i + 1] == close) ++i;
  }
  return out;
}

size_t SqlLexer::Quoted(size_t i, char close) const {
  // i is at the opening quote; a doubled closing quote (not for [...]) stays inside.
  for (size_t j = i + 1; j < sql_.size(); ++j) {
    if (sql_[j] != close) continue;
    if (close != ']' && j + 1 < sql_.size() && sql_[j + 1] == close) {
      ++j;
      continue;
    }
    return j + 1;
  }
  return sql_.size();
}

bool SqlLexer::Next(SqlToken* t) {
  using K = SqlToken::Kind;
  const size_t i = pos_, n = sql_.size();
  if (i >= n) return false;
  const unsigned char c = static_cast<unsigned char>(sql_[i]);
  const char next = i + 1 < n ? sql_[i + 1] : '\0';
  size_t end = i + 1;
  K kind = K::kOther;
  if (std::isspace(c)) {
    while (end < n && std::isspace(static_cast<unsigned char>(sql_[end])))
      ++end;
    kind = K::kSpace;
  } else if (c == '-' && next == '-') {
    end = sql_.find('\n', i);
    end = end == std::string_view::npos ? n : end + 1;
    kind = K::kComment;
  } else if (c == '/' && next == '*') {
    end = sql_.find("*/", i + 2);
    end = end == std::string_view::npos ? n : end + 2;
    kind = K::kComment;
  } else if (c == '\'') {
    end = Quoted(i, '\''), kind = K::kString;
  } else if ((c == 'x' || c == 'X') && next == '\'') {
    end = Quoted(i + 1, '\''), kind = K::kBlob;
  } else if (c == '"' || c == '`') {
    end = Quoted(i, static_cast<char>(c)), kind = K::kQuoted;
  } else if (c == '[') {
    end = Quoted(i, ']'), kind = K::kQuoted;
  } else if (std::isdigit(c) || (c == '.' && std::isdigit(static_cast<unsigned char>(next)))) {
    while (end < n) {
      const unsigned char d = static_cast<unsigned char>(sql_[end]);
      const bool exponent_sign =
          (d == '+' || d == '-') && (sql_[end - 1] == 'e' || sql_[end - 1] == 'E');
      if (!(std::isalnum(d) || d == '.' || d == '_' || exponent_sign)) break;
      ++end;
    }
    kind = K::kNumber;
  } else if (IsWordStart(c)) {
    while (end < n && IsWordByte(static_cast<unsigned char>(sql_[end])))
      ++end;
    kind = K::kWord;
  }
  t->kind = kind;
  t->text = sql_.substr(i, end - i);
  pos_ = end;
  return true;
}

bool SqlLexer::NextSignificant(SqlToken* t) {
  while (Next(t)) {
    if (!t->skippable()) return true;
  }
  return false;
}

bool StartsAsQuery(std::string_view sql) {
  SqlLexer lex(sql);
  SqlToken t;
  while (lex.NextSignificant(&t)) {
    if (t.IsChar('(')) continue;
    return t.Is("SELECT") || t.Is("WITH") || t.Is("VALUES");
  }
  return false;
}

}  // namespace sqlift
