#include "tools/shadow/shadow_sql.h"

#include <cctype>

#include "capture/shadow_sampler/sql_lexer.h"

namespace sqlift {
namespace {

// The hex digits of a well-formed blob literal (x'..'), lowercased; false when it is not one.
bool BlobHex(std::string_view token, std::string* hex) {
  if (token.size() < 3 || token.back() != '\'') return false;
  std::string_view digits = token.substr(2, token.size() - 3);
  if (digits.size() % 2 != 0) return false;
  hex->clear();
  for (char c : digits) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    hex->push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return true;
}

}  // namespace

std::string RewriteBlobLiteralsForPg(std::string_view sql) {
  std::string out, hex;
  out.reserve(sql.size() + 16);
  SqlLexer lex(sql);
  for (SqlToken t; lex.Next(&t);) {
    if (t.kind == SqlToken::Kind::kBlob && BlobHex(t.text, &hex)) {
      out += "'\\x";
      out += hex;
      out += "'::bytea";
    } else {
      out += t.text;
    }
  }
  return out;
}

bool HasTopLevelOrderBy(std::string_view sql) {
  SqlLexer lex(sql);
  int depth = 0;
  bool order = false;  // the previous significant token was ORDER at depth 0
  for (SqlToken t; lex.NextSignificant(&t);) {
    if (t.IsChar('(')) ++depth;
    if (t.IsChar(')') && depth > 0) --depth;
    if (depth == 0 && order && t.Is("BY")) return true;
    order = depth == 0 && t.Is("ORDER");
  }
  return false;
}

bool OnlyTrivia(std::string_view tail) {
  SqlLexer lex(tail);
  for (SqlToken t; lex.NextSignificant(&t);) {
    if (!t.IsChar(';')) return false;
  }
  return true;
}

}  // namespace sqlift
