// MatchExistingSchema (see existing_schema.h).
#include "apply/translate/existing_schema.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>

#include "common/pg/pg_identifier.h"

namespace sqlift {

namespace {

using K = PgType::Kind;

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The element of `items` named `name`: the exact spelling first, else the one equal ignoring
// case. *ambiguous when several differ only by case and none is exact.
template <typename T>
const T* FindByName(const std::vector<T>& items, std::string_view name, bool* ambiguous) {
  const T* found = nullptr;
  int folded = 0;
  for (const T& item : items) {
    if (item.name == name) return &item;
    if (SameName(item.name, name)) {
      found = &item;
      ++folded;
    }
  }
  *ambiguous = folded > 1;
  return folded == 1 ? found : nullptr;
}

// A string literal (standard_conforming_strings, on by default since PostgreSQL 9.1).
std::string Literal(std::string_view s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool IsInteger(K k) {
  return k == K::kBigint || k == K::kInteger || k == K::kSmallint;
}
bool IsTime(K k) {
  return k == K::kTimestamptz || k == K::kTimestamp;
}

int IntegerBytes(K k) {
  return k == K::kBigint ? 8 : k == K::kInteger ? 4 : 2;
}

std::string IntoInteger(const PgType& from, const PgType& to, bool* may_fail) {
  *may_fail = true;
  if (IsInteger(from.kind)) {
    if (IntegerBytes(to.kind) >= IntegerBytes(from.kind)) return *may_fail = false, "";
    return fmt::format("integers outside {}'s range are refused", to.sql);
  }
  return fmt::format("values must be whole numbers within {}'s range", to.sql);
}

std::string IntoTime(const PgType& from, const PgType& to, bool* may_fail) {
  if (!IsTime(from.kind)) {
    *may_fail = true;
    return "values must be ISO text or unix s/ms/us numbers (docs/values.md)";
  }
  std::vector<std::string> what;
  if (from.kind == K::kTimestamptz && to.kind == K::kTimestamp) {
    what.push_back(
        "zoned text keeps its local time and loses its offset, as PostgreSQL's timestamp does "
        "(an ORM reading timestamp as UTC sees such values move by their offset)");
  }
  if (to.time_precision < from.time_precision) {
    what.push_back(fmt::format("fractions beyond {} digits are rounded", to.time_precision));
  }
  return fmt::format("{}", fmt::join(what, "; "));
}

std::string IntoNumber(const PgType& from, const PgType& to, bool* may_fail) {
  if (from.kind == K::kText || from.kind == K::kBytea || from.kind == K::kOther) {
    *may_fail = true;
    return "text must be a number";
  }
  if (to.kind == K::kNumeric && to.precision > 0) {
    *may_fail = true;
    return fmt::format("values beyond {} are refused", to.sql);
  }
  if (to.kind != K::kNumeric && (IsInteger(from.kind) || from.kind == K::kNumeric)) {
    *may_fail = true;
    return fmt::format("values {} cannot hold exactly are refused", to.sql);
  }
  return to.kind == K::kReal ? (*may_fail = true, "values real cannot hold exactly are refused")
                             : "";
}

}  // namespace

std::string DescribeConversion(const PgType& from, const PgType& to, bool* may_fail) {
  *may_fail = false;
  if (from.kind == to.kind && from.sql == to.sql) return "";
  switch (to.kind) {
    case K::kText:
      return from.kind == K::kText ? "" : "stored as its text form";
    case K::kBigint:
    case K::kInteger:
    case K::kSmallint:
      return IntoInteger(from, to, may_fail);
    case K::kDouble:
    case K::kReal:
    case K::kNumeric:
      return IntoNumber(from, to, may_fail);
    case K::kTimestamptz:
    case K::kTimestamp:
      return IntoTime(from, to, may_fail);
    case K::kVarchar:
      *may_fail = true;
      return fmt::format("text longer than {} characters is refused", to.length);
    case K::kBoolean:
      *may_fail = true;
      return "values must be 0/1, true/false or t/f";
    case K::kUuid:
      *may_fail = true;
      return "text must be a UUID";
    case K::kDate:
      *may_fail = true;
      return "values must be dates (YYYY-MM-DD)";
    case K::kJson:
    case K::kJsonb:
      *may_fail = from.kind != K::kJson && from.kind != K::kJsonb;
      return *may_fail ? "text must be JSON" : "";
    case K::kBytea:
      return from.kind == K::kBytea ? "" : "text is stored as its UTF-8 bytes";
    case K::kOther:
      break;
  }
  *may_fail = true;
  return fmt::format(
      "{} is not checked by sqlift: PostgreSQL converts the text form, and a "
      "value it refuses stops the load",
      to.sql);
}

namespace {

// Everything one match needs; lives for one MatchExistingSchema call.
struct Matcher {
  const std::vector<TargetTable>& target;
  const std::vector<TargetConstant>& constants;
  const std::string& schema;
  SchemaPlan* plan;
  ExistingMatch out;
  std::vector<bool> constant_used;

