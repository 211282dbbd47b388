// What the text and the binary COPY encoders share (value_encoder.cc,
// value_encoder_binary.cc): how a checked value is spelled. Not for other callers.
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "apply/translate/type_mapping.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift::encoding {

// A boolean value as "t" or "f" (1/true/t in any case is true).
std::string Bool(const wire::Value& v);
// A number as text (shortest round-trip for reals), text and blobs as their bytes.
std::string Numberish(const wire::Value& v);
// The text PostgreSQL's input function takes for a checked value in a column of type `t`.
std::string Spell(const wire::Value& v, const PgType& t);

}  // namespace sqlift::encoding
