// TranslateWhere: carries a partial index's WHERE clause over when it is trivially portable.
// Anything else (functions, LIKE, which SQLite matches case-insensitively, boolean columns
// compared with 0/1, which PostgreSQL refuses) is reported instead of guessed.
#include <cctype>
#include <set>

#include "apply/translate/schema_translator_internal.h"
#include "common/pg/pg_identifier.h"

namespace sqlift::translate {
namespace {

// Reads a quoted token starting at s[i] (closing with `close`, doubled to escape).
bool Quoted(std::string_view s, size_t* i, char close, std::string* body) {
  for (size_t j = *i + 1; j < s.size(); ++j) {
    if (s[j] != close) {
      *body += s[j];
      continue;
    }
    if (j + 1 < s.size() && s[j + 1] == close) {
      *body += close, ++j;
      continue;
    }
    *i = j + 1;
    return true;
  }
  return false;
}

// A column reference in PostgreSQL form, or "" when `name` is not a portable column.
std::string Column(const TablePlan& plan, const std::string& name) {
  for (const ColumnPlan& c : plan.columns) {
    if (Lower(c.source_name) != Lower(name)) continue;
    if (c.mapping.type.kind == PgType::Kind::kBoolean) return "";
    return QuoteIdentifier(c.pg_name);
  }
  return "";
}

}  // namespace

std::optional<std::string> TranslateWhere(std::string_view s, const TablePlan& plan) {
  static const std::set<std::string> kWords = {"and", "or", "not", "is", "null"};
  static const std::set<std::string> kOps = {"=", "==", "<>", "!=", "<", "<=", ">", ">="};
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    std::string tok;
    if (std::isspace(c)) {
      ++i;
      continue;
    } else if (c == '(' || c == ')') {
      tok = std::string(1, c), ++i;
    } else if (std::isdigit(c)) {
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.'))
        tok += s[i++];
    } else if (c == '\'') {
      std::string body;
      if (!Quoted(s, &i, '\'', &body)) return std::nullopt;
      for (char ch : body)
        tok += ch == '\'' ? "''" : std::string(1, ch);
      tok = "'" + tok + "'";
    } else if (c == '"' || c == '`' || c == '[') {
      std::string body;
      if (!Quoted(s, &i, c == '[' ? ']' : static_cast<char>(c), &body)) return std::nullopt;
      tok = Column(plan, body);
      if (tok.empty()) return std::nullopt;
    } else if (std::isalpha(c) || c == '_') {
      std::string word;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_'))
        word += s[i++];
      tok = kWords.count(Lower(word)) ? Lower(word) : Column(plan, word);
      if (tok.empty()) return std::nullopt;
    } else {
      while (i < s.size() && std::string_view("=<>!").find(s[i]) != std::string_view::npos)
        tok += s[i++];
      if (!kOps.count(tok)) return std::nullopt;
      tok = tok == "==" ? "=" : tok == "!=" ? "<>" : tok;
    }
    if (!out.empty()) out += ' ';
    out += tok;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace sqlift::translate