  void Block(const std::string& table, const std::string& column, std::string what,
             std::string fix) {
    plan->problems.push_back(
        {Problem::Severity::kBlocker, table, column, std::move(what), std::move(fix), 0, {}});
  }
  void Warn(const std::string& table, const std::string& column, std::string what,
            std::string fix) {
    plan->problems.push_back(
        {Problem::Severity::kWarning, table, column, std::move(what), std::move(fix), 0, {}});
  }

  PgType TypeOf(const TargetColumn& c) {
    Result<PgType> t = ParsePgType(c.type);
    return t.ok() ? *t : PgType{K::kOther, 0, 0, 0, c.type};
  }

  // Matches one column of `tp` to `tt`; false when it has no target column.
  bool MatchColumn(const TablePlan& tp, const TargetTable& tt, ColumnPlan& c,
                   std::vector<bool>& filled) {
    bool ambiguous = false;
    const std::string& name =
        c.mapping.target_column.empty() ? c.source_name : c.mapping.target_column;
    const TargetColumn* tc = FindByName(tt.columns, name, &ambiguous);
    if (!tc) {
      Block(tp.source_name, c.source_name,
            ambiguous ? fmt::format("several columns of {} match it ignoring case", tt.name)
            : c.mapping.target_column.empty()
                ? fmt::format("{} has no column of this name", tt.name)
                : fmt::format("{} has no column {} (the [mapping] entry's column)", tt.name, name),
            "add the column to the target schema (or rename it there), or leave the table "
            "out with [source] exclude_tables");
      return false;
    }
    filled[static_cast<size_t>(tc - tt.columns.data())] = true;
    if (tc->generated || tc->identity_always) {
      Block(tp.source_name, c.source_name,
            fmt::format("{}.{} is GENERATED ALWAYS: PostgreSQL refuses values for it", tt.name,
                        tc->name),
            "make it GENERATED BY DEFAULT (identity) or a plain column in the target schema");
    }
    PgType to = TypeOf(*tc);
    to.unit = c.mapping.type.unit;  // a declared [mapping] unit still says how numbers read
    ColumnMatch m{tp.source_name,     c.source_name, tt.name, tc->name,
                  c.mapping.type.sql, to.sql,        "",      false};
    m.conversion = DescribeConversion(c.mapping.type, to, &m.may_fail);
    if (m.may_fail || (IsTime(to.kind) && !m.conversion.empty())) {
      Warn(tp.source_name, c.source_name, fmt::format("{} → {}: {}", m.from, m.to, m.conversion),
           m.may_fail ? "values that do not convert are counted below as blockers; copy "
                        "dead-letters them with the reason"
                      : "verify compares with what PostgreSQL keeps");
    }
    if (tc->has_sequence) AddSetval(tt, *tc);
    out.columns.push_back(std::move(m));
    c.pg_name = tc->name;
    c.mapping.type = to;
    c.mapping.identity = false;
    c.ddl.clear();
    return true;
  }

  // Identity and serial columns loaded with the source's keys: their sequences move past
  // them, as the created schema's do (schema_after_data.cc), so new rows do not collide.
  void AddSetval(const TargetTable& tt, const TargetColumn& tc) {
    const std::string table_sql = QuoteQualified(schema, tt.name);
    plan->after_data.push_back(
        fmt::format("SELECT setval(s, GREATEST(COALESCE((SELECT max({}) FROM {}), 0) + 1, "
                    "COALESCE(pg_sequence_last_value(s::regclass) + 1, 1)), false) FROM "
                    "(SELECT pg_get_serial_sequence({}, {}) AS s) seq",
                    QuoteIdentifier(tc.name), table_sql, Literal(table_sql), Literal(tc.name)));
  }

  // The constant for column `name` of table `tp`: one naming the table beats one for all.
  const TargetConstant* ConstantFor(const TablePlan& tp, const TargetTable& tt,
                                    const std::string& name) {
    const TargetConstant* best = nullptr;
    for (size_t i = 0; i < constants.size(); ++i) {
      const TargetConstant& k = constants[i];
      if (!SameName(k.column, name)) continue;
      bool named = SameName(k.table, tp.source_name) || SameName(k.table, tt.name);
      if (!named && !k.table.empty()) continue;
      if (!best || named) best = &k;
    }
    if (best) constant_used[static_cast<size_t>(best - constants.data())] = true;
    return best;
  }

  void AddConstant(TablePlan& tp, const TargetColumn& tc, const TargetConstant& k) {
    PgType type = TypeOf(tc);
    wire::Value v;
    v.set_text(k.value);
    if (std::optional<std::string> why = WhyValueDoesNotFit(v, type)) {
      Block(tp.source_name, tc.name,
            fmt::format("the constant '{}' does not fit {}: {}", k.value, type.sql, *why),
            "correct [target.constants]");
    }
    ColumnPlan c{"", tc.name, ColumnMapping{type, false, true, ""}, "", k.value};
    tp.columns.push_back(std::move(c));
  }

