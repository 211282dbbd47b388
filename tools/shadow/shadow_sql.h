// The SQL text questions `sqlift shadow` asks of a logged query, answered with SQLite's lexical
// rules (capture/sql_lexer.h), never by parsing: the one rewrite made for PostgreSQL, whether
// the query orders its result at top level, and whether a text is one statement.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace sqlift {

// The query as PostgreSQL runs it: every SQLite blob literal x'ABcd' / X'abcd' (the form
// sqlite3_expanded_sql writes bound blobs in) becomes '\xabcd'::bytea (lowercase hex). Nothing
// else changes: strings, quoted identifiers and comments are copied as they are, even when
// they contain x'..'. A blob literal with an odd number of digits or a non-hex one is left as
// it is (SQLite refuses it too).
std::string RewriteBlobLiteralsForPg(std::string_view sqlite_sql);

// True when ORDER BY appears outside every parenthesis (the result's order is defined by the
// query, not only the order of a subquery or a window).
bool HasTopLevelOrderBy(std::string_view sql);

// True when nothing but whitespace, comments and semicolons is in `tail` (what
// sqlite3_prepare_v2 left after the first statement).
bool OnlyTrivia(std::string_view tail);

}  // namespace sqlift
