// Declared type → PostgreSQL type (docs/design.md, type mapping); value checks are in
// value_check.cc.
#include "apply/translate/type_mapping.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <regex>

#include "common/base/parse.h"

namespace sqlift {
namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return out;
}

// Collapses runs of blanks to one space: "DOUBLE   PRECISION" → "DOUBLE PRECISION".
std::string Squeeze(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool blank = std::isspace(static_cast<unsigned char>(c));
    if (blank && (out.empty() || out.back() == ' ')) continue;
    out += blank ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

// Splits "NAME(p, s)" into the squeezed name and up to two integer arguments; false when the
// parentheses do not hold one or two plain numbers.
bool SplitArgs(const std::string& upper, std::string* name, std::vector<int>* args) {
  size_t open = upper.find('(');
  *name = Squeeze(upper.substr(0, open));
  if (open == std::string::npos) return true;
  size_t close = upper.find(')', open);
  if (close == std::string::npos) return false;
  std::string inside = upper.substr(open + 1, close - open - 1);
  static const std::regex kArgs(R"(\s*([0-9]{1,4})\s*(,\s*([0-9]{1,4})\s*)?)");
  std::smatch m;
  if (!std::regex_match(inside, m, kArgs)) return false;
  for (int group : {1, 3}) {
    if (!m[group].matched) continue;
    Result<int64_t> arg = ParseInt64(m[group].str(), "type argument");
    if (!arg.ok()) return false;
    args->push_back(static_cast<int>(*arg));  // at most 4 digits (kArgs)
  }
  return true;
}

PgType Numeric(const std::vector<int>& args) {
  PgType t = PgType::Of(PgType::Kind::kNumeric);
  if (args.empty() || args[0] < 1 || args[0] > 1000) return t;
  t.precision = args[0];
  t.scale = args.size() > 1 ? args[1] : 0;
  if (t.scale > t.precision) return PgType::Of(PgType::Kind::kNumeric);
  t.sql = fmt::format("numeric({},{})", t.precision, t.scale);
  return t;
}

// SQLite's affinity rules (datatype3.html, 3.1), in its order, for names not known above.
PgType ByAffinity(const std::string& upper) {
  using K = PgType::Kind;
  if (upper.find("INT") != std::string::npos) return PgType::Of(K::kBigint);
  for (const char* s : {"CHAR", "CLOB", "TEXT"}) {
    if (upper.find(s) != std::string::npos) return PgType::Of(K::kText);
  }
  if (upper.find("BLOB") != std::string::npos) return PgType::Of(K::kBytea);
  for (const char* s : {"REAL", "FLOA", "DOUB"}) {
    if (upper.find(s) != std::string::npos) return PgType::Of(K::kDouble);
  }
  return PgType::Of(K::kNumeric);
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

PgType PgType::Of(Kind kind) {
  static const std::map<Kind, const char*> kSql = {{Kind::kBigint, "bigint"},
                                                   {Kind::kInteger, "integer"},
                                                   {Kind::kSmallint, "smallint"},
                                                   {Kind::kDouble, "double precision"},
                                                   {Kind::kReal, "real"},
                                                   {Kind::kNumeric, "numeric"},
                                                   {Kind::kBoolean, "boolean"},
                                                   {Kind::kText, "text"},
                                                   {Kind::kVarchar, "varchar"},
                                                   {Kind::kTimestamptz, "timestamptz"},
                                                   {Kind::kTimestamp, "timestamp"},
                                                   {Kind::kDate, "date"},
                                                   {Kind::kBytea, "bytea"},
                                                   {Kind::kJsonb, "jsonb"},
                                                   {Kind::kJson, "json"},
                                                   {Kind::kUuid, "uuid"},
                                                   {Kind::kOther, ""}};
  PgType t;
  t.kind = kind;
  t.sql = kSql.at(kind);
  return t;
}

PgType MapDeclaredType(std::string_view declared) {
  using K = PgType::Kind;
  std::string upper = Upper(Trim(declared));
  if (upper.empty()) return PgType::Of(K::kText);  // no type: anything; see the header
  std::string name;
  std::vector<int> args;
  if (!SplitArgs(upper, &name, &args)) return ByAffinity(upper);
  if (name == "BOOLEAN" || name == "BOOL") return PgType::Of(K::kBoolean);
  if (name == "DATETIME" || name == "TIMESTAMP" || name == "TIMESTAMPTZ" ||
      name == "TIMESTAMP WITH TIME ZONE") {
    return PgType::Of(K::kTimestamptz);
  }
  if (name == "DATE") return PgType::Of(K::kDate);
  if (name == "JSON" || name == "JSONB") return PgType::Of(K::kJsonb);
  if (name == "UUID") return PgType::Of(K::kUuid);
  if (name == "DECIMAL" || name == "NUMERIC") return Numeric(args);
  return ByAffinity(upper);
}

Result<PgType> ParsePgType(std::string_view text) {
  using K = PgType::Kind;
  std::string lower = Squeeze(Trim(text));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  static const std::regex kShape(R"([a-z_][a-z0-9_ ]*(\(\s*[0-9]+\s*(,\s*[0-9]+\s*)?\))?(\[\])?)");
  if (!std::regex_match(lower, kShape)) {
    return Status::InvalidArgument(
        fmt::format("'{}' is not a PostgreSQL type name (expected e.g. numeric(12,2))", text));
  }
  std::string name;
  std::vector<int> args;
  bool array = lower.size() > 2 && lower.compare(lower.size() - 2, 2, "[]") == 0;
  if (array || !SplitArgs(lower, &name, &args)) return PgType{K::kOther, 0, 0, 0, lower};
  static const std::map<std::string, K> kNames = {{"bigint", K::kBigint},
                                                  {"int8", K::kBigint},
                                                  {"integer", K::kInteger},
                                                  {"int", K::kInteger},
                                                  {"int4", K::kInteger},
                                                  {"smallint", K::kSmallint},
                                                  {"int2", K::kSmallint},
                                                  {"double precision", K::kDouble},
                                                  {"float8", K::kDouble},
                                                  {"real", K::kReal},
                                                  {"float4", K::kReal},
                                                  {"boolean", K::kBoolean},
                                                  {"bool", K::kBoolean},
                                                  {"text", K::kText},
                                                  {"timestamptz", K::kTimestamptz},
                                                  {"timestamp with time zone", K::kTimestamptz},
                                                  {"timestamp", K::kTimestamp},
                                                  {"timestamp without time zone", K::kTimestamp},
                                                  {"date", K::kDate},
                                                  {"bytea", K::kBytea},
                                                  {"jsonb", K::kJsonb},
                                                  {"json", K::kJson},
                                                  {"uuid", K::kUuid}};
  if (name == "numeric" || name == "decimal") {
    PgType t = Numeric(args);
    if (!args.empty() && t.precision == 0) {
      return Status::InvalidArgument(
          fmt::format("'{}': precision must be 1..1000, scale 0..p", text));
    }
    return t;
  }
  if ((name == "timestamptz" || name == "timestamp") && args.size() == 1) {
    if (args[0] > 6) {
      return Status::InvalidArgument(fmt::format("'{}': precision must be 0..6", text));
    }
    PgType t = PgType::Of(name == "timestamp" ? K::kTimestamp : K::kTimestamptz);
    t.time_precision = args[0];
    t.sql = fmt::format("{}({})", name, args[0]);
    return t;
  }
  if ((name == "varchar" || name == "character varying") && args.size() == 1 && args[0] > 0) {
    PgType t = PgType::Of(K::kVarchar);
    t.length = args[0];
    t.sql = fmt::format("varchar({})", t.length);
    return t;
  }
  auto it = kNames.find(name);
  if (it != kNames.end() && args.empty()) return PgType::Of(it->second);
  return PgType{K::kOther, 0, 0, 0, lower};
}

Result<TimeUnit> ParseTimeUnit(std::string_view text) {
  for (TimeUnit u :
       {TimeUnit::kSeconds, TimeUnit::kMillis, TimeUnit::kMicros, TimeUnit::kJulianDay}) {
    if (text == TimeUnitName(u)) return u;
  }
  return Status::InvalidArgument(
      fmt::format("unit '{}' is not one of: s, ms, us, julianday", text));
}

std::string_view TimeUnitName(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kSeconds:
      return "s";
    case TimeUnit::kMillis:
      return "ms";
    case TimeUnit::kMicros:
      return "us";
    case TimeUnit::kJulianDay:
      return "julianday";
    case TimeUnit::kAuto:
      break;
  }
  return "";
}

bool IsRowidAlias(const TableSchema& table, const ColumnSchema& column) {
  if (table.without_rowid || column.pk_position != 1) return false;
  if (table.PrimaryKeyColumns().size() != 1) return false;
  return EqualsNoCase(Trim(column.declared_type), "INTEGER");
}

Result<ColumnMapping> MapColumn(const TableSchema& table, const ColumnSchema& column,
                                const TypeOverrides& overrides) {
  using K = PgType::Kind;
  ColumnMapping m;
  const bool alias = IsRowidAlias(table, column);
  const std::string key = table.name + "." + column.name;
  for (const auto& [k, v] : overrides) {
    if (!EqualsNoCase(k, key)) continue;
    m.target_column = v.column;
    if (v.type.empty()) break;  // only a target column: the type as without an entry
    SQLIFT_ASSIGN_OR_RETURN(m.type, ParsePgType(v.type));
    if (v.unit != TimeUnit::kAuto && m.type.kind != K::kTimestamptz &&
        m.type.kind != K::kTimestamp) {
      return Status::InvalidArgument(
          fmt::format("mapping for '{}': unit is for timestamp and timestamptz columns, not {}",
                      key, m.type.sql));
    }
    m.type.unit = v.unit;
    m.overridden = true;
    K kind = m.type.kind;
    m.identity = alias && (kind == K::kBigint || kind == K::kInteger || kind == K::kSmallint);
    return m;
  }
  m.type = alias ? PgType::Of(K::kBigint) : MapDeclaredType(column.declared_type);
  m.identity = alias;
  return m;
}

}  // namespace sqlift
