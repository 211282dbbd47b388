// RowsText: every row a query returns, as text a test can compare whole: "|" between columns,
// "\n" after each row, NULL as "NULL" (use typeof() and quote() in the query to see storage
// classes). An error is returned inside the text, after the rows read before it, so that an
// assertion on the text shows it. For tests only.
//
// Thread safety: uses the connection it is given.
#pragma once

#include <string>

#include "common/sqlite/sqlite_db.h"

namespace sqlift::testing {

inline std::string RowsText(SqliteDb& db, const std::string& sql) {
  auto stmt = db.Prepare(sql);
  if (!stmt.ok()) return "error: " + stmt.status().ToString();
  std::string out;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return out + "error: " + row.status().ToString();
    if (!*row) return out;
    for (int c = 0; c < stmt->ColumnCount(); ++c) {
      if (c > 0) out += "|";
      out += stmt->IsNull(c) ? std::string("NULL") : std::string(stmt->ColumnText(c));
    }
    out += "\n";
  }
}

}  // namespace sqlift::testing
