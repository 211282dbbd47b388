// Quoting of PostgreSQL identifiers: THE one place in sqlift that turns a name into SQL text.
//
// Every table, column, schema and database name that sqlift puts into SQL goes through
// QuoteIdentifier (or QuoteQualified), including names sqlift made up itself: identifiers are
// always quoted, so reserved words (`user`), upper case and any punctuation keep their meaning.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace sqlift {

// The longest identifier PostgreSQL keeps whole (NAMEDATALEN - 1); longer ones are truncated.
inline constexpr size_t kMaxPgIdentifierBytes = 63;

// "name" with every embedded double quote doubled, as PQescapeIdentifier does:
//   QuoteIdentifier("user") == "\"user\"", QuoteIdentifier("a\"b") == "\"a\"\"b\"".
// Needs no connection. A NUL byte cannot be part of a PostgreSQL identifier; it is copied, and
// PgConnection refuses SQL that contains one, so it can never truncate a statement. Names from
// outside (SQLite schemas, the command line) should pass CheckIdentifier first.
std::string QuoteIdentifier(std::string_view name);

// "schema"."name", each part quoted as above.
std::string QuoteQualified(std::string_view schema, std::string_view name);

// OK when PostgreSQL would keep `name` exactly as given: not empty, no NUL byte, valid UTF-8,
// at most kMaxPgIdentifierBytes bytes. InvalidArgument naming the problem otherwise.
[[nodiscard]] Status CheckIdentifier(std::string_view name);

}  // namespace sqlift
