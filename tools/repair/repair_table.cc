// RepairTable (see repair_table.h).
#include "tools/repair/repair_table.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "capture/snapshot/snapshot_reader.h"
#include "capture/snapshot/wire_value.h"
#include "common/sqlite/sqlite_schema.h"
#include "tools/repair/repair_pg_rows.h"
#include "tools/verify/verify_engine.h"

namespace sqlift {
namespace {

struct Bucket {
  uint64_t count = 0, sum = 0;
  bool operator==(const Bucket&) const = default;
};

// A kept SQLite row: its encoded canonical values and the values as read.
struct SqliteKept {
  std::string row;
  wire::Row values;
  bool refused = false;  // holds a value PostgreSQL refuses
};

// A kept PostgreSQL row: its encoded canonical values and its key's canonical texts.
struct PgKept {
  std::string row;
  std::vector<std::string> key;
};

using SqliteSink = std::function<Status(const wire::Row& values, const CanonicalRow& row)>;

// About 8 SQLite rows per bucket, 2^10 to 2^20 buckets.
int BucketBits(int64_t rows) {
  int bits = 10;
  while (bits < 20 && (int64_t{8} << bits) < rows)
    ++bits;
  return bits;
}

std::string PrintableKey(const CanonicalRow& row, const std::vector<size_t>& key_columns) {
  std::vector<std::string> parts;
  for (size_t k : key_columns)
    parts.push_back(PrintableValue(row[k]));
  return fmt::format("({})", fmt::join(parts, ", "));
}

class Repairer {
 public:
  Repairer(SqliteDb& sqlite, PgConnection& pg, const RepairTableSpec& spec)
      : sqlite_(sqlite), pg_(pg), s_(spec), t_(*spec.table), plan_(*spec.plan) {
    const wire::TableShape shape = SnapshotReader::ShapeOf(t_);
    visible_ = static_cast<size_t>(shape.columns_size());
    for (uint32_t i : shape.pk_columns())
      key_columns_.push_back(i);
    for (const ColumnPlan& c : plan_.columns)
      types_.push_back(c.mapping.type);
  }

  Result<TableRepair> Run();

 private:
  void Encode(const CanonicalRow& r) {
    key_.clear(), row_.clear();
    for (const CanonicalValue& v : r)
      EncodeCanonical(v, &row_);
    for (size_t k : key_columns_)
      EncodeCanonical(r[k], &key_);
  }
  size_t BucketOf() const { return CanonicalHash64(key_) >> (64 - bits_); }
  bool InScope(const wire::Row& r) const;
  Status ScanSqlite(const SqliteSink& sink);
  Status ScanPg(const VerifyTableReader::RowSink& sink);
  Status Sum();
  Status Keep();
  Status KeepSqlite(const wire::Row& values, const CanonicalRow& r);
  Status KeepPg(const CanonicalRow& r);
  Status Twice(const char* side, const CanonicalRow& r) const;
  Status Diff(TableRepair* out);

