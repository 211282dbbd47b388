// PgResult's typed getters: the text PostgreSQL sent, parsed without exceptions.
#include <string>

#include "common/base/parse.h"
#include "common/pg/pg_connection.h"

namespace sqlift {
namespace {

std::string ColumnLabel(const PgResult& r, int col) {
  return "column " + std::string(r.column_name(col));
}

// The text of a value that must not be NULL.
Result<std::string_view> NonNull(const PgResult& r, int row, int col) {
  if (r.is_null(row, col)) return Status::Corruption(ColumnLabel(r, col) + " is NULL");
  return r.get(row, col);
}

// A parse error as kCorruption: the server sent something else than the query promised.
template <typename T>
Result<T> AsCorruption(Result<T> parsed) {
  if (parsed.ok()) return parsed;
  return Status::Corruption(parsed.status().message());
}

}  // namespace

Result<int64_t> PgResult::GetInt64(int row, int col) const {
  SQLIFT_ASSIGN_OR_RETURN(std::string_view text, NonNull(*this, row, col));
  return AsCorruption(ParseInt64(text, ColumnLabel(*this, col)));
}

Result<uint64_t> PgResult::GetUint64(int row, int col) const {
  SQLIFT_ASSIGN_OR_RETURN(std::string_view text, NonNull(*this, row, col));
  return AsCorruption(ParseUint64(text, ColumnLabel(*this, col)));
}

Result<double> PgResult::GetDouble(int row, int col) const {
  SQLIFT_ASSIGN_OR_RETURN(std::string_view text, NonNull(*this, row, col));
  return AsCorruption(ParseDouble(text, ColumnLabel(*this, col)));
}

Result<bool> PgResult::GetBool(int row, int col) const {
  SQLIFT_ASSIGN_OR_RETURN(std::string_view text, NonNull(*this, row, col));
  if (text == "t") return true;
  if (text == "f") return false;
  return Status::Corruption(ColumnLabel(*this, col) + ": '" + std::string(text) +
                            "' is not a boolean");
}

}  // namespace sqlift
