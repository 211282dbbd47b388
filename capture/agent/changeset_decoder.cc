#include "capture/agent/changeset_decoder.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <memory>
#include <string>

#include "capture/snapshot/wire_value.h"

namespace sqlift {
namespace {

struct IterCloser {
  void operator()(sqlite3_changeset_iter* it) const { sqlite3changeset_finalize(it); }
};
using IterPtr = std::unique_ptr<sqlite3_changeset_iter, IterCloser>;

// Reads an SQLite varint (1 to 9 bytes) at *pos; false when it runs past the end.
bool ReadVarint(std::string_view in, size_t* pos, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < 9; ++i) {
    if (*pos >= in.size()) return false;
    uint8_t b = static_cast<uint8_t>(in[(*pos)++]);
    if (i == 8) {
      *out = (v << 8) | b;
      return true;
    }
    v = (v << 7) | (b & 0x7f);
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

// One record: `ncol` values, each a type byte and its payload.
bool ValidRecord(std::string_view in, size_t* pos, uint64_t ncol) {
  for (uint64_t i = 0; i < ncol; ++i) {
    if (*pos >= in.size()) return false;
    switch (in[(*pos)++]) {
      case 0:  // not present
      case 5:  // NULL
        break;
      case 1:  // integer, 8 bytes big-endian
      case 2:  // real, 8 bytes
        if (in.size() - *pos < 8) return false;
        *pos += 8;
        break;
      case 3:    // text
      case 4: {  // blob
        uint64_t len = 0;
        if (!ReadVarint(in, pos, &len) || len > in.size() - *pos) return false;
        *pos += len;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

// Walks the changeset format (a table header 'T', then changes of that table) checking
// every length against the buffer, before SQLite sees it: SQLite 3.40's changeset reader
// can loop forever on some truncated input, and a damaged outbox row must stop the agent
// with its seq, not hang it.
Status ValidateChangeset(std::string_view in) {
  size_t pos = 0;
  uint64_t ncol = 0;
  auto bad = [&](std::string_view what) {
    return Status::Corruption(
        fmt::format("changeset damaged at byte {} of {}: {}", pos, in.size(), what));
  };
  while (pos < in.size()) {
    uint8_t kind = static_cast<uint8_t>(in[pos++]);
    if (kind == 'T') {
      if (!ReadVarint(in, &pos, &ncol) || ncol == 0 || ncol > 32767) return bad("column count");
      if (in.size() - pos < ncol) return bad("primary key flags");
      pos += ncol;
      size_t nul = in.find('\0', pos);
      if (nul == std::string_view::npos || nul == pos) return bad("table name");
      pos = nul + 1;
      continue;
    }
    if (ncol == 0) return bad("change before any table header");
    int records = kind == SQLITE_UPDATE ? 2 : (kind == SQLITE_INSERT || kind == SQLITE_DELETE);
    if (records == 0) return bad(fmt::format("unknown change type {}", kind));
    if (pos >= in.size()) return bad("indirect flag");
    ++pos;
    for (int r = 0; r < records; ++r) {
      if (!ValidRecord(in, &pos, ncol)) return bad("record");
    }
  }
  return Status::OK();
}

Result<IterPtr> Start(std::string_view changeset) {
  SQLIFT_RETURN_IF_ERROR(ValidateChangeset(changeset));
  sqlite3_changeset_iter* it = nullptr;
  if (changeset.size() > static_cast<size_t>(INT32_MAX)) {
    return Status::Corruption(fmt::format("changeset of {} bytes is too large", changeset.size()));
  }
  int rc = sqlite3changeset_start(&it, static_cast<int>(changeset.size()),
                                  const_cast<char*>(changeset.data()));
  if (rc != SQLITE_OK) {
    sqlite3changeset_finalize(it);
    return Status::Corruption(fmt::format("changeset start: {}", sqlite3_errstr(rc)));
  }
  return IterPtr(it);
}

wire::RowChange::Op WireOp(int op) {
  switch (op) {
    case SQLITE_INSERT:
      return wire::RowChange::INSERT;
    case SQLITE_UPDATE:
      return wire::RowChange::UPDATE;
    case SQLITE_DELETE:
      return wire::RowChange::DELETE;
    default:
      return wire::RowChange::OP_UNSPECIFIED;
  }
}

// Finds the table in the batch by name, or asks for its shape and adds it.
Result<uint32_t> TableIndex(sqlite3_changeset_iter* it, const char* name, int ncol,
                            const ShapeFn& shape_for, wire::ChangeBatch* batch) {
  for (int i = 0; i < batch->tables_size(); ++i) {
    if (batch->tables(i).name() == name) {
      if (batch->tables(i).columns_size() != ncol) break;  // a new shape within one batch
      return static_cast<uint32_t>(i);
    }
  }
  unsigned char* flags = nullptr;
  int n = 0;
  sqlite3changeset_pk(it, &flags, &n);
  ChangesetTable table{name, ncol, std::vector<bool>(flags, flags + n)};
  SQLIFT_ASSIGN_OR_RETURN(wire::TableShape shape, shape_for(table));
  if (shape.columns_size() != ncol) {
    return Status::Internal(fmt::format("shape of {} has {} columns, the changeset {}", name,
                                        shape.columns_size(), ncol));
  }
  *batch->add_tables() = std::move(shape);
  return static_cast<uint32_t>(batch->tables_size() - 1);
}

Status DecodeOne(sqlite3_changeset_iter* it, uint32_t table_index, const wire::TableShape& shape,
                 int ncol, int op, wire::RowChange* change) {
  change->set_table_index(table_index);
  change->set_op(WireOp(op));
  if (change->op() == wire::RowChange::OP_UNSPECIFIED) {
    return Status::Corruption(fmt::format("unknown change op {}", op));
  }
  for (int i = 0; i < ncol; ++i) {
    sqlite3_value* v = nullptr;
    if (op != SQLITE_INSERT) {
      if (sqlite3changeset_old(it, i, &v) != SQLITE_OK) return Status::Corruption("old value");
      SqliteValueToWire(v, change->add_old_values());
    }
    if (op != SQLITE_DELETE) {
      if (sqlite3changeset_new(it, i, &v) != SQLITE_OK) return Status::Corruption("new value");
      SqliteValueToWire(v, change->add_new_values());
    }
  }
  const auto& key_source = op == SQLITE_INSERT ? change->new_values() : change->old_values();
  for (uint32_t col : shape.pk_columns()) {
    if (col >= static_cast<uint32_t>(key_source.size()) ||
        key_source[col].kind_case() == wire::Value::KIND_NOT_SET) {
      return Status::Corruption(fmt::format("primary key column {} missing", col));
    }
    *change->add_pk() = key_source[col];
  }
  return Status::OK();
}

}  // namespace

Status DecodeChangeset(std::string_view changeset, const ShapeFn& shape_for,
                       wire::ChangeBatch* batch, wire::Transaction* txn) {
  SQLIFT_ASSIGN_OR_RETURN(IterPtr it, Start(changeset));
  // A copy: the iterator reuses its buffer for the next table's name.
  std::string last_name;
  bool have_table = false;
  uint32_t table_index = 0;
  int rc;
  while ((rc = sqlite3changeset_next(it.get())) == SQLITE_ROW) {
    const char* name = nullptr;
    int ncol = 0, op = 0, indirect = 0;
    rc = sqlite3changeset_op(it.get(), &name, &ncol, &op, &indirect);
    if (rc != SQLITE_OK) return Status::Corruption("changeset op");
    if (!have_table || last_name != name ||
        batch->tables(static_cast<int>(table_index)).columns_size() != ncol) {
      SQLIFT_ASSIGN_OR_RETURN(table_index, TableIndex(it.get(), name, ncol, shape_for, batch));
      last_name = name;
      have_table = true;
    }
    const wire::TableShape& shape = batch->tables(static_cast<int>(table_index));
    SQLIFT_RETURN_IF_ERROR(
        DecodeOne(it.get(), table_index, shape, ncol, op, txn->add_changes())
            .With(fmt::format("change {} of table {}", txn->changes_size(), name)));
  }
  if (rc != SQLITE_DONE) {
    return Status::Corruption(fmt::format("changeset next: {}", sqlite3_errstr(rc)));
  }
  return Status::OK();
}

Result<int64_t> CountChangesetRows(std::string_view changeset) {
  SQLIFT_ASSIGN_OR_RETURN(IterPtr it, Start(changeset));
  int64_t n = 0;
  int rc;
  while ((rc = sqlite3changeset_next(it.get())) == SQLITE_ROW)
    ++n;
  if (rc != SQLITE_DONE) {
    return Status::Corruption(fmt::format("changeset next: {}", sqlite3_errstr(rc)));
  }
  return n;
}

}  // namespace sqlift
