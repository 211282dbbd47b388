// Canonical values for `sqlift verify`: one spelling per value of a mapped PostgreSQL type, so a
// SQLite value and the value PostgreSQL holds compare equal exactly when PostgreSQL stored what
// the SQLite value means. Both sides are normalized here, client side, from text:
//  - SQLite: the value as PgTextOf spells it (PostgreSQL's input form, apply/value_encoder.h),
//    then the same normalization as the PostgreSQL side;
//  - PostgreSQL: the column's output text, read with TimeZone UTC, DateStyle ISO, bytea_output
//    hex and extra_float_digits 3 (PgVerifySessionSql sets them).
//
// Canonical form by type (decided by the mapped PgType, so both sides agree):
//  - bigint/integer/smallint: decimal, no '+', no leading zeros;
//  - double precision: shortest round-trip text of the double; real: of the float; NaN,
//    Infinity, -Infinity;
//  - numeric: plain decimal, no exponent, no leading zeros, trailing fraction zeros trimmed
//    (12.50 in numeric(10,2) and 12.5 in SQLite are both "12.5"; "-0" is "0");
//  - boolean: "t" / "f";
//  - timestamptz: UTC "YYYY-MM-DD HH:MM:SS[.ffffff]" (fraction without trailing zeros), from
//    ISO text with or without an offset (none = UTC) or unix seconds; timestamp: the same
//    with the offset ignored, as PostgreSQL ignores it; date: "YYYY-MM-DD";
//  - bytea: "\x" + lowercase hex (a blob and text bytes alike);
//  - uuid: 32 lowercase hex digits; json/jsonb: compact JSON with object keys sorted (the last
//    of duplicate keys kept, as jsonb does), numbers as numeric above;
//  - text, varchar and types sqlift does not know: the text as is.
// NULL is its own kind, distinct from "". A SQLite value PostgreSQL would refuse (one that
// does not fit its column, see WhyValueDoesNotFit) is kUnfit with the reason: it can never
// equal a PostgreSQL value, so the row is reported, never skipped.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "apply/translate/type_mapping.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

struct CanonicalValue {
  enum class Kind : char { kNull = 0, kValue = 1, kUnfit = 2 };
  Kind kind = Kind::kNull;
  std::string text;  // the canonical text; for kUnfit, "<reason>: <value as SQLite holds it>"

  bool operator==(const CanonicalValue&) const = default;
};

// A SQLite value, as it would arrive in a column of type `t`.
CanonicalValue CanonicalFromSqlite(const wire::Value& v, const PgType& t);

// A PostgreSQL output text (not NULL) of a column of type `t`. Text it cannot read for the
// type is returned unchanged (it then differs from any canonical SQLite value, and shows).
std::string CanonicalFromPg(std::string_view text, const PgType& t);

// The canonical spelling of PostgreSQL input or output text for type `t` (both sides end here).
std::string Canonical(std::string_view text, const PgType& t);

// Numeric text ("-012.50", "1.25e2", "NaN") as a plain decimal ("-12.5", "125", "NaN");
// unchanged when it is not a number.
std::string CanonicalNumeric(std::string_view text);

// Timestamp text (ISO date, optional ' '/'T' time, fraction, Z/±hh[[:]mm] offset) as UTC
// "YYYY-MM-DD HH:MM:SS[.ffffff]"; `use_offset` false ignores the offset (timestamp without
// time zone). Unchanged when it is not a timestamp; "infinity"/"-infinity" kept.
std::string CanonicalTimestamp(std::string_view text, bool use_offset);

// JSON text as compact JSON with sorted keys; unchanged when it is not JSON.
std::string CanonicalJson(std::string_view text);

}  // namespace sqlift
