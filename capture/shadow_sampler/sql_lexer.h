// SqlLexer: SQL text split into tokens by SQLite's lexical rules, for code that looks at a
// statement's text without parsing it: the shadow sampler (is it a query, which schemas does it
// name) and `sqlift shadow` (blob literals to rewrite, a top-level ORDER BY).
//
//   SqlLexer lex(sql);
//   for (SqlToken t; lex.Next(&t);) { if (t.kind == SqlToken::Kind::kBlob) ... }
//
// Tokens cover the text exactly: concatenating every token's text gives the input back. It
// never fails: an unterminated string, quoted identifier or comment runs to the end of the
// text (SQLite then refuses the statement, which is the caller's answer). Rules, as SQLite's
// tokenizer has them: '...' strings ('' inside), x'..' / X'..' blobs (the x directly before
// the quote), "...", [...] and `...` quoted identifiers, -- comments to the end of the line,
// /* */ comments (not nested), numbers, words (letters, digits, '_', '$' and every byte
// >= 0x80), and everything else one byte at a time.
//
// Thread safety: a lexer is a value over text it does not own; the text must outlive it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sqlift {

struct SqlToken {
  enum class Kind { kSpace, kComment, kString, kBlob, kQuoted, kWord, kNumber, kOther };
  Kind kind = Kind::kOther;
  std::string_view text;

  // Whitespace and comments: what SQLite skips between tokens.
  bool skippable() const { return kind == Kind::kSpace || kind == Kind::kComment; }
  // A word equal to `keyword` without regard to ASCII case.
  bool Is(std::string_view keyword) const;
  // One punctuation byte.
  bool IsChar(char c) const { return kind == Kind::kOther && text.size() == 1 && text[0] == c; }
  // The identifier a word or quoted identifier names (quotes removed, doubled quotes undone).
  std::string Identifier() const;
};

class SqlLexer {
 public:
  explicit SqlLexer(std::string_view sql) : sql_(sql) {}
  // The next token; false at the end of the text.
  bool Next(SqlToken* token);
  // The next token that is not whitespace or a comment; false at the end.
  bool NextSignificant(SqlToken* token);

 private:
  size_t Quoted(size_t i, char close) const;  // the end of a quoted run starting at i

  std::string_view sql_;
  size_t pos_ = 0;
};

// True when the statement starts, after whitespace, comments and '(', with SELECT, WITH or
// VALUES: the statements that are queries (PRAGMA, EXPLAIN, transaction control, ATTACH and
// writes are not).
bool StartsAsQuery(std::string_view sql);

}  // namespace sqlift
