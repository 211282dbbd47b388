#include "apply/reverse/reverse_writer.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>

#include "apply/reverse/pg_text_value.h"
#include "apply/translate/value_repr.h"

namespace sqlift {

namespace {

using pgchange::Datum;

std::string ShortText(const Datum& d) {
  if (d.kind == Datum::Kind::kNull) return "NULL";
  if (d.kind == Datum::Kind::kUnchanged) return "(unchanged)";
  constexpr size_t kMax = 64;
  return d.text.size() <= kMax ? d.text : d.text.substr(0, kMax) + "...";
}

const std::string& SqliteName(const ReverseTarget& t, int rel_col) {
  return t.table->columns[t.sqlite_col[rel_col]].name;
}

bool IsSqliteKey(const ReverseTarget& t, int rel_col) {
  return t.table->columns[t.sqlite_col[rel_col]].pk_position > 0;
}

// " WHERE "k1" = ?n AND "k2" = ?n+1".
std::string WhereKey(const ReverseTarget& t, int first_index) {
  std::string out = " WHERE ";
  for (size_t j = 0; j < t.key_src.size(); ++j) {
    if (j > 0) out += " AND ";
    out += fmt::format("{} = ?{}", QuoteSqliteIdentifier(SqliteName(t, t.key_src[j])),
                       first_index + static_cast<int>(j));
  }
  return out;
}

// A cache key: the operation, the table and the rel columns involved.
std::string CacheKey(char op, const ReverseTarget& t, const std::vector<int>& cols) {
  std::string key(1, op);
  key += t.table->name;
  key.push_back('\0');
  for (int c : cols)
    key += fmt::format("{},", t.sqlite_col[c]);
  return key;
}

// Whether `value` (a time written in `unit`, a unit not declared in [mapping]) is read back in
// that unit by its magnitude, as capture and verify read numbers in a time column.
bool ReadsBackIn(const Result<SqliteValue>& value, TimeUnit unit) {
  if (!value.ok()) return false;
  wire::Value w;
  if (value->kind == SqliteValue::Kind::kInteger) {
    w.set_integer(value->integer);
  } else if (value->kind == SqliteValue::Kind::kReal) {
    w.set_real(value->real);
  } else {
    return true;  // NULL
  }
  return UnitOf(w, PgType{}) == unit;
}

}  // namespace

const std::vector<Datum>& KeyTuple(const pgchange::Change& change) {
  return change.old_tuple.empty() ? change.new_tuple : change.old_tuple;
}

std::string ReverseTxnName(const pgchange::Transaction& txn) {
  return fmt::format("reverse replication: PostgreSQL transaction xid {} at LSN {}", txn.xid,
                     pgchange::FormatLsn(txn.final_lsn));
}

std::string DescribeKey(const ReverseTarget& t, const std::vector<Datum>& tuple) {
  std::string names, values;
  for (size_t j = 0; j < t.key_src.size(); ++j) {
    int col = t.key_src[j];
    if (j > 0) names += ", ", values += ", ";
    names += SqliteName(t, col);
    values += static_cast<size_t>(col) < tuple.size() ? ShortText(tuple[col]) : "?";
  }
  return fmt::format("({})=({})", names, values);
}

template <typename MakeSql>
Result<SqliteStatement*> ReverseRowWriter::Statement(const std::string& key, MakeSql sql) {
  auto it = statements_.find(key);
  if (it == statements_.end()) {
    SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, db_->Prepare(sql()));
    it = statements_.emplace(key, std::move(stmt)).first;
  }
  return &it->second;
}

Status ReverseRowWriter::BindColumn(SqliteStatement& stmt, int index, const ReverseTarget& t,
                                    const std::vector<Datum>& tuple, int col) {
  const pgchange::Column& column = t.rel->columns[col];
  TimeUnit unit = col < static_cast<int>(t.time_unit.size()) ? t.time_unit[col] : TimeUnit::kAuto;
  const bool stored = unit == TimeUnit::kAuto && col < static_cast<int>(t.stored_unit.size()) &&
                      t.stored_unit[col] != TimeUnit::kAuto;
  if (stored) unit = t.stored_unit[col];
  Result<SqliteValue> value = PgTextToSqlite(column.type_oid, tuple[col], unit);
  if (stored && !ReadsBackIn(value, unit)) {  // 'infinity', or 1971 in milliseconds: text
    value = PgTextToSqlite(column.type_oid, tuple[col], TimeUnit::kAuto);
  }
  if (!value.ok()) {
    return Status::FromCode(
        value.status().code(),
        fmt::format("table {} column {}: {}", t.pg_name, column.name, value.status().message()));
  }
  return BindSqliteValue(stmt, index, *value);
}

