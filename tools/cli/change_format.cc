#include "tools/cli/change_format.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

#include "common/base/clock.h"
#include "common/base/text.h"
#include "common/json/json.h"

namespace sqlift {
namespace {

Json JsonValue(const wire::Value& v) {
  switch (v.kind_case()) {
    case wire::Value::kInteger:
      return v.integer();
    case wire::Value::kReal:
      if (std::isnan(v.real())) return "NaN";
      if (std::isinf(v.real())) return v.real() > 0 ? "Infinity" : "-Infinity";
      return v.real();
    case wire::Value::kText:
      return JsonText(v.text());
    case wire::Value::kBlob:
      return JsonBlob(v.blob());
    default:
      return nullptr;
  }
}

std::string TextValue(const wire::Value& v) {
  switch (v.kind_case()) {
    case wire::Value::kInteger:
      return std::to_string(v.integer());
    case wire::Value::kReal:
      return fmt::format("{}", v.real());
    case wire::Value::kText: {
      if (!IsValidUtf8(v.text())) return "x'" + HexBytes(v.text()) + "'(text)";
      std::string s = "'";
      for (char c : v.text()) {
        if (c == '\'') s += '\'';
        s += c;
      }
      return s + "'";
    }
    case wire::Value::kBlob:
      return "x'" + HexBytes(v.blob()) + "'";
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

std::string ColumnName(const wire::TableShape& shape, int i) {
  return i < shape.columns_size() ? shape.columns(i) : fmt::format("#{}", i);
}

// {"col": value, ...} of the present values, or null when none.
Json JsonColumns(const wire::TableShape& shape,
                 const google::protobuf::RepeatedPtrField<wire::Value>& values) {
  if (values.empty()) return nullptr;
  Json out = Json::object();
  for (int i = 0; i < values.size(); ++i) {
    if (values[i].kind_case() != wire::Value::KIND_NOT_SET)
      out[ColumnName(shape, i)] = JsonValue(values[i]);
  }
  return out;
}

// {col=value, ...} of the present values.
std::string TextColumns(const wire::TableShape& shape,
                        const google::protobuf::RepeatedPtrField<wire::Value>& values) {
  std::string out = "{";
  for (int i = 0; i < values.size(); ++i) {
    if (values[i].kind_case() == wire::Value::KIND_NOT_SET) continue;
    out += (out.size() > 1 ? ", " : "") + ColumnName(shape, i) + "=" + TextValue(values[i]);
  }
  return out + "}";
}

// The fields every JSON line starts with.
Json JsonHead(const wire::Transaction& txn) {
  return {{"seq", txn.seq()}, {"committed_at", FormatMicrosUtc(txn.committed_at_us())}};
}

void AppendLine(const Json& line, std::string* out) {
  *out += DumpJson(line);
  *out += '\n';
}

void FormatChange(const wire::ChangeBatch& batch, const wire::Transaction& txn,
                  const wire::RowChange& c, ChangeFormat format, std::string* out) {
  static const wire::TableShape kUnknown;
  const wire::TableShape& shape = c.table_index() < static_cast<uint32_t>(batch.tables_size())
                                      ? batch.tables(c.table_index())
                                      : kUnknown;
  if (format == ChangeFormat::kJsonLines) {
    Json line = JsonHead(txn);
    line["table"] = shape.name();
    line["op"] = OpName(c.op());
    if (txn.kind() == wire::Transaction::REVERSE) line["from"] = "postgres";
    line["pk"] = Json::array();
    for (const wire::Value& v : c.pk())
      line["pk"].push_back(JsonValue(v));
    line["old"] = JsonColumns(shape, c.old_values());
    line["new"] = JsonColumns(shape, c.new_values());
    return AppendLine(line, out);
  }
  std::string pk;
  for (int i = 0; i < c.pk_size(); ++i)
    pk += (i ? ", " : "") + TextValue(c.pk(i));
  fmt::format_to(std::back_inserter(*out), "seq={} {} {}{} {} pk=({})", txn.seq(),
                 FormatMicrosUtc(txn.committed_at_us()),
                 txn.kind() == wire::Transaction::REVERSE ? "REVERSE " : "", OpName(c.op()),
                 shape.name(), pk);
  if (!c.old_values().empty()) *out += " old=" + TextColumns(shape, c.old_values());
  if (!c.new_values().empty()) *out += " new=" + TextColumns(shape, c.new_values());
  *out += '\n';
}

}  // namespace

void FormatChangeBatch(const wire::ChangeBatch& batch, ChangeFormat format, std::string* out) {
  for (const wire::Transaction& txn : batch.transactions()) {
    if (txn.kind() == wire::Transaction::DDL) {
      if (format == ChangeFormat::kJsonLines) {
        Json line = JsonHead(txn);
        line["table"] = txn.ddl_table();
        line["ddl"] = txn.ddl_sql();
        AppendLine(line, out);
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
        Json line = JsonHead(txn);
        line["route"] = {
            {"tenant", r.tenant()}, {"side", side}, {"epoch", r.epoch()}, {"fenced", r.fenced()}};
        AppendLine(line, out);
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
