#include "capture/wal/testing/change_follower.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "capture/wal/testing/session_oracle.h"

namespace sqlift::wal::testing {
namespace {

// A record's key within its table: the rowid, or the WITHOUT ROWID key's leading fields.
std::string RecordKey(const TableShape& t, int64_t rowid, const std::vector<Value>& values) {
  if (!t.without_rowid) return fmt::format("{}", rowid);
  std::string key;
  for (int i = 0; i < t.pk_count && i < static_cast<int>(values.size()); ++i) {
    const Value& v = values[static_cast<size_t>(i)];
    key +=
        fmt::format("{}:{}:{:a}:{}|", static_cast<int>(v.type), v.integer, v.real, v.bytes.size());
    key += v.bytes;
  }
  return key;
}

// `row`, shaped as `from`, in the columns of `to` (matched by name): a row seen across an
// ALTER TABLE DROP COLUMN, which rewrites every record of the table without the column.
Result<Row> Project(const TableShape& from, const Row& row, const TableShape& to) {
  if (from.columns == to.columns) return row;
  Row out;
  if (!to.without_rowid) out.push_back(row[0]);
  size_t skip = from.without_rowid ? 0 : 1;
  for (const std::string& name : to.columns) {
    auto it = std::find(from.columns.begin(), from.columns.end(), name);
    if (it == from.columns.end()) return Status::Internal(to.name + ": new column " + name);
    out.push_back(row[skip + static_cast<size_t>(it - from.columns.begin())]);
  }
  return out;
}

const TableShape* Find(const std::map<std::string, TableShape>& shapes, const std::string& name) {
  auto it = shapes.find(name);
  return it == shapes.end() ? nullptr : &it->second;
}

}  // namespace

ChangeFollower::ChangeFollower(SqliteDb& db, const std::string& db_path)
    : db_(db), wal_(OpenPathForReading(db_path + "-wal")), db_file_(OpenPathForReading(db_path)) {}

Status ChangeFollower::Start() {
  SQLIFT_ASSIGN_OR_RETURN(bool defaults, SessionReadsDefaultsOfAddedColumns());
  session_missing_ = defaults ? MissingFields::kDefault : MissingFields::kNull;
  SQLIFT_ASSIGN_OR_RETURN(shapes_, CurrentShapes());
  SQLIFT_ASSIGN_OR_RETURN(WalScan scan, ScanWal(*wal_, std::nullopt));
  SQLIFT_ASSIGN_OR_RETURN(PageStore store,
                          PageStore::ForDatabaseFile(*db_file_, scan.next.header.page_size));
  store_ = std::make_unique<PageStore>(std::move(store));
  for (const WalTransaction& t : scan.transactions)
    store_->Apply(t);
  position_ = scan.next;
  SQLIFT_ASSIGN_OR_RETURN(DecodeContext ctx, store_->Context());
  uint32_t usable = ctx.geometry.usable_size;
  overflow3_bytes_ = 3 * (usable - 4) + usable;
  SQLIFT_ASSIGN_OR_RETURN(decoder_, RowChangeDecoder::Create(ctx, KeyFields()));
  return Status::OK();
}

Result<std::vector<std::vector<std::string>>> ChangeFollower::Next() {
  int64_t version = schema_version_;
  SQLIFT_ASSIGN_OR_RETURN(Shapes after, CurrentShapes());  // tables come, go and change
  SQLIFT_ASSIGN_OR_RETURN(WalScan scan, Scan());
  if (scan.transactions.size() > 1 && version != schema_version_) {
    return Status::Internal("several transactions across a schema change");
  }
  Shapes before = std::exchange(shapes_, std::move(after));  // KeyFields reads shapes_
  std::vector<std::vector<std::string>> out;
  for (const WalTransaction& t : scan.transactions) {
    TransactionView view(*store_, t);
    SQLIFT_ASSIGN_OR_RETURN(DecodeContext before_ctx, store_->Context());
    SQLIFT_ASSIGN_OR_RETURN(DecodeContext after_ctx, view.Context());
    std::vector<uint32_t> written = view.written();
    SQLIFT_ASSIGN_OR_RETURN(auto changes, decoder_->Decode(before_ctx, after_ctx, written));
    CountInterior(after_ctx, written);
    SQLIFT_ASSIGN_OR_RETURN(out.emplace_back(), Replay(std::move(changes), before, shapes_));
    store_->Apply(t);
    ++counts_.transactions;
  }
  position_ = scan.next;
  return out;
}

Status ChangeFollower::Check() {
  for (const auto& [name, t] : shapes_) {
    SQLIFT_ASSIGN_OR_RETURN(std::vector<Row> rows, OracleRows(db_, t));
    std::map<std::string, Row> want, got;
    for (Row& r : rows)
      want[RowKey(t, r)] = std::move(r);
    for (const auto& [key, record] : model_[name]) {
      SQLIFT_ASSIGN_OR_RETURN(Row row, ShapeRow(t, record));
      got[RowKey(t, row)] = std::move(row);
    }
    if (want != got) {
      auto [w, g] = std::mismatch(want.begin(), want.end(), got.begin(), got.end());
      return Status::Internal(fmt::format("{}: SQLite has {}, the replayed changes {}", name,
                                          w == want.end() ? "no more rows" : RowString(w->second),
                                          g == got.end() ? "no more rows" : RowString(g->second)));
    }
  }
  SQLIFT_ASSIGN_OR_RETURN(DecodeContext ctx, store_->Context());
  SQLIFT_ASSIGN_OR_RETURN(auto fresh, RowChangeDecoder::Create(ctx, KeyFields()));
  if (!(fresh->page_map() == decoder_->page_map())) {
    return Status::Internal(fmt::format("page map: {} entries kept, {} by a full walk",
                                        decoder_->page_map().size(), fresh->page_map().size()));
  }
  store_->DropFileCache();
  ++counts_.checks;
  return Status::OK();
}

Status ChangeFollower::Rebase() {
  SQLIFT_ASSIGN_OR_RETURN(PageStore store,
                          PageStore::ForDatabaseFile(*db_file_, store_->page_size()));
  store_ = std::make_unique<PageStore>(std::move(store));
  rebased_ = true;
  return Status::OK();
}

Result<ChangeFollower::Shapes> ChangeFollower::CurrentShapes() {
  SQLIFT_ASSIGN_OR_RETURN(int64_t version, db_.QueryInt64("PRAGMA schema_version"));
  if (version == schema_version_) return shapes_;
  SQLIFT_ASSIGN_OR_RETURN(std::vector<TableShape> list, ReadShapes(db_));
  Shapes out;
  for (TableShape& t : list)
    out[t.name] = std::move(t);
  schema_version_ = version;
  return out;
}

// The transactions after position_; after a Rebase, a restarted WAL is read from its start.
Result<WalScan> ChangeFollower::Scan() {
  SQLIFT_ASSIGN_OR_RETURN(WalScan scan, ScanWal(*wal_, position_));
  if (rebased_ && scan.continuity == WalContinuity::kRestarted) {
    SQLIFT_ASSIGN_OR_RETURN(scan, ScanWal(*wal_, std::nullopt));
  }
  bool ok = scan.continuity == WalContinuity::kContinues ||
            (rebased_ && scan.continuity != WalContinuity::kRestarted);
  if (!ok) return Status::Internal("WAL not continued: " + scan.stop_reason);
  if (!scan.transactions.empty()) rebased_ = false;
  return scan;
}

KeyFieldsFn ChangeFollower::KeyFields() {
  return [this](const std::string& table) -> Result<int> {
    const TableShape* t = Find(shapes_, table);
    if (!t) return Status::NotFound(table);
    return t->pk_count;
  };
}

Result<std::vector<std::string>> ChangeFollower::Replay(std::vector<RowChange> changes,
                                                        const Shapes& before, const Shapes& after) {
  std::vector<std::string> out;
  for (RowChange& c : changes) {
    SQLIFT_ASSIGN_OR_RETURN(std::optional<std::string> entry, Apply(std::move(c), before, after));
    if (entry) out.push_back(std::move(*entry));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Applies one change to the model strictly (the old record must be there exactly, the new
// one's key free); returns its changeset entry, unless a session would record none.
Result<std::optional<std::string>> ChangeFollower::Apply(RowChange c, const Shapes& before,
                                                         const Shapes& after) {
  bool has_old = c.kind != RowChange::Kind::kInsert, has_new = c.kind != RowChange::Kind::kDelete;
  const TableShape* old_shape = has_old ? Find(before, c.table) : nullptr;
  const TableShape* new_shape = has_new ? Find(after, c.table) : nullptr;
  if ((has_old && !old_shape) || (has_new && !new_shape)) {
    return Status::Internal("change to unknown table " + c.table);
  }
  Model& model = model_[c.table];
  if (has_old) {
    auto it = model.find(RecordKey(*old_shape, c.rowid, c.old_values));
    if (it == model.end() || it->second.values != c.old_values) {
      return Status::Internal(c.table + ": old record not in the model");
    }
    model.erase(it);
    Count(*old_shape, c.old_values);
  }
  if (has_new) {
    std::string key = RecordKey(*new_shape, c.rowid, c.new_values);
    if (!model.try_emplace(std::move(key), BtreeEntry{0, c.rowid, c.new_values}).second) {
      return Status::Internal(c.table + ": new record's key taken");
    }
    Count(*new_shape, c.new_values);
  }
  counts_.inserts += !has_old, counts_.deletes += !has_new, counts_.updates += has_old && has_new;
  const TableShape& t = has_new ? *new_shape : *old_shape;
  if (!t.without_rowid && t.ipk < 0) return std::optional<std::string>();  // no key, no session
  return SessionEntry(std::move(c), old_shape, new_shape);
}

// The changeset entry of a change already applied to the model; none when the rows differ in
// the record's shape alone.
Result<std::optional<std::string>> ChangeFollower::SessionEntry(RowChange c,
                                                                const TableShape* old_shape,
                                                                const TableShape* new_shape) {
  // Old rows as the session gives them, except in a transaction that altered the table (DROP
  // COLUMN rewrites every row), which a session records nothing of: there, as SQLite reads them.
  bool altered = old_shape && new_shape && old_shape->columns != new_shape->columns;
  MissingFields missing = altered ? MissingFields::kDefault : session_missing_;
  std::optional<Row> old_row, new_row;
  if (old_shape) {
    SQLIFT_ASSIGN_OR_RETURN(old_row,
                            ShapeRow(*old_shape, {0, c.rowid, std::move(c.old_values)}, missing));
  }
  if (new_shape) {
    SQLIFT_ASSIGN_OR_RETURN(new_row, ShapeRow(*new_shape, {0, c.rowid, std::move(c.new_values)}));
  }
  if (old_shape && new_shape) {
    SQLIFT_ASSIGN_OR_RETURN(old_row, Project(*old_shape, *old_row, *new_shape));
    if (*old_row == *new_row) return std::optional<std::string>();
  }
  return std::optional<std::string>(
      ChangesetForm(new_shape ? *new_shape : *old_shape, old_row, new_row));
}

void ChangeFollower::Count(const TableShape& t, const std::vector<Value>& record) {
  counts_.short_records += record.size() < t.columns.size();
  for (const Value& v : record)
    counts_.overflow3_values += v.bytes.size() > overflow3_bytes_;
}

void ChangeFollower::CountInterior(const DecodeContext& after,
                                   const std::vector<uint32_t>& written) {
  for (uint32_t p : written) {
    Result<BtreePage> page = p <= after.page_count ? LoadPage(after, p) : Status::NotFound("");
    if (page.ok() && !page->is_leaf()) {
      ++counts_.interior_writes;
      return;
    }
  }
}

}  // namespace sqlift::wal::testing