  SqliteDb& sqlite_;
  PgConnection& pg_;
  const RepairTableSpec& s_;
  const TableSchema& t_;
  const TablePlan& plan_;
  size_t visible_ = 0;  // the table's visible columns
  std::vector<size_t> key_columns_;
  std::vector<PgType> types_;
  int bits_ = 10;
  std::string key_, row_;  // the current row, encoded
  std::vector<Bucket> sqlite_buckets_, pg_buckets_;
  std::vector<bool> chosen_;
  std::unordered_map<std::string, SqliteKept> sqlite_rows_;
  std::unordered_map<std::string, PgKept> pg_rows_;
};

// The SQLite side of the tenant filter: PostgreSQL compares the column's text with the list.
bool Repairer::InScope(const wire::Row& r) const {
  if (s_.tenant_col < 0) return true;
  const wire::Value& v = r.values(s_.tenant_col);
  std::optional<std::string> tenant;
  if (v.kind_case() == wire::Value::kText) tenant = v.text();
  if (v.kind_case() == wire::Value::kInteger) tenant = std::to_string(v.integer());
  const std::vector<std::string>& listed = s_.tenant_filter.values;
  bool in = tenant && std::find(listed.begin(), listed.end(), *tenant) != listed.end();
  return s_.tenant_filter.exclude ? !in : in;
}

// Every row in scope, as read and as canonical values; the columns are the visible ones.
Status Repairer::ScanSqlite(const SqliteSink& sink) {
  std::vector<std::string> cols;
  for (const ColumnSchema& c : t_.columns) {
    if (!c.hidden) cols.push_back(QuoteSqliteIdentifier(c.name));
  }
  SQLIFT_ASSIGN_OR_RETURN(SqliteStatement stmt, sqlite_.Prepare(fmt::format(
                                                    "SELECT {} FROM main.{}", fmt::join(cols, ", "),
                                                    QuoteSqliteIdentifier(t_.name))));
  if (static_cast<size_t>(stmt.ColumnCount()) != types_.size()) {
    return Status::Internal(
        fmt::format("{} columns read, {} planned", stmt.ColumnCount(), types_.size()));
  }
  wire::Row values;
  for (size_t i = 0; i < types_.size(); ++i)
    values.add_values();
  CanonicalRow row(types_.size());
  for (;;) {
    SQLIFT_ASSIGN_OR_RETURN(bool more, stmt.Step());
    if (!more) return Status::OK();
    for (int i = 0; i < values.values_size(); ++i)
      SqliteValueToWire(sqlite3_column_value(stmt.handle(), i), values.mutable_values(i));
    if (!InScope(values)) continue;
    for (size_t i = 0; i < row.size(); ++i)
      row[i] = CanonicalFromSqlite(values.values(static_cast<int>(i)), types_[i]);
    SQLIFT_RETURN_IF_ERROR(sink(values, row));
  }
}

Status Repairer::ScanPg(const VerifyTableReader::RowSink& sink) {
  if (s_.pg_missing) return Status::OK();
  PgTableReader reader(pg_, s_.schema, plan_, s_.tenant_filter);
  return reader.Scan(sink);
}

// Step 1: per bucket, the count and the sum of row hashes of each side.
Status Repairer::Sum() {
  SQLIFT_ASSIGN_OR_RETURN(int64_t rows, sqlite_.QueryInt64("SELECT count(*) FROM main." +
                                                           QuoteSqliteIdentifier(t_.name)));
  bits_ = BucketBits(rows);
  sqlite_buckets_.assign(size_t{1} << bits_, Bucket{});
  pg_buckets_.assign(size_t{1} << bits_, Bucket{});
  auto add = [this](const CanonicalRow& r, std::vector<Bucket>* buckets) {
    Encode(r);
    Bucket& b = (*buckets)[BucketOf()];
    ++b.count, b.sum += CanonicalHash64(row_);
    return Status::OK();
  };
  SQLIFT_RETURN_IF_ERROR(ScanSqlite([&](const wire::Row&, const CanonicalRow& r) {
                           return add(r, &sqlite_buckets_);
                         }).With("read SQLite rows"));
  return ScanPg([&](const CanonicalRow& r) { return add(r, &pg_buckets_); })
      .With("read PostgreSQL rows");
}

Status Repairer::Twice(const char* side, const CanonicalRow& r) const {
  return Status::FailedPrecondition(fmt::format(
      "two {} rows have the key {} (as PostgreSQL reads it)", side, PrintableKey(r, key_columns_)));
}

Status Repairer::KeepSqlite(const wire::Row& values, const CanonicalRow& r) {
  Encode(r);
  if (!chosen_[BucketOf()]) return Status::OK();
  auto [it, fresh] = sqlite_rows_.try_emplace(key_);
  if (!fresh) return Twice("SQLite", r);
  it->second.row = row_, it->second.values = values;
  it->second.refused = std::any_of(r.begin(), r.end(), [](const CanonicalValue& v) {
    return v.kind == CanonicalValue::Kind::kUnfit;
  });
  return Status::OK();
}

Status Repairer::KeepPg(const CanonicalRow& r) {
  Encode(r);
  if (!chosen_[BucketOf()]) return Status::OK();
  auto [it, fresh] = pg_rows_.try_emplace(key_);
  if (!fresh) return Twice("PostgreSQL", r);
  it->second.row = row_;
  for (size_t k : key_columns_)
    it->second.key.push_back(r[k].text);
  return Status::OK();
}

// Step 2: the rows of the buckets that differ, each key once per side.
Status Repairer::Keep() {
  SQLIFT_RETURN_IF_ERROR(ScanSqlite([this](const wire::Row& values, const CanonicalRow& r) {
                           return KeepSqlite(values, r);
                         }).With("read SQLite rows again"));
  return ScanPg([this](const CanonicalRow& r) { return KeepPg(r); })
      .With("read PostgreSQL rows again");
}

wire::RowChange Insert(const wire::Row& s, const std::vector<size_t>& key_columns) {
  wire::RowChange ch;
  ch.set_op(wire::RowChange::INSERT);
  for (size_t k : key_columns)
    *ch.add_pk() = s.values(static_cast<int>(k));
  *ch.mutable_new_values() = s.values();
  return ch;
}

// new_values: every non-key column, SQLite's; old_values: the key SQLite's, the rest
// PostgreSQL's.
wire::RowChange Update(const wire::Row& s, const wire::Row& p,
                       const std::vector<size_t>& key_columns) {
  wire::RowChange ch;
  ch.set_op(wire::RowChange::UPDATE);
  for (size_t k : key_columns)
    *ch.add_pk() = s.values(static_cast<int>(k));
  for (int i = 0; i < s.values_size(); ++i) {
    bool key = std::find(key_columns.begin(), key_columns.end(), static_cast<size_t>(i)) !=
               key_columns.end();
    *ch.add_old_values() = key ? s.values(i) : p.values(i);
    if (key)
      ch.add_new_values();
    else
      *ch.add_new_values() = s.values(i);
  }
  return ch;
}

wire::RowChange Delete(const wire::Row& p, const std::vector<size_t>& key_columns) {
  wire::RowChange ch;
  ch.set_op(wire::RowChange::DELETE);
  for (size_t k : key_columns)
    *ch.add_pk() = p.values(static_cast<int>(k));
  *ch.mutable_old_values() = p.values();
  return ch;
}

// Step 3: rows matched by key; PostgreSQL's rows to change or delete read by key.
Status Repairer::Diff(TableRepair* out) {
  std::vector<std::string> inserts, updates, deletes;
  std::vector<std::vector<std::string>> wanted;  // PostgreSQL rows to read by key
  for (const auto& [key, s] : sqlite_rows_) {
    auto p = pg_rows_.find(key);
    if (p == pg_rows_.end()) {
      inserts.push_back(key);
    } else if (p->second.row != s.row) {
      updates.push_back(key), wanted.push_back(p->second.key);
    }
  }
  for (const auto& [key, p] : pg_rows_) {
    if (!sqlite_rows_.count(key)) deletes.push_back(key), wanted.push_back(p.key);
  }
  PgKeyedRead read{s_.schema, &plan_, key_columns_, s_.tenant_filter};
  SQLIFT_ASSIGN_OR_RETURN(auto pg, ReadPgRowsAsSqlite(pg_, read, wanted));
  auto pg_row = [&](const std::string& key) -> Result<const wire::Row*> {
    auto it = pg.find(key);
    if (it != pg.end()) return &it->second;
    return Status::Internal("a PostgreSQL row read in the snapshot was not found again by its key");
  };
  for (auto* keys : {&deletes, &updates, &inserts})
    std::sort(keys->begin(), keys->end());
  for (const std::string& key : deletes) {
    SQLIFT_ASSIGN_OR_RETURN(const wire::Row* p, pg_row(key));
    out->changes.push_back(Delete(*p, key_columns_)), ++out->deleted;
  }
  for (const std::string& key : updates) {
    SQLIFT_ASSIGN_OR_RETURN(const wire::Row* p, pg_row(key));
    const SqliteKept& s = sqlite_rows_.at(key);
    out->changes.push_back(Update(s.values, *p, key_columns_)), ++out->updated;
    out->refused += s.refused;
  }
  for (const std::string& key : inserts) {
    const SqliteKept& s = sqlite_rows_.at(key);
    out->changes.push_back(Insert(s.values, key_columns_)), ++out->inserted;
    out->refused += s.refused;
  }
  return Status::OK();
}

Result<TableRepair> Repairer::Run() {
  if (key_columns_.empty()) {
    return Status::FailedPrecondition("no primary key: rows cannot be matched one by one");
  }
  if (plan_.columns.size() != visible_) {
    return Status::Internal("the plan's columns are not the table's visible columns");
  }
  SQLIFT_RETURN_IF_ERROR(Sum());
  chosen_.assign(sqlite_buckets_.size(), false);
  bool any = false;
  for (size_t i = 0; i < chosen_.size(); ++i) {
    if (sqlite_buckets_[i] == pg_buckets_[i]) continue;
    chosen_[i] = true, any = true;
  }
  sqlite_buckets_ = {}, pg_buckets_ = {};
  TableRepair out;
  if (!any) return out;
  SQLIFT_RETURN_IF_ERROR(Keep());
  SQLIFT_RETURN_IF_ERROR(Diff(&out));
  return out;
}

}  // namespace

Result<TableRepair> RepairTable(SqliteDb& sqlite, PgConnection& pg, const RepairTableSpec& spec) {
  Repairer repairer(sqlite, pg, spec);
  return repairer.Run();
}

}  // namespace sqlift
