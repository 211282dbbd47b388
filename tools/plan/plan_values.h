// What `plan` says about how stored values will be read (apply/value_repr.h): for each column
// of a time, boolean or decimal type, how many values each representation covers ("unix
// milliseconds", "ISO text with zone", "0/1", ...) and how it is read; and a warning naming
// examples, with the value each becomes, for a time or boolean column whose values are stored
// in more than one way (each is still read by its own rule; the operator should see them).
//
// Thread safety: pure functions.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "apply/translate/type_mapping.h"
#include "common/json/json.h"
#include "tools/plan/data_profiler.h"

namespace sqlift {

struct ReprCount {
  std::string name;     // "unix milliseconds"
  std::string reading;  // "milliseconds since 1970-01-01 UTC"
  int64_t count = 0;
  std::vector<std::string> examples;  // "pk=('c1') value=1764979200000 → 2025-12-06 00:00:00+00"
};

struct ColumnReprs {
  std::string table;
  std::string column;
  std::string type;  // "timestamptz(3)"
  std::string unit;  // the declared unit ("ms"), or "" when numbers are read by magnitude
  std::vector<ReprCount> reprs;
};

// The label profiling counts: the representation's name, for columns of a type that has them.
ValueLabel ReprLabel(std::function<const PgType*(const TableSchema&, size_t column)> type_of);

// The representations found in `found` (columns with labels), in the findings' order; adds a
// warning to *problems for each time or boolean column holding more than one.
std::vector<ColumnReprs> ReprReport(
    const std::vector<ColumnFindings>& found,
    const std::function<const PgType*(const std::string& table, size_t column)>& type_of,
    std::vector<Problem>* problems);

// Text lines ("-- Lead.capturedAt timestamptz: 2 unix milliseconds (...), ...") and a JSON array.
std::string ReprText(const std::vector<ColumnReprs>& columns);
Json ReprJson(const std::vector<ColumnReprs>& columns);

}  // namespace sqlift