  // Target columns no source column fills: a constant, PostgreSQL's default, or a blocker.
  void FillRest(TablePlan& tp, const TargetTable& tt, const std::vector<bool>& filled) {
    for (size_t i = 0; i < tt.columns.size(); ++i) {
      const TargetColumn& tc = tt.columns[i];
      const TargetConstant* k = ConstantFor(tp, tt, tc.name);
      if (filled[i]) {
        if (k)
          Block(tp.source_name, tc.name, "both a source column and a constant fill it",
                "drop the constant from [target.constants]");
        continue;
      }
      if (k) {
        AddConstant(tp, tc, *k);
        continue;
      }
      if (tc.not_null && !tc.has_default && !tc.identity && !tc.generated) {
        Block(tp.source_name, tc.name,
              fmt::format("{}.{} is NOT NULL without a default and no source column fills it",
                          tt.name, tc.name),
              "declare its value in [target.constants], give it a DEFAULT, or make it nullable");
        continue;
      }
      const char* how = tc.generated     ? "generated"
                        : tc.identity    ? "identity"
                        : tc.has_default ? "DEFAULT"
                                         : "NULL";
      out.target_only.push_back(fmt::format("{}.{}: {} {}", tt.name, tc.name, tc.type, how));
    }
  }

  // The source's primary key as target column names, in key order; empty when a column did
  // not match (already a blocker).
  static std::vector<std::string> TargetKey(const TablePlan& tp, const TargetTable& tt) {
    std::vector<std::string> key;
    for (const std::string& name : tp.primary_key) {
      for (const ColumnPlan& c : tp.columns) {
        if (c.constant || c.source_name != name) continue;
        for (const TargetColumn& tc : tt.columns)
          if (tc.name == c.pg_name) key.push_back(c.pg_name);
      }
    }
    return key.size() == tp.primary_key.size() ? key : std::vector<std::string>{};
  }

  // The applier upserts with ON CONFLICT on the key: the target needs a unique key on exactly
  // those columns, or on the constant columns plus them (one tenant's rows among others').
  void CheckKey(TablePlan& tp, const TargetTable& tt) {
    std::vector<std::string> key = TargetKey(tp, tt);
    if (key.empty()) return;
    std::vector<std::string> with = key;
    for (const ColumnPlan& c : tp.columns)
      if (c.constant) with.push_back(c.pg_name);
    std::vector<std::vector<std::string>> keys = tt.unique_keys;
    if (!tt.primary_key.empty()) keys.push_back(tt.primary_key);
    for (const std::vector<std::string>& u : keys) {
      if (SameSet(u, key)) return;
      if (with.size() > key.size() && SameSet(u, with)) {
        tp.constants_in_key = true;
        return;
      }
    }
    Block(
        tp.source_name, "",
        fmt::format("{} has no primary key, unique constraint or unique index on ({}){}: the "
                    "applier upserts each row with ON CONFLICT on it",
                    tt.name, fmt::join(key, ", "),
                    with.size() > key.size() ? fmt::format(" or ({})", fmt::join(with, ", ")) : ""),
        fmt::format("add one to the target schema (CREATE UNIQUE INDEX ON {} ({}))",
                    QuoteQualified(schema, tt.name), QuotedList(key)));
  }

  static bool SameSet(std::vector<std::string> a, std::vector<std::string> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
  }

  static std::string QuotedList(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names)
      out += (out.empty() ? "" : ", ") + QuoteIdentifier(n);
    return out;
  }

  void MatchTable(TablePlan& tp) {
    bool ambiguous = false;
    const TargetTable* tt = FindByName(target, tp.source_name, &ambiguous);
    if (!tt) {
      Block(tp.source_name, "",
            ambiguous ? "several target tables match it ignoring case"
                      : fmt::format("schema {} has no table of this name", schema),
            "deploy the application's schema first, or leave the table out with [source] "
            "exclude_tables");
      return;
    }
    tp.pg_name = tt->name;
    if (!tt->triggers.empty()) {
      Warn(tp.source_name, "",
           fmt::format("{} has row triggers on INSERT ({}): they fire for every row loaded, and "
                       "one that changes NEW alters the loaded values",
                       tt->name, fmt::join(tt->triggers, ", ")),
           "check what they do; verify reports any value they changed");
    }
    std::vector<bool> filled(tt->columns.size(), false);
    for (ColumnPlan& c : tp.columns)
      MatchColumn(tp, *tt, c, filled);
    FillRest(tp, *tt, filled);
    CheckKey(tp, *tt);
  }
};

}  // namespace

Result<ExistingMatch> MatchExistingSchema(const std::vector<TargetTable>& target,
                                          const std::vector<TargetConstant>& constants,
                                          const std::string& schema, SchemaPlan* plan) {
  Matcher m{target, constants, schema, plan, {}, std::vector<bool>(constants.size(), false)};
  plan->ddl.clear();  // nothing is created, altered or dropped
  plan->after_data.clear();
  for (TablePlan& tp : plan->tables)
    m.MatchTable(tp);
  for (size_t i = 0; i < constants.size(); ++i) {
    if (m.constant_used[i]) continue;
    m.Block(constants[i].table, constants[i].column, "no target table has this column",
            "correct [target.constants]");
  }
  return std::move(m.out);
}

}  // namespace sqlift
