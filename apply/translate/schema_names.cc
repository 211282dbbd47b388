// PostgreSQL names for SQLite names: shortening past 63 bytes and reserved words.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <iterator>

#include "apply/translate/schema_translator.h"
#include "common/base/text.h"
#include "common/pg/pg_identifier.h"

namespace sqlift {

std::string PgNameFor(std::string_view name) {
  if (name.size() <= kMaxPgIdentifierBytes) return std::string(name);
  // 32-bit FNV-1a of the whole name: stable across runs and builds (std::hash is not).
  uint32_t h = 2166136261u;
  for (unsigned char c : name)
    h = (h ^ c) * 16777619u;
  // Keep at most 54 bytes, cut at a UTF-8 character boundary, then "_" and 8 hex digits.
  size_t keep = 54;
  while (keep > 0 && (static_cast<unsigned char>(name[keep]) & 0xC0) == 0x80)
    --keep;
  return fmt::format("{}_{:08x}", name.substr(0, keep), h);
}

bool IsPgReservedWord(std::string_view name) {
  // PostgreSQL's reserved key words (Appendix C, "reserved" in the PostgreSQL column).
  static constexpr std::string_view kReserved[] = {"all",
                                                   "analyse",
                                                   "analyze",
                                                   "and",
                                                   "any",
                                                   "array",
                                                   "as",
                                                   "asc",
                                                   "asymmetric",
                                                   "authorization",
                                                   "binary",
                                                   "both",
                                                   "case",
                                                   "cast",
                                                   "check",
                                                   "collate",
                                                   "collation",
                                                   "column",
                                                   "concurrently",
                                                   "constraint",
                                                   "create",
                                                   "cross",
                                                   "current_catalog",
                                                   "current_date",
                                                   "current_role",
                                                   "current_schema",
                                                   "current_time",
                                                   "current_timestamp",
                                                   "current_user",
                                                   "default",
                                                   "deferrable",
                                                   "desc",
                                                   "distinct",
                                                   "do",
                                                   "else",
                                                   "end",
                                                   "except",
                                                   "false",
                                                   "fetch",
                                                   "for",
                                                   "foreign",
                                                   "freeze",
                                                   "from",
                                                   "full",
                                                   "grant",
                                                   "group",
                                                   "having",
                                                   "ilike",
                                                   "in",
                                                   "initially",
                                                   "inner",
                                                   "intersect",
                                                   "into",
                                                   "is",
                                                   "isnull",
                                                   "join",
                                                   "lateral",
                                                   "leading",
                                                   "left",
                                                   "like",
                                                   "limit",
                                                   "localtime",
                                                   "localtimestamp",
                                                   "natural",
                                                   "not",
                                                   "notnull",
                                                   "null",
                                                   "offset",
                                                   "on",
                                                   "only",
                                                   "or",
                                                   "order",
                                                   "outer",
                                                   "overlaps",
                                                   "placing",
                                                   "primary",
                                                   "references",
                                                   "returning",
                                                   "right",
                                                   "select",
                                                   "session_user",
                                                   "similar",
                                                   "some",
                                                   "symmetric",
                                                   "system_user",
                                                   "table",
                                                   "tablesample",
                                                   "then",
                                                   "to",
                                                   "trailing",
                                                   "true",
                                                   "union",
                                                   "unique",
                                                   "user",
                                                   "using",
                                                   "variadic",
                                                   "verbose",
                                                   "when",
                                                   "where",
                                                   "window",
                                                   "with"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return std::find(std::begin(kReserved), std::end(kReserved), lower) != std::end(kReserved);
}

}  // namespace sqlift
