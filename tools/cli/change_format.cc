#include "tools/cli/change_format.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

#include "common/base/clock.h"
#include "common/base/text.h"

namespace sqlift {
namespace {

std::string Hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes)
    fmt::format_to(std::back_inserter(out), "{:02x}", c);
  return out;
}

std::string Real(double v) {
  if (std::isnan(v)) return "\"NaN\"";
  if (std::isinf(v)) return v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  return fmt::format("{}", v);  // shortest text that reads back as the same double
}

std::string JsonValue(const wire::Value& v) {
  switch (v.kind_case()) {
    case wire::Value::kInteger:
      return std::to_string(v.integer());
    case wire::Value::kReal:
      return Real(v.real());
    case wire::Value::kText:
      return IsValidUtf8(v.text()) ? JsonString(v.text())
                                   : "{\"text_hex\":\"" + Hex(v.text()) + "\"}";
    case wire::Value::kBlob:
      return "{\"blob_hex\":\"" + Hex(v.blob()) + "\"}";
    default:
      return "null";
  }
}

std::string TextValue(const wire::Value& v) {
  switch (v.kind_case()) {
    case wire::Value::kInteger:
      return std::to_string(v.integer());
    case wire::Value::kReal:
      return fmt::format("{}", v.real());
    case wire::Value::kText: {
      if (!IsValidUtf8(v.text())) return "x'" + Hex(v.text()) + "'(text)";
      std::string s = "'";
      for (char c : v.text()) {
        if (c == '\'') s += '\'';
        s += c;
      }
      return s + "'";
    }
    case wire::Value::kBlob:
      return "x'" + Hex(v.blob()) + "'";
    default:
      return "NULL";
  }
}

const char* OpName(wire::RowChange::Op op) {
  switch (op) {
    case wire::RowChange::INSERT:
      return "INSERT";
    case wire::RowChange::UPDATE:
      return "UPDATE";
    case wire::RowChange::DELETE:
      return "DELETE";
    default:
      return "UNKNOWN";
  }
}

// {"col": value, ...} / {col=value, ...} of the present values, or null when none.
std::string Columns(const wire::TableShape& shape,
                    const google::protobuf::RepeatedPtrField<wire::Value>& values, bool json) {
  if (values.empty()) return json ? "null" : "";
  std::string out = "{";
  bool first = true;
  for (int i = 0; i < values.size(); ++i) {
    if (values[i].kind_case() == wire::Value::KIND_NOT_SET) continue;
    if (!first) out += json ? "," : ", ";
    first = false;
    std::string name = i < shape.columns_size() ? shape.columns(i) : fmt::format("#{}", i);
    out += json ? JsonString(IsValidUtf8(name) ? name : Hex(name)) + ":" + JsonValue(values[i])
                : name + "=" + TextValue(values[i]);
  }
  return out + "}";
}

void FormatChange(const wire::ChangeBatch& batch, const wire::Transaction& txn,
                  const wire::RowChange& c, ChangeFormat format, std::string* out) {
  static const wire::TableShape kUnknown;
  const wire::TableShape& shape = c.table_index() < static_cast<uint32_t>(batch.tables_size())
                                      ? batch.tables(c.table_index())
                                      : kUnknown;
  bool json = format == ChangeFormat::kJsonLines;
  std::string pk;
  for (int i = 0; i < c.pk_size(); ++i) {
    pk += (i ? (json ? "," : ", ") : "") + (json ? JsonValue(c.pk(i)) : TextValue(c.pk(i)));
  }
  if (json) {
    fmt::format_to(std::back_inserter(*out),
                   "{{\"seq\":{},\"committed_at\":\"{}\",\"table\":{},\"op\":\"{}\",\"pk\":[{}],"
                   "\"old\":{},\"new\":{}}}\n",
                   txn.seq(), FormatMicrosUtc(txn.committed_at_us()), JsonString(shape.name()),
                   OpName(c.op()), pk, Columns(shape, c.old_values(), true),
                   Columns(shape, c.new_values(), true));
    return;
  }
  fmt::format_to(std::back_inserter(*out), "seq={} {} {} {} pk=({})", txn.seq(),
                 FormatMicrosUtc(txn.committed_at_us()), OpName(c.op()), shape.name(), pk);
  if (!c.old_values().empty()) *out += " old=" + Columns(shape, c.old_values(), false);
  if (!c.new_values().empty()) *out += " new=" + Columns(shape, c.new_values(), false);
  *out += '\n';
}

}  // namespace

void FormatChangeBatch(const wire::ChangeBatch& batch, ChangeFormat format, std::string* out) {
  for (const wire::Transaction& txn : batch.transactions()) {
    if (txn.kind() == wire::Transaction::DDL) {
      if (format == ChangeFormat::kJsonLines) {
        fmt::format_to(std::back_inserter(*out),
                       "{{\"seq\":{},\"committed_at\":\"{}\",\"table\":{},\"ddl\":{}}}\n",
                       txn.seq(), FormatMicrosUtc(txn.committed_at_us()),
                       JsonString(txn.ddl_table()), JsonString(txn.ddl_sql()));
      } else {
        fmt::format_to(std::back_inserter(*out), "seq={} {} DDL {}: {}\n", txn.seq(),
                       FormatMicrosUtc(txn.committed_at_us()), txn.ddl_table(),
                       txn.ddl_sql().empty() ? "(dropped)" : txn.ddl_sql());
      }
      continue;
    }
    if (txn.kind() == wire::Transaction::ROUTE) {
      const wire::Route& r = txn.route();
      const char* side = r.side() == wire::Route::POSTGRES ? "postgres" : "sqlite";
      if (format == ChangeFormat::kJsonLines) {
        fmt::format_to(std::back_inserter(*out),
                       "{{\"seq\":{},\"committed_at\":\"{}\",\"route\":{{\"tenant\":{},"
                       "\"side\":\"{}\",\"epoch\":{},\"fenced\":{}}}}}\n",
                       txn.seq(), FormatMicrosUtc(txn.committed_at_us()), JsonString(r.tenant()),
                       side, r.epoch(), r.fenced() ? "true" : "false");
      } else {
        fmt::format_to(std::back_inserter(*out), "seq={} {} ROUTE {} -> {} epoch {}{}\n", txn.seq(),
                       FormatMicrosUtc(txn.committed_at_us()), r.tenant(), side, r.epoch(),
                       r.fenced() ? " (fenced)" : "");
      }
      continue;
    }
    for (const wire::RowChange& c : txn.changes())
      FormatChange(batch, txn, c, format, out);
  }
}

}  // namespace sqlift
