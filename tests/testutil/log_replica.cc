#include "tests/testutil/log_replica.h"

#include <fmt/format.h>

#include "capture/outbox/outbox.h"
#include "state/change_log.h"

namespace sqlift::testing {
namespace {

Status Bind(SqliteStatement& stmt, int index, const wire::Value& v) {
  switch (v.kind_case()) {
    case wire::Value::kInteger:
      return stmt.BindInt64(index, v.integer());
    case wire::Value::kReal:
      return stmt.BindDouble(index, v.real());
    case wire::Value::kText:
      return stmt.BindText(index, v.text());
    case wire::Value::kBlob:
      return stmt.BindBlob(index, v.blob());
    default:
      return stmt.BindNull(index);
  }
}

std::string KeyWhere(const wire::TableShape& shape, int first_param) {
  std::string where;
  for (int i = 0; i < shape.pk_columns_size(); ++i) {
    where +=
        fmt::format("{}{} IS ?{}", i ? " AND " : "",
                    QuoteSqliteIdentifier(shape.columns(shape.pk_columns(i))), first_param + i);
  }
  return where;
}

}  // namespace

Result<std::unique_ptr<LogReplica>> LogReplica::Create(const std::string& path) {
  SQLIFT_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWriteCreate));
  return std::unique_ptr<LogReplica>(new LogReplica(std::move(db)));
}

Status LogReplica::ReplayLog(const std::string& state_dir) {
  SQLIFT_ASSIGN_OR_RETURN(
      auto log,
      state::OpenRocksChangeLog(
          state_dir, {.create_if_missing = false, .read_only = true, .secondary_dir = ""}));
  SQLIFT_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  Status st = log->Scan(1, UINT64_MAX, [&](uint64_t seq, std::string_view value) -> Status {
    if (seq != last_seq_ + 1) {
      return Status::Corruption(fmt::format("log jumps from seq {} to {}", last_seq_, seq));
    }
    wire::ChangeBatch batch;
    if (!batch.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return Status::Corruption(fmt::format("seq {} does not parse", seq));
    }
    return Apply(batch).With(fmt::format("replay seq {}", seq));
  });
  SQLIFT_RETURN_IF_ERROR(db_->Exec(st.ok() ? "COMMIT" : "ROLLBACK"));
  return st;
}

Status LogReplica::Apply(const wire::ChangeBatch& batch) {
  for (const wire::Transaction& txn : batch.transactions()) {
    if (txn.seq() < last_seq_ || txn.seq() > last_seq_ + 1) {
      return Status::Corruption(fmt::format("seq {} after {}", txn.seq(), last_seq_));
    }
    if (txn.kind() == wire::Transaction::DDL) {
      SQLIFT_ASSIGN_OR_RETURN(SqliteStatement q,
                              db_->Prepare("SELECT sql FROM sqlite_schema WHERE name = ?1"));
      SQLIFT_RETURN_IF_ERROR(q.BindText(1, txn.ddl_table()));
      SQLIFT_ASSIGN_OR_RETURN(bool exists, q.Step());
      if (!exists) {
        SQLIFT_RETURN_IF_ERROR(db_->Exec(txn.ddl_sql()));
      } else if (q.ColumnText(0) != txn.ddl_sql()) {
        return Status::NotImplemented("the replica applies no ALTER: " + txn.ddl_sql());
      }
      continue;
    }
    if (txn.kind() == wire::Transaction::ROUTE) {  // no row changes: only the seq moves
      last_seq_ = txn.seq();
      continue;
    }
    // The replica mirrors the SQLite file, so the reverse applier's changes (REVERSE) count too.
    if (txn.kind() != wire::Transaction::CHANGES && txn.kind() != wire::Transaction::REVERSE) {
      return Status::Corruption("transaction kind");
    }
    for (const wire::RowChange& c : txn.changes()) {
      if (c.table_index() >= static_cast<uint32_t>(batch.tables_size())) {
        return Status::Corruption("table index");
      }
      SQLIFT_RETURN_IF_ERROR(ApplyChange(batch.tables(c.table_index()), c));
      ++changes_;
    }
    transactions_.push_back(txn);
    last_seq_ = txn.seq();
  }
  return Status::OK();
}

