#include "capture/snapshot/wire_value.h"

namespace sqlift {

void SqliteValueToWire(sqlite3_value* v, wire::Value* out) {
  if (v == nullptr) return;
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      out->set_integer(sqlite3_value_int64(v));
      break;
    case SQLITE_FLOAT:
      out->set_real(sqlite3_value_double(v));
      break;
    case SQLITE_TEXT: {
      const unsigned char* p = sqlite3_value_text(v);
      out->set_text(reinterpret_cast<const char*>(p), sqlite3_value_bytes(v));
      break;
    }
    case SQLITE_BLOB: {
      const void* p = sqlite3_value_blob(v);
      int n = sqlite3_value_bytes(v);
      out->set_blob(p ? static_cast<const char*>(p) : "", n);
      break;
    }
    default:
      out->mutable_null();
      break;
  }
}

Status BindWire(SqliteStatement& stmt, int index, const wire::Value& v) {
  switch (v.kind_case()) {
    case wire::Value::kNull:
      return stmt.BindNull(index);
    case wire::Value::kInteger:
      return stmt.BindInt64(index, v.integer());
    case wire::Value::kReal:
      return stmt.BindDouble(index, v.real());
    case wire::Value::kText:
      return stmt.BindText(index, v.text());
    case wire::Value::kBlob:
      return stmt.BindBlob(index, v.blob());
    default:
      return Status::InvalidArgument("bind a value that is not present");
  }
}

}  // namespace sqlift
