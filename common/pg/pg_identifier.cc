#include "common/pg/pg_identifier.h"

#include "common/base/text.h"

namespace sqlift {

std::string QuoteIdentifier(std::string_view name) {
  return QuoteSqlIdentifier(name);
}

std::string QuoteQualified(std::string_view schema, std::string_view name) {
  return QuoteIdentifier(schema) + "." + QuoteIdentifier(name);
}

Status CheckIdentifier(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("empty identifier");
  if (name.size() > kMaxPgIdentifierBytes) {
    return Status::InvalidArgument("identifier " + QuoteIdentifier(name) + " is " +
                                   std::to_string(name.size()) + " bytes; PostgreSQL keeps " +
                                   std::to_string(kMaxPgIdentifierBytes));
  }
  for (size_t i = 0; i < name.size();) {
    if (name[i] == '\0') return Status::InvalidArgument("identifier contains a NUL byte");
    size_t len = Utf8SequenceLength(name, i);
    if (len == 0) {
      return Status::InvalidArgument("identifier is not valid UTF-8 at byte " + std::to_string(i));
    }
    i += len;
  }
  return Status::OK();
}

}  // namespace sqlift
