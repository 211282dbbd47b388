// Text helpers shared by the SQLite and the PostgreSQL side, defined once.
//
// QuoteSqlIdentifier is the SQL-standard quoting both SQLite and PostgreSQL use: "name" with
// every embedded double quote doubled. Each side wraps it under its own name
// (QuoteSqliteIdentifier, QuoteIdentifier) so a reader sees which dialect a name is for.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sqlift {

std::string QuoteSqlIdentifier(std::string_view name);

// Length of the well-formed UTF-8 sequence starting at text[i], or 0 when there is none
// there (overlong forms, surrogates and code points past U+10FFFF are rejected, as
// PostgreSQL rejects them).
size_t Utf8SequenceLength(std::string_view text, size_t i);

bool IsValidUtf8(std::string_view text);

// Appends code point `c` (at most U+10FFFF, not a surrogate: the caller checks) as UTF-8.
void AppendUtf8(uint32_t c, std::string* out);

}  // namespace sqlift