Status ReverseRowWriter::BindKey(SqliteStatement& stmt, int first_index, const ReverseTarget& t,
                                 const std::vector<Datum>& tuple) {
  for (size_t j = 0; j < t.key_src.size(); ++j) {
    int col = t.key_src[j];
    if (tuple[col].kind != Datum::Kind::kText) {
      return Status::InvalidArgument(
          fmt::format("table {}: key column {} has no value in the tuple the row is found by "
                      "(is it part of PostgreSQL's replica identity?)",
                      t.pg_name, t.rel->columns[col].name));
    }
    SQLIFT_RETURN_IF_ERROR(BindColumn(stmt, first_index + static_cast<int>(j), t, tuple, col));
  }
  return Status::OK();
}

Result<int64_t> ReverseRowWriter::RunAndReset(SqliteStatement& stmt) {
  Status run = stmt.Run();
  int64_t changed = sqlite3_changes64(db_->handle());
  SQLIFT_RETURN_IF_ERROR(stmt.Reset());
  SQLIFT_RETURN_IF_ERROR(run);
  return changed;
}

Status ReverseRowWriter::Insert(const ReverseTarget& t, const pgchange::Change& change) {
  std::vector<int> cols;
  for (size_t i = 0; i < t.sqlite_col.size(); ++i) {
    if (t.sqlite_col[i] >= 0) cols.push_back(static_cast<int>(i));
  }
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement * stmt, Statement(CacheKey('I', t, cols), [&] {
        std::string names, params, set, key;
        for (size_t k = 0; k < cols.size(); ++k) {
          std::string q = QuoteSqliteIdentifier(SqliteName(t, cols[k]));
          names += (k ? ", " : "") + q;
          params += fmt::format("{}?{}", k ? ", " : "", k + 1);
          if (IsSqliteKey(t, cols[k])) continue;
          set += fmt::format("{}{} = excluded.{}", set.empty() ? "" : ", ", q, q);
        }
        for (int c : t.key_src)
          key += (key.empty() ? "" : ", ") + QuoteSqliteIdentifier(SqliteName(t, c));
        return fmt::format(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO {}",
            QuoteSqliteIdentifier(t.table->name), names, params, key,
            set.empty() ? std::string("NOTHING") : fmt::format("UPDATE SET {}", set));
      }));
  for (size_t k = 0; k < cols.size(); ++k) {
    SQLIFT_RETURN_IF_ERROR(
        BindColumn(*stmt, static_cast<int>(k) + 1, t, change.new_tuple, cols[k]));
  }
  return RunAndReset(*stmt).status();
}

Result<std::vector<int>> ReverseRowWriter::SameInstants(const ReverseTarget& t,
                                                        const pgchange::Change& change,
                                                        const std::vector<int>& cols) {
  std::vector<int> times;
  for (int c : cols) {
    const uint32_t oid = t.rel->columns[c].type_oid;
    if ((oid == pgoid::kTimestamp || oid == pgoid::kTimestamptz) &&
        change.new_tuple[c].kind == Datum::Kind::kText && !IsSqliteKey(t, c))
      times.push_back(c);
  }
  std::vector<int> same;
  if (times.empty()) return same;
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement * stmt, Statement(CacheKey('T', t, times), [&] {
        std::string list;
        for (size_t k = 0; k < times.size(); ++k)
          list += (k ? ", " : "") + QuoteSqliteIdentifier(SqliteName(t, times[k]));
        return fmt::format("SELECT {} FROM {}{}", list, QuoteSqliteIdentifier(t.table->name),
                           WhereKey(t, 1));
      }));
  SQLIFT_RETURN_IF_ERROR(BindKey(*stmt, 1, t, KeyTuple(change)));
  Result<bool> row = stmt->Step();
  for (size_t k = 0; row.ok() && *row && k < times.size(); ++k) {
    const int c = times[k];
    PgType type;
    type.kind = t.rel->columns[c].type_oid == pgoid::kTimestamptz ? PgType::Kind::kTimestamptz
                                                                  : PgType::Kind::kTimestamp;
    type.unit = t.time_unit[c];
    // timestamp(3): what SQLite holds counts as the same instant when it rounds to it.
    if (t.rel->columns[c].type_mod >= 0) type.time_precision = t.rel->columns[c].type_mod;
    wire::Value held, sent;
    const int i = static_cast<int>(k);
    switch (stmt->ColumnType(i)) {
      case SQLITE_INTEGER:
        held.set_integer(stmt->ColumnInt64(i));
        break;
      case SQLITE_FLOAT:
        held.set_real(stmt->ColumnDouble(i));
        break;
      case SQLITE_TEXT:
        held.set_text(std::string(stmt->ColumnText(i)));
        break;
      default:
        continue;  // NULL or a blob: no instant to keep
    }
    sent.set_text(change.new_tuple[c].text);
    Result<int64_t> a = InstantOf(held, type), b = InstantOf(sent, type);
    if (a.ok() && b.ok() && *a == *b) same.push_back(c);
  }
  SQLIFT_RETURN_IF_ERROR(stmt->Reset());
  if (!row.ok()) return row.status();
  return same;
}

