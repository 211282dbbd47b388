#include "capture/wal/testing/session_oracle.h"

#include <fmt/format.h>

#include <algorithm>

namespace sqlift::wal::testing {
namespace {

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[static_cast<unsigned char>(bytes[i]) >> 4];
    out[2 * i + 1] = kDigits[static_cast<unsigned char>(bytes[i]) & 15];
  }
  return out;
}

std::string Canon(const Value& v) {
  switch (v.type) {
    case Value::Type::kNull:
      return "N";
    case Value::Type::kInteger:
      return fmt::format("I{}", v.integer);
    case Value::Type::kReal:
      return fmt::format("R{:a}", v.real);
    case Value::Type::kText:
      return "T" + Hex(v.bytes);
    case Value::Type::kBlob:
      return "B" + Hex(v.bytes);
  }
  return "?";
}

Value FromSqlite(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      return Value::Integer(sqlite3_value_int64(v));
    case SQLITE_FLOAT:
      return Value::Real(sqlite3_value_double(v));
    case SQLITE_TEXT: {
      const char* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
      return Value::Text(std::string(p, static_cast<size_t>(sqlite3_value_bytes(v))));
    }
    case SQLITE_BLOB: {
      const char* p = static_cast<const char*>(sqlite3_value_blob(v));
      return Value::Blob(p ? std::string(p, static_cast<size_t>(sqlite3_value_bytes(v))) : "");
    }
    default:
      return Value::Null();
  }
}

// Declared columns only (a rowid table's row starts with the rowid).
std::vector<Value> Columns(const TableShape& t, const Row& row) {
  return std::vector<Value>(row.begin() + (t.without_rowid ? 0 : 1), row.end());
}

std::vector<int> PkColumns(const TableShape& t) {
  if (t.without_rowid) return {t.record_columns.begin(), t.record_columns.begin() + t.pk_count};
  if (t.ipk >= 0) return {t.ipk};
  return {};
}

std::string Entry(const std::string& table, int op, const std::vector<std::optional<Value>>& olds,
                  const std::vector<std::optional<Value>>& news) {
  std::string out = fmt::format("{} {}", table,
                                op == SQLITE_INSERT   ? "INSERT"
                                : op == SQLITE_DELETE ? "DELETE"
                                                      : "UPDATE");
  for (size_t i = 0; i < olds.size(); ++i) {
    out += " [";
    out += olds[i] ? Canon(*olds[i]) : "-";
    out += " -> ";
    out += news[i] ? Canon(*news[i]) : "-";
    out += "]";
  }
  return out;
}

}  // namespace

SessionRecorder::~SessionRecorder() {
  if (session_) sqlite3session_delete(session_);
}

Status SessionRecorder::Begin() {
  if (session_) sqlite3session_delete(session_);
  session_ = nullptr;
  if (sqlite3session_create(db_.handle(), "main", &session_) != SQLITE_OK ||
      sqlite3session_attach(session_, nullptr) != SQLITE_OK) {
    return Status::Internal("sqlite3session_create/attach failed");
  }
  return Status::OK();
}

Result<std::vector<std::string>> SessionRecorder::Changes() {
  int size = 0;
  void* data = nullptr;
  if (sqlite3session_changeset(session_, &size, &data) != SQLITE_OK) {
    return Status::Internal("sqlite3session_changeset failed");
  }
  std::vector<std::string> out;
  sqlite3_changeset_iter* it = nullptr;
  if (sqlite3changeset_start(&it, size, data) != SQLITE_OK) return Status::Internal("start");
  while (sqlite3changeset_next(it) == SQLITE_ROW) {
    const char* table = nullptr;
    int ncol = 0, op = 0, indirect = 0;
    sqlite3changeset_op(it, &table, &ncol, &op, &indirect);
    std::vector<std::optional<Value>> olds(ncol), news(ncol);
    for (int i = 0; i < ncol; ++i) {
      sqlite3_value* v = nullptr;
      if (op != SQLITE_INSERT && sqlite3changeset_old(it, i, &v) == SQLITE_OK && v) {
        olds[i] = FromSqlite(v);
      }
      v = nullptr;
      if (op != SQLITE_DELETE && sqlite3changeset_new(it, i, &v) == SQLITE_OK && v) {
        news[i] = FromSqlite(v);
      }
    }
    out.push_back(Entry(table, op, olds, news));
  }
  sqlite3changeset_finalize(it);
  sqlite3_free(data);
  sqlite3session_delete(session_);
  session_ = nullptr;
  std::sort(out.begin(), out.end());
  return out;
}

Result<bool> SessionReadsDefaultsOfAddedColumns() {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWriteCreate));
  SQLIFT_RETURN_IF_ERROR(
      db->Exec("CREATE TABLE t(k INTEGER PRIMARY KEY, a); INSERT INTO t "
               "VALUES (1, 0); ALTER TABLE t ADD COLUMN b DEFAULT 7"));
  SessionRecorder session(*db);
  SQLIFT_RETURN_IF_ERROR(session.Begin());
  SQLIFT_RETURN_IF_ERROR(db->Exec("DELETE FROM t"));
  SQLIFT_ASSIGN_OR_RETURN(std::vector<std::string> changes, session.Changes());
  std::string seen = changes.empty() ? "nothing" : changes[0];
  if (seen == "t DELETE [I1 -> -] [I0 -> -] [I7 -> -]") return true;
  if (seen == "t DELETE [I1 -> -] [I0 -> -] [N -> -]") return false;
  return Status::Internal("the session probe recorded " + seen);
}

std::string RowKey(const TableShape& t, const Row& row) {
  if (!t.without_rowid) return Canon(row[0]);
  std::string key;
  for (int c : PkColumns(t))
    key += Canon(row[static_cast<size_t>(c)]) + "|";
  return key;
}

std::string ChangesetForm(const TableShape& t, const std::optional<Row>& old_row,
                          const std::optional<Row>& new_row) {
  size_t n = t.real_affinity.size();
  std::vector<std::optional<Value>> olds(n), news(n);
  std::vector<Value> o = old_row ? Columns(t, *old_row) : std::vector<Value>();
  std::vector<Value> w = new_row ? Columns(t, *new_row) : std::vector<Value>();
  std::vector<int> pk = PkColumns(t);
  for (size_t i = 0; i < n; ++i) {
    bool is_pk = std::find(pk.begin(), pk.end(), static_cast<int>(i)) != pk.end();
    if (!old_row) news[i] = w[i];
    if (!new_row) olds[i] = o[i];
    if (old_row && new_row && (is_pk || !(o[i] == w[i]))) olds[i] = o[i];
    if (old_row && new_row && !is_pk && !(o[i] == w[i])) news[i] = w[i];
  }
  int op = !old_row ? SQLITE_INSERT : !new_row ? SQLITE_DELETE : SQLITE_UPDATE;
  return Entry(t.name, op, olds, news);
}

Status ApplyToModel(const TableShape& t, const std::optional<Row>& old_row,
                    const std::optional<Row>& new_row, std::map<std::string, Row>* model) {
  if (old_row) {
    auto it = model->find(RowKey(t, *old_row));
    if (it == model->end() || !(it->second == *old_row)) {
      return Status::Internal(t.name + ": old row " + RowString(*old_row) + " not in the model");
    }
    model->erase(it);
  }
  if (new_row && !model->emplace(RowKey(t, *new_row), *new_row).second) {
    return Status::Internal(t.name + ": new row " + RowString(*new_row) + " key taken");
  }
  return Status::OK();
}

}  // namespace sqlift::wal::testing
