// How a value is shown to people, defined once: in `plan`'s examples, in dead letters (copy
// and the applier) and in error messages. 42, 1.5, 'text' (quotes doubled, control bytes and
// invalid UTF-8 as \xNN, cut at 40 characters), x'00ff' for blobs (cut at 20 bytes), NULL.
//
// Thread safety: a pure function.
#pragma once

#include <string>

#include "proto/wire/sqlift.pb.h"

namespace sqlift {

std::string DescribeValue(const wire::Value& value);

}  // namespace sqlift
