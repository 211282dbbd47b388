// Value encoder: a SQLite value (wire::Value) → the text PostgreSQL's COPY (text format) takes
// for a column of a mapped type, or the reason it cannot go there. Used by the copy loader and,
// for snapshots inside replication, by the applier.
//
// Whether a value fits is decided once, by WhyValueDoesNotFit (apply/type_mapping.h); this file
// only spells values that fit the way PostgreSQL reads them:
//  - NULL → \N; boolean 0/1/'true'/'false'/'t'/'f' (any case) → t/f;
//  - timestamp/timestamptz: the instant apply/value_repr.h reads (ISO text, or a number by its
//    declared unit or magnitude) as 'YYYY-MM-DD HH:MM:SS[.ffffff]+00' (no +00 for timestamp);
//  - bytea: blob (or text) bytes → \x hex; numbers in text columns as SQLite's CAST(x AS TEXT)
//    writes them (1.0 → '1.0'), in numeric/double columns in shortest round-trip form; NaN and
//    ±Infinity as PostgreSQL spells them;
//  - then COPY escaping: backslash, tab, newline and carriage return become \\, \t, \n, \r.
// Text that holds a NUL byte or invalid UTF-8 never fits anything (PostgreSQL refuses it).
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "apply/translate/type_mapping.h"
#include "common/base/result.h"
#include "proto/wire/chunk_rows.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

// The value as PostgreSQL's text input takes it (no COPY escaping), or InvalidArgument with the
// reason. Not for NULL (there is no text for it).
[[nodiscard]] Result<std::string> PgTextOf(const wire::Value& v, const PgType& t);

// Appends the COPY text-format field for `v` (escaped, \N for NULL) to *out; on error *out is
// left unchanged and the Status says why the value does not fit.
[[nodiscard]] Status AppendCopyField(const wire::Value& v, const PgType& t, std::string* out);

// Binary COPY: whether a column of type `t` can be sent in binary (every type sqlift checks
// values for; not an override sqlift does not know), and the binary-format field for `v`
// (length, then the type's send form; length -1 for NULL), appended to *out. The value stored
// is the one the text field would store. On error *out is left unchanged. A few values the
// checks let through but PostgreSQL refuses (a float that overflows, year 0, a numeric past
// its format) are refused here, so they are dead-lettered instead of failing the whole COPY.
bool HasBinaryForm(const PgType& t);
[[nodiscard]] Status AppendBinaryField(const wire::Value& v, const PgType& t, std::string* out);

// AppendBinaryField for the values that need no more than a look, read where they lie in a
// serialized row: NULL, integers in integer columns (in range), numbers in double precision
// columns, valid text or blobs in text and bytea columns, ISO text in time columns. Appends
// exactly what AppendBinaryField appends for the wire::Value `v` stands for and returns true;
// for any other value (other kinds, other types, a value that does not fit) appends nothing
// and returns false, and the caller hands the value to AppendBinaryField.
bool AppendBinaryFieldFast(const proto::ValueRef& v, const PgType& t, std::string* out);

// Appends `text` with COPY text-format escaping.
void AppendCopyEscaped(std::string_view text, std::string* out);

// SQLite's own rendering of a real as text (CAST(x AS TEXT)): "%.15g" with ".0" added when it
// would otherwise read as an integer, "Inf"/"-Inf" for infinities.
std::string SqliteRealText(double d);

}  // namespace sqlift
