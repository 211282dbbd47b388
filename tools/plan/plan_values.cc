#include "tools/plan/plan_values.h"

#include <fmt/format.h>

#include "apply/translate/value_encoder.h"
#include "apply/translate/value_repr.h"
#include "proto/wire/value_text.h"

namespace sqlift {
namespace {

using K = PgType::Kind;

bool IsTime(const PgType& t) {
  return t.kind == K::kTimestamptz || t.kind == K::kTimestamp;
}

// The representations whose names `ReprOf` returns, to map a label back to its reading.
Repr ReprNamed(std::string_view name) {
  for (Repr r :
       {Repr::kIsoZoned, Repr::kIsoLocal, Repr::kUnixSeconds, Repr::kUnixMillis, Repr::kUnixMicros,
        Repr::kJulianDay, Repr::kBool01, Repr::kBoolWord, Repr::kBoolLetter, Repr::kDecimalText,
        Repr::kDecimalInteger, Repr::kDecimalReal}) {
    if (ReprName(r) == name) return r;
  }
  return Repr::kNone;
}

// "pk=('c1') value=1764979200000 → 2025-12-06 00:00:00+00": the value and what it becomes.
std::string Example(const std::string& key, const wire::Value& v, const PgType& t) {
  Result<std::string> text = PgTextOf(v, t);
  return fmt::format("{} value={} → {}", key, DescribeValue(v),
                     text.ok() ? *text : "does not fit: " + text.status().message());
}

std::string Counts(const ColumnReprs& c, bool with_reading) {
  std::vector<std::string> parts;
  for (const ReprCount& r : c.reprs) {
    parts.push_back(with_reading ? fmt::format("{} {} (read as {})", r.count, r.name, r.reading)
                                 : fmt::format("{} {}", r.count, r.name));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

Problem MixedWarning(const ColumnReprs& c, const PgType& t) {
  Problem p;
  p.severity = Problem::Severity::kWarning;
  p.table = c.table;
  p.column = c.column;
  for (const ReprCount& r : c.reprs) {
    p.count += r.count;
    for (const std::string& e : r.examples)
      if (p.examples.size() < 2 * c.reprs.size()) p.examples.push_back(r.name + ": " + e);
  }
  if (IsTime(t)) {
    p.what = fmt::format(
        "values stored in {} ways ({}); each is read by its own rule, so all load, as the "
        "instants shown",
        c.reprs.size(), Counts(c, false));
    p.fix = fmt::format(
        "check the examples show the instants the application meant; if numbers are in another "
        "unit, declare it: \"{}.{}\" = {{ type = \"{}\", unit = \"ms\" }} (s, ms, us, julianday)",
        c.table, c.column, t.sql);
  } else {
    p.what = fmt::format("values stored in {} ways ({}); all load as booleans", c.reprs.size(),
                         Counts(c, false));
    p.fix = "nothing needed; to make the column uniform, UPDATE it in SQLite";
  }
  return p;
}

}  // namespace

ValueLabel ReprLabel(std::function<const PgType*(const TableSchema&, size_t column)> type_of) {
  return [type_of = std::move(type_of)](const TableSchema& t, size_t column,
                                        const wire::Value& v) -> std::string_view {
    const PgType* type = type_of(t, column);
    if (!type) return "";
    Repr r = ReprOf(v, *type);
    return r == Repr::kNone ? std::string_view() : ReprName(r);
  };
}

std::vector<ColumnReprs> ReprReport(
    const std::vector<ColumnFindings>& found,
    const std::function<const PgType*(const std::string& table, size_t column)>& type_of,
    std::vector<Problem>* problems) {
  std::vector<ColumnReprs> out;
  for (const ColumnFindings& f : found) {
    const PgType* t = type_of(f.table, f.column_index);
    if (f.labels.empty() || !t) continue;
    ColumnReprs c{f.table, f.column, t->sql, std::string(TimeUnitName(t->unit)), {}};
    for (const LabelTally& l : f.labels) {
      ReprCount r{std::string(l.label), std::string(ReprReading(ReprNamed(l.label))), l.count, {}};
      for (size_t i = 0; i < l.values.size() && i < 2; ++i)
        r.examples.push_back(Example(l.keys[i], l.values[i], *t));
      c.reprs.push_back(std::move(r));
    }
    if (c.reprs.size() > 1 && (IsTime(*t) || t->kind == K::kBoolean)) {
      problems->push_back(MixedWarning(c, *t));
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string ReprText(const std::vector<ColumnReprs>& columns) {
  std::string out;
  for (const ColumnReprs& c : columns) {
    out += fmt::format("--   {}.{} {}{}: {}\n", c.table, c.column, c.type,
                       c.unit.empty() ? "" : " (unit " + c.unit + ", declared)", Counts(c, true));
  }
  return out.empty() ? out : "-- how stored values are read:\n" + out;
}

Json ReprJson(const std::vector<ColumnReprs>& columns) {
  Json cols = Json::array();
  for (const ColumnReprs& c : columns) {
    Json reprs = Json::array();
    for (const ReprCount& r : c.reprs) {
      reprs.push_back(
          {{"name", r.name}, {"reading", r.reading}, {"count", r.count}, {"examples", r.examples}});
    }
    cols.push_back({{"table", c.table},
                    {"column", c.column},
                    {"type", c.type},
                    {"unit", c.unit},
                    {"representations", std::move(reprs)}});
  }
  return cols;
}

}  // namespace sqlift
