#include "capture/agent/wal_encode.h"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "capture/agent/schema_tracker.h"
#include "capture/outbox/guard_triggers.h"
#include "capture/outbox/outbox.h"

namespace sqlift {
namespace {

using Row = std::vector<wal::Value>;
using OptRow = std::vector<std::optional<wal::Value>>;  // unset: not in the older layout

bool Captured(const std::string& table, const std::set<std::string>& excluded) {
  return !IsSqliftTable(table) && table.rfind("sqlite_", 0) != 0 && !excluded.count(table);
}

void ToWire(const wal::Value& v, wire::Value* out) {
  switch (v.type) {
    case wal::Value::Type::kNull:
      out->mutable_null();
      break;
    case wal::Value::Type::kInteger:
      out->set_integer(v.integer);
      break;
    case wal::Value::Type::kReal:
      out->set_real(v.real);
      break;
    case wal::Value::Type::kText:
      out->set_text(v.bytes);
      break;
    case wal::Value::Type::kBlob:
      out->set_blob(v.bytes);
      break;
  }
}

void SetDdl(const std::string& table, const std::string& sql, wire::Transaction* t) {
  t->set_kind(wire::Transaction::DDL);
  t->set_ddl_table(table);
  t->set_ddl_sql(sql);
}

wire::Transaction Ddl(const std::string& table, const std::string& sql) {
  wire::Transaction t;
  SetDdl(table, sql, &t);
  return t;
}

OptRow Optional(Row row) {
  return OptRow(std::make_move_iterator(row.begin()), std::make_move_iterator(row.end()));
}

// A row read with `from`'s layout, aligned to `to`'s visible columns by name.
OptRow Align(const WalTableLayout& from, const WalTableLayout& to, Row row) {
  if (&from == &to) return Optional(std::move(row));  // the schema did not change
  OptRow out(to.visible.size());
  for (size_t i = 0; i < to.visible.size(); ++i) {
    const std::string& name = to.table.columns[static_cast<size_t>(to.visible[i])].name;
    for (size_t j = 0; j < from.visible.size(); ++j) {
      if (from.table.columns[static_cast<size_t>(from.visible[j])].name == name) {
        out[i] = std::move(row[j]);
        break;
      }
    }
  }
  return out;
}

std::string KeyOf(const WalTableLayout& t, const OptRow& row) {
  // One message per thread, reused: Clear keeps its values' objects for the next key (one key
  // per old or new row of every change).
  thread_local wire::Row key;
  key.Clear();
  for (int i : t.visible_pk) {
    const auto& v = row[static_cast<size_t>(i)];
    if (v) ToWire(*v, key.add_values());
  }
  return key.SerializeAsString();
}

// Old and new rows of one table in one transaction, by primary key.
struct TableChanges {
  const WalTableLayout* layout = nullptr;
  std::map<std::string, std::pair<std::optional<OptRow>, std::optional<OptRow>>> rows;
};

Status Collect(const WalTxn& txn, const wal::RowChange& c, TableChanges* t) {
  const WalTableLayout* before = txn.before->Find(c.table);
  if (!before) before = t->layout;
  if (c.kind != wal::RowChange::Kind::kInsert) {
    SQLIFT_ASSIGN_OR_RETURN(Row old_row, VisibleRow(*before, c.rowid, c.old_values));
    OptRow aligned = Align(*before, *t->layout, std::move(old_row));
    t->rows[KeyOf(*t->layout, aligned)].first = std::move(aligned);
  }
  if (c.kind != wal::RowChange::Kind::kDelete) {
    SQLIFT_ASSIGN_OR_RETURN(Row new_row, VisibleRow(*t->layout, c.rowid, c.new_values));
    OptRow aligned = Optional(std::move(new_row));
    t->rows[KeyOf(*t->layout, aligned)].second = std::move(aligned);
  }
  return Status::OK();
}

void Fill(const OptRow& row, const std::vector<bool>& keep,
          google::protobuf::RepeatedPtrField<wire::Value>* out) {
  for (size_t i = 0; i < row.size(); ++i) {
    wire::Value* v = out->Add();
    if (row[i] && keep[i]) ToWire(*row[i], v);
  }
}

// A new change of the table to `txn`, with its key.
wire::RowChange* AddChange(const TableChanges& t, uint32_t table_index, const OptRow& keyed,
                           wire::RowChange::Op op, wire::Transaction* txn) {
  wire::RowChange* ch = txn->add_changes();
  ch->set_table_index(table_index);
  for (int i : t.layout->visible_pk)
    ToWire(*keyed[static_cast<size_t>(i)], ch->add_pk());
  ch->set_op(op);
  return ch;
}

// Appends the net changes of one table, DELETEs, then UPDATEs, then INSERTs.
void Emit(const TableChanges& t, uint32_t table_index, wire::Transaction* txn) {
  const size_t n = t.layout->visible.size();
  std::vector<bool> all(n, true), is_pk(n, false), changed(n), old_keep(n);
  for (int i : t.layout->visible_pk)
    is_pk[static_cast<size_t>(i)] = true;
  for (int pass = 0; pass < 3; ++pass) {
    for (const auto& [key, rows] : t.rows) {
      const auto& [old_row, new_row] = rows;
      if (pass == 0 && old_row && !new_row) {
        wire::RowChange* ch = AddChange(t, table_index, *old_row, wire::RowChange::DELETE, txn);
        Fill(*old_row, all, ch->mutable_old_values());
      } else if (pass == 1 && old_row && new_row) {
        bool any = false;
        for (size_t i = 0; i < n; ++i) {
          changed[i] = !(*old_row)[i] || !((*old_row)[i] == (*new_row)[i]);
          any = any || changed[i];
          old_keep[i] = changed[i] || is_pk[i];
        }
        if (!any) continue;
        wire::RowChange* ch = AddChange(t, table_index, *old_row, wire::RowChange::UPDATE, txn);
        Fill(*old_row, old_keep, ch->mutable_old_values());
        Fill(*new_row, changed, ch->mutable_new_values());
      } else if (pass == 2 && !old_row && new_row) {
        wire::RowChange* ch = AddChange(t, table_index, *new_row, wire::RowChange::INSERT, txn);
        Fill(*new_row, all, ch->mutable_new_values());
      }
    }
  }
}

// sqlift's own rows: the reverse applier's mark, and route events in the outbox.
Status OwnRow(const wal::RowChange& c, WalEncoded* out) {
  if (c.table == outbox::kStateTable) {
    for (const Row* r : {&c.old_values, &c.new_values}) {
      if (!r->empty() && (*r)[0].type == wal::Value::Type::kText &&
          (*r)[0].bytes == kStateReverseApplied) {
        out->reverse = true;
      }
    }
    return Status::OK();
  }
  if (c.table != outbox::kOutboxTable || c.kind != wal::RowChange::Kind::kInsert) {
    return Status::OK();
  }
  const Row& v = c.new_values;
  if (v.size() != 4 || v[2].type != wal::Value::Type::kInteger) {
    return Status::Corruption(fmt::format("outbox row {} is not an outbox row", c.rowid));
  }
  if (v[2].integer != static_cast<int64_t>(outbox::OutboxKind::kRoute)) {
    ++out->ignored_recorder_rows;
    return Status::OK();
  }
  wire::Transaction t;
  t.set_kind(wire::Transaction::ROUTE);
  if (!t.mutable_route()->ParseFromString(v[3].bytes)) {
    return Status::Corruption(fmt::format("route event in outbox row {} does not parse", c.rowid));
  }
  if (v[1].type == wal::Value::Type::kInteger) t.set_committed_at_us(v[1].integer);
  out->routes.push_back(std::move(t));
  return Status::OK();
}

// The DDL events, as transactions of `batch`; how many.
size_t SchemaDdl(const WalTxn& txn, const std::set<std::string>& excluded,
                 wire::ChangeBatch* batch) {
  if (txn.before == txn.after) return 0;
  size_t n = 0;
  for (const auto& [name, t] : txn.after->tables()) {
    const WalTableLayout* old = txn.before->Find(name);
    if (Captured(name, excluded) && (!old || old->table.create_sql != t.table.create_sql)) {
      SetDdl(name, t.table.create_sql, batch->add_transactions());
      ++n;
    }
  }
  for (const auto& [name, t] : txn.before->tables()) {
    if (Captured(name, excluded) && !txn.after->Find(name)) {
      SetDdl(name, "", batch->add_transactions());
      ++n;
    }
  }
  return n;
}

}  // namespace

std::vector<wire::Transaction> FullSchemaDdl(const WalSchema& schema,
                                             const std::set<std::string>& excluded) {
  std::vector<wire::Transaction> out;
  for (const auto& [name, t] : schema.tables()) {
    if (Captured(name, excluded)) out.push_back(Ddl(name, t.table.create_sql));
  }
  return out;
}

Result<WalEncoded> EncodeWalTxn(const WalTxn& txn, const std::set<std::string>& excluded,
                                wire::ChangeBatch* batch) {
  WalEncoded out;
  out.ddl = SchemaDdl(txn, excluded, batch);
  std::map<std::string, TableChanges> tables;
  for (const wal::RowChange& c : txn.changes) {
    if (IsSqliftTable(c.table)) {
      SQLIFT_RETURN_IF_ERROR(OwnRow(c, &out));
      continue;
    }
    if (!Captured(c.table, excluded)) continue;
    const WalTableLayout* layout = txn.after->Find(c.table);
    if (!layout) continue;  // dropped by this transaction: its DDL event says so
    if (layout->visible_pk.empty()) {
      return Status::FailedPrecondition(fmt::format(
          "table {} has no primary key, so its rows cannot be replicated: add one, or list the "
          "table in [source] exclude_tables",
          c.table));
    }
    TableChanges& t = tables[c.table];
    t.layout = layout;
    if (Status st = Collect(txn, c, &t); !st.ok()) {
      return st.With(fmt::format("table {}", c.table));  // formatted only on the error path
    }
  }
  wire::Transaction* changes = batch->add_transactions();
  changes->set_kind(wire::Transaction::CHANGES);
  for (const auto& [name, t] : tables) {
    const auto index = static_cast<uint32_t>(batch->tables_size());
    batch->add_tables()->CopyFrom(t.layout->shape);
    Emit(t, index, changes);
  }
  out.changes = static_cast<size_t>(changes->changes_size());
  return out;
}

}  // namespace sqlift
