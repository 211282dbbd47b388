// ValueRepr: the one reading of a stored SQLite value whose meaning depends on how it was
// stored: times (ISO text with or without a zone, unix seconds, milliseconds, microseconds,
// Julian days), booleans (0/1, true/false, t/f) and decimals (text, integer, real). Everything
// that turns a SQLite value into a PostgreSQL value reads it here: the fit check
// (WhyValueDoesNotFit), the text form (PgTextOf: text COPY, streamed changes, verify), the
// binary COPY form and `plan`'s report of the representations each column holds. So the four
// cannot disagree about what a value means.
//
// Time columns (timestamp, timestamptz; docs/values.md says why):
//  - a number is read in the column's declared unit ([mapping] unit) when there is one;
//    otherwise by its magnitude: |v| < 1e11 seconds (up to year 5138), < 1e14 milliseconds
//    (1973 to 5138), < 1e17 microseconds (1973 to 5138); larger does not fit. Integers and
//    reals alike (a real keeps its fraction);
//  - text is ISO 8601: YYYY-MM-DD, optionally ' ' or 'T' and HH:MM[:SS[.f...]], optionally
//    (after optional spaces) Z or ±hh[[:]mm]. No zone means UTC; timestamp ignores a zone as
//    PostgreSQL does;
//  - the instant, in UTC, must lie in years 1..9999; otherwise the value does not fit (it is
//    dead-lettered with the reason, never loaded as another instant);
//  - the instant is rounded to the type's precision (timestamptz(3)) as PostgreSQL rounds it.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "apply/translate/type_mapping.h"
#include "common/base/result.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

// How a value is stored, for the types whose values have more than one representation.
enum class Repr : char {
  kNone,  // NULL, a type without representations, or a value that is none of these
  kIsoZoned,
  kIsoLocal,
  kUnixSeconds,
  kUnixMillis,
  kUnixMicros,
  kJulianDay,
  kBool01,
  kBoolWord,
  kBoolLetter,
  kDecimalText,
  kDecimalInteger,
  kDecimalReal,
};

// The representation of `v` in a column of type `t` (it may still not fit: a time too far out).
Repr ReprOf(const wire::Value& v, const PgType& t);

// "ISO text with zone", "unix milliseconds", "0/1", ...
std::string_view ReprName(Repr r);

// How values of representation `r` are read: "integer ms since 1970-01-01 UTC", ...
std::string_view ReprReading(Repr r);

// The unit a number (integer or real) in a time column of type `t` is read in: the declared
// one, or the one its magnitude gives; kAuto when it is too large for any.
TimeUnit UnitOf(const wire::Value& v, const PgType& t);

// The instant a SQLite value means in a timestamp/timestamptz column, as microseconds since
// 1970-01-01 00:00 UTC, rounded to the type's precision; InvalidArgument with the reason when
// it does not fit. Not for NULL.
[[nodiscard]] Result<int64_t> InstantOf(const wire::Value& v, const PgType& t);
// InstantOf of a text value, from its bytes.
[[nodiscard]] Result<int64_t> InstantOfText(std::string_view text, const PgType& t);

// "YYYY-MM-DD HH:MM:SS[.ffffff]", UTC, with "+00" when `zone`: PostgreSQL's input form.
std::string InstantText(int64_t micros, bool zone);

// Days from 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d);
void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d);

}  // namespace sqlift