Status LogReplica::ApplyChange(const wire::TableShape& shape, const wire::RowChange& c) {
  const std::string table = QuoteSqliteIdentifier(shape.name());
  std::string sql;
  std::vector<const wire::Value*> params;
  if (c.op() == wire::RowChange::INSERT) {
    std::string cols, marks;
    for (int i = 0; i < c.new_values_size(); ++i) {
      cols += (i ? ", " : "") + QuoteSqliteIdentifier(shape.columns(i));
      marks += fmt::format("{}?{}", i ? ", " : "", i + 1);
      params.push_back(&c.new_values(i));
    }
    sql = fmt::format("INSERT INTO {} ({}) VALUES ({})", table, cols, marks);
  } else if (c.op() == wire::RowChange::UPDATE) {
    std::string set;
    for (int i = 0; i < c.new_values_size(); ++i) {
      if (c.new_values(i).kind_case() == wire::Value::KIND_NOT_SET) continue;
      params.push_back(&c.new_values(i));
      set += fmt::format("{}{} = ?{}", set.empty() ? "" : ", ",
                         QuoteSqliteIdentifier(shape.columns(i)), params.size());
    }
    int first = static_cast<int>(params.size()) + 1;
    for (const wire::Value& k : c.pk())
      params.push_back(&k);
    sql = fmt::format("UPDATE {} SET {} WHERE {}", table, set, KeyWhere(shape, first));
  } else if (c.op() == wire::RowChange::DELETE) {
    for (const wire::Value& k : c.pk())
      params.push_back(&k);
    sql = fmt::format("DELETE FROM {} WHERE {}", table, KeyWhere(shape, 1));
  } else {
    return Status::Corruption("change op");
  }
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, db_->Prepare(sql));
  for (size_t i = 0; i < params.size(); ++i) {
    SQLIFT_RETURN_IF_ERROR(Bind(stmt, static_cast<int>(i + 1), *params[i]));
  }
  SQLIFT_RETURN_IF_ERROR(stmt.Run().With(sql));
  if (sqlite3_changes(db_->handle()) != 1) {
    return Status::Corruption(
        fmt::format("{} changed {} rows, not 1", sql, sqlite3_changes(db_->handle())));
  }
  return Status::OK();
}

namespace {

// Every row of `table` as text, in primary-key order (`quote()` keeps storage classes apart).
Result<std::vector<std::string>> Rows(SqliteDb& db, const std::string& table) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement cols,
                          db.Prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid"));
  SQLIFT_RETURN_IF_ERROR(cols.BindText(1, table));
  std::string select;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, cols.Step());
    if (!row) break;
    select += (select.empty() ? "" : " || '|' || ") +
              fmt::format("quote({})", QuoteSqliteIdentifier(cols.ColumnText(0)));
  }
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement q,
                          db.Prepare(fmt::format("SELECT {} FROM {} ORDER BY 1", select,
                                                 QuoteSqliteIdentifier(table))));
  std::vector<std::string> rows;
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    rows.emplace_back(q.ColumnText(0));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace

Result<std::string> DiffDatabases(SqliteDb& expected, SqliteDb& actual) {
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement tables,
                          expected.Prepare("SELECT name FROM sqlite_schema WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite%' ORDER BY name"));
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool row, tables.Step());
    if (!row) break;
    std::string table(tables.ColumnText(0));
    if (outbox::IsReservedTable(table)) continue;
    SQLIFT_ASSIGN_OR_RETURN(std::vector<std::string> want, Rows(expected, table));
    Result<std::vector<std::string>> got = Rows(actual, table);
    if (!got.ok()) return fmt::format("table {}: {}", table, got.status().ToString());
    if (want == *got) continue;
    for (size_t i = 0; i < std::max(want.size(), got->size()); ++i) {
      std::string w = i < want.size() ? want[i] : "(none)";
      std::string g = i < got->size() ? (*got)[i] : "(none)";
      if (w != g) {
        return fmt::format(
            "table {}: {} rows expected, {} found; first difference at row {}: "
            "expected {}, found {}",
            table, want.size(), got->size(), i, w, g);
      }
    }
  }
  return std::string();
}

}  // namespace sqlift::testing
