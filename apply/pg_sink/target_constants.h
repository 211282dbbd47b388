// An existing target's constant columns ([target.constants]; apply/translate/existing_schema.h)
// as the loaders need them: which rows of a shared table are this source's, and the constant
// values after the SQLite ones in each row. One place for `sqlift copy` and the applier's
// snapshot, so both load and scope the same way.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apply/translate/schema_translator.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift {

// The first constant column of `t`: its rows are this source's, and other sources' rows may
// share the table (database per tenant). Null without one.
const ColumnPlan* SourceConstant(const TablePlan& t);

// " WHERE "col" = $1::type": this source's rows of `t` (the constant as $1); "" for all rows.
std::string SourceRowsWhere(const TablePlan& t);
// The parameters SourceRowsWhere's condition takes.
std::vector<std::optional<std::string>> SourceRowsParams(const TablePlan& t);

// Appends the values of `t`'s constant columns, which come after the SQLite ones, to each row.
void AppendConstants(const TablePlan& t, std::vector<wire::Row>* rows);

// How many of `t`'s columns are constants.
size_t ConstantCount(const TablePlan& t);

}  // namespace sqlift