Status ReverseRowWriter::Update(const ReverseTarget& t, const pgchange::Change& change) {
  std::vector<int> cols;
  for (size_t i = 0; i < t.sqlite_col.size(); ++i) {
    if (t.sqlite_col[i] >= 0 && change.new_tuple[i].kind != Datum::Kind::kUnchanged) {
      cols.push_back(static_cast<int>(i));
    }
  }
  // pgoutput sends the whole new row: a time whose instant did not change keeps the bytes the
  // application stored (integer milliseconds, ISO text with a zone), not PostgreSQL's text.
  SQLIFT_ASSIGN_OR_RETURN(std::vector<int> same, SameInstants(t, change, cols));
  std::erase_if(cols, [&](int c) { return std::find(same.begin(), same.end(), c) != same.end(); });
  SQLIFT_ASSIGN_OR_RETURN(
      SqliteStatement * stmt, Statement(CacheKey('U', t, cols), [&] {
        std::string set;
        for (size_t k = 0; k < cols.size(); ++k) {
          set += fmt::format("{}{} = ?{}", k ? ", " : "",
                             QuoteSqliteIdentifier(SqliteName(t, cols[k])), k + 1);
        }
        if (set.empty()) {  // nothing SQLite holds changed: still find the row
          std::string q = QuoteSqliteIdentifier(SqliteName(t, t.key_src[0]));
          set = q + " = " + q;
        }
        return fmt::format("UPDATE {} SET {}{}", QuoteSqliteIdentifier(t.table->name), set,
                           WhereKey(t, static_cast<int>(cols.size()) + 1));
      }));
  for (size_t k = 0; k < cols.size(); ++k) {
    SQLIFT_RETURN_IF_ERROR(
        BindColumn(*stmt, static_cast<int>(k) + 1, t, change.new_tuple, cols[k]));
  }
  const std::vector<Datum>& key = KeyTuple(change);
  SQLIFT_RETURN_IF_ERROR(BindKey(*stmt, static_cast<int>(cols.size()) + 1, t, key));
  SQLIFT_ASSIGN_OR_RETURN(int64_t changed, RunAndReset(*stmt));
  if (changed == 0) {
    return Status::FailedPrecondition(
        fmt::format("update of {} key {}: no such row in SQLite table {} (the sides have "
                    "diverged; stopping)",
                    t.pg_name, DescribeKey(t, key), t.table->name));
  }
  return Status::OK();
}

Status ReverseRowWriter::Delete(const ReverseTarget& t, const pgchange::Change& change) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement * stmt, Statement(CacheKey('D', t, {}), [&] {
                            return fmt::format("DELETE FROM {}{}",
                                               QuoteSqliteIdentifier(t.table->name),
                                               WhereKey(t, 1));
                          }));
  SQLIFT_RETURN_IF_ERROR(BindKey(*stmt, 1, t, change.old_tuple));
  return RunAndReset(*stmt).status();  // no row: already gone, nothing to do
}

Result<std::optional<std::string>> ReverseRowWriter::ReadText(const ReverseTarget& t,
                                                              const std::vector<Datum>& tuple,
                                                              int column) {
  std::string key = CacheKey('S', t, {}) + fmt::format("{}", column);
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement * stmt, Statement(key, [&] {
                            return fmt::format("SELECT {} FROM {}{}",
                                               QuoteSqliteIdentifier(t.table->columns[column].name),
                                               QuoteSqliteIdentifier(t.table->name),
                                               WhereKey(t, 1));
                          }));
  SQLIFT_RETURN_IF_ERROR(BindKey(*stmt, 1, t, tuple));
  Result<bool> row = stmt->Step();
  std::optional<std::string> out;
  if (row.ok() && *row && !stmt->IsNull(0)) out = std::string(stmt->ColumnText(0));
  SQLIFT_RETURN_IF_ERROR(stmt->Reset());
  if (!row.ok()) return row.status();
  return out;
}

}  // namespace sqlift
