// pgoutput protocol version 1 (PostgreSQL's "Logical Replication Message Formats"): every
// integer is big-endian, strings are NUL-terminated, a TupleData is Int16 n then n values of
// kind 'n' (null), 'u' (unchanged TOAST) or 't'/'b' (Int32 length, bytes).
#include "capture/pg_logical/pgoutput_decoder.h"

#include <limits>
#include <utility>

namespace sqlift {
namespace {

using pgchange::Change;
using pgchange::Datum;
using pgchange::Lsn;
using pgchange::Relation;

// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC).
constexpr int64_t kPgEpochUnixUs = int64_t{946684800} * 1000000;
// What a Datum or a Change costs besides its text, for max_transaction_bytes.
constexpr size_t kDatumOverhead = sizeof(Datum);
constexpr size_t kChangeOverhead = sizeof(Change);

// PostgreSQL's own range of timestamps starts at MIN_TIMESTAMP (4714 BC, microseconds since
// 2000-01-01); the end is where Unix microseconds leave int64 (PostgreSQL's END_TIMESTAMP is
// a little later). A commit time outside is damage, and would overflow the conversion.
constexpr int64_t kPgMinTimestamp = -int64_t{211813488000000000};
constexpr int64_t kPgEndTimestamp = std::numeric_limits<int64_t>::max() - kPgEpochUnixUs;

Status CommitTimeToUnix(uint64_t raw, int64_t* unix_us) {
  const auto pg = static_cast<int64_t>(raw);
  if (pg < kPgMinTimestamp || pg > kPgEndTimestamp) {
    return Status::Corruption("commit timestamp " + std::to_string(pg) + " out of range");
  }
  *unix_us = pg + kPgEpochUnixUs;
  return Status::OK();
}

const char* MessageName(char type) {
  static constexpr std::pair<char, const char*> kNames[] = {
      {'B', "Begin"},  {'C', "Commit"}, {'O', "Origin"}, {'R', "Relation"}, {'Y', "Type"},
      {'I', "Insert"}, {'U', "Update"}, {'D', "Delete"}, {'T', "Truncate"}, {'M', "Message"}};
  for (const auto& [t, name] : kNames) {
    if (t == type) return name;
  }
  return nullptr;
}

std::string Printable(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static const char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[u >> 4] + kHex[u & 15];
}

std::string Describe(const Relation& rel) {
  return rel.schema + "." + rel.table + " (relation id " + std::to_string(rel.id) + ")";
}

}  // namespace

// Bounds-checked big-endian reads; every failure names the field and the byte offset.
class PgOutputDecoder::Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  Status U8(const char* field, uint8_t* v) {
    uint64_t x = 0;
    SQLIFT_RETURN_IF_ERROR(BigEndian(field, 1, &x));
    *v = static_cast<uint8_t>(x);
    return Status::OK();
  }
  Status I16(const char* field, int16_t* v) {
    uint64_t x = 0;
    SQLIFT_RETURN_IF_ERROR(BigEndian(field, 2, &x));
    *v = static_cast<int16_t>(static_cast<uint16_t>(x));
    return Status::OK();
  }
  Status U32(const char* field, uint32_t* v) {
    uint64_t x = 0;
    SQLIFT_RETURN_IF_ERROR(BigEndian(field, 4, &x));
    *v = static_cast<uint32_t>(x);
    return Status::OK();
  }
  Status I32(const char* field, int32_t* v) {
    uint32_t x = 0;
    SQLIFT_RETURN_IF_ERROR(U32(field, &x));
    *v = static_cast<int32_t>(x);
    return Status::OK();
  }
  Status U64(const char* field, uint64_t* v) { return BigEndian(field, 8, v); }

  // A NUL-terminated string.
  Status CString(const char* field, std::string* v) {
    size_t nul = data_.find('\0', pos_);
    if (nul == std::string_view::npos) {
      return Status::Corruption(std::string(field) + " at byte " + std::to_string(pos_) +
                                " has no terminating NUL");
    }
    v->assign(data_.substr(pos_, nul - pos_));
    pos_ = nul + 1;
    return Status::OK();
  }

  // An Int32 length (not negative) and that many bytes.
  Status Counted(const char* field, std::string* v) {
    int32_t n = 0;
    SQLIFT_RETURN_IF_ERROR(I32(field, &n));
    if (n < 0) {
      return Status::Corruption(std::string(field) + " at byte " + std::to_string(pos_ - 4) +
                                " has negative length " + std::to_string(n));
    }
    SQLIFT_RETURN_IF_ERROR(Need(field, static_cast<size_t>(n)));
    v->assign(data_.substr(pos_, static_cast<size_t>(n)));
    pos_ += static_cast<size_t>(n);
    return Status::OK();
  }

  Status Need(const char* field, size_t n) const {
    if (data_.size() - pos_ >= n) return Status::OK();
    return Status::Corruption("message ends inside " + std::string(field) + " (byte " +
                              std::to_string(pos_) + " of " + std::to_string(data_.size()) +
                              ", needs " + std::to_string(n) + " more)");
  }

  Status ExpectEnd() const {
    if (pos_ == data_.size()) return Status::OK();
    return Status::Corruption(std::to_string(data_.size() - pos_) +
                              " unexpected bytes after byte " + std::to_string(pos_));
  }

  size_t pos() const { return pos_; }
  size_t left() const { return data_.size() - pos_; }

 private:
  Status BigEndian(const char* field, size_t n, uint64_t* v) {
    SQLIFT_RETURN_IF_ERROR(Need(field, n));
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i)
      x = (x << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    pos_ += n;
    *v = x;
    return Status::OK();
  }

  std::string_view data_;
  size_t pos_ = 0;
};

std::shared_ptr<const Relation> PgOutputDecoder::FindRelation(uint32_t id) const {
  auto it = relations_.find(id);
  return it == relations_.end() ? nullptr : it->second;
}

Status PgOutputDecoder::Feed(std::string_view msg, Lsn wal_start, Event* out) {
  *out = Event();
  if (!failed_.ok()) return failed_;
  Status st;
  if (msg.empty()) {
    st = Status::Corruption("empty pgoutput message at " + pgchange::FormatLsn(wal_start));
  } else if (const char* name = MessageName(msg[0]); name == nullptr) {
    st = Status::Corruption("unknown pgoutput message type " + Printable(msg[0]) + " at " +
                            pgchange::FormatLsn(wal_start));
  } else {
    Reader r(msg.substr(1));
    st = Dispatch(msg[0], r, wal_start, out);
    if (st.ok()) st = r.ExpectEnd();
    if (!st.ok()) {
      st = st.With(std::string("decode pgoutput ") + name + " message at " +
                   pgchange::FormatLsn(wal_start));
    }
  }
  if (!st.ok()) {
    failed_ = st;
    *out = Event();
  }
  return st;
}

Status PgOutputDecoder::Dispatch(char type, Reader& r, Lsn wal_start, Event* out) {
  switch (type) {
    case 'B':
      return OnBegin(r);
    case 'C':
      return OnCommit(r, out);
    case 'O':
      return OnOrigin(r);
    case 'R':
      return OnRelation(r);
    case 'Y':
      return OnType(r);
    case 'I':
    case 'U':
    case 'D':
      return OnRowChange(type, r);
    case 'T':
      return OnTruncate(r);
    case 'M':
      return OnMessage(r, wal_start, out);
    default:
      return Status::Internal("no handler for a known message type");
  }
}

Status PgOutputDecoder::OnBegin(Reader& r) {
  if (txn_) {
    return Status::Corruption("Begin inside transaction xid " + std::to_string(txn_->xid) +
                              " (nested Begin)");
  }
  pgchange::Transaction txn;
  uint64_t commit_time = 0;
  SQLIFT_RETURN_IF_ERROR(r.U64("final_lsn", &txn.final_lsn));
  SQLIFT_RETURN_IF_ERROR(r.U64("commit timestamp", &commit_time));
  SQLIFT_RETURN_IF_ERROR(r.U32("xid", &txn.xid));
  SQLIFT_RETURN_IF_ERROR(CommitTimeToUnix(commit_time, &txn.commit_time_us));
  txn_ = std::move(txn);
  txn_bytes_ = 0;
  return Status::OK();
}

Status PgOutputDecoder::OnCommit(Reader& r, Event* out) {
  uint8_t flags = 0;
  uint64_t commit_lsn = 0, end_lsn = 0, commit_time = 0;
  SQLIFT_RETURN_IF_ERROR(r.U8("flags", &flags));
  SQLIFT_RETURN_IF_ERROR(r.U64("commit_lsn", &commit_lsn));
  SQLIFT_RETURN_IF_ERROR(r.U64("end_lsn", &end_lsn));
  SQLIFT_RETURN_IF_ERROR(r.U64("commit timestamp", &commit_time));
  if (!txn_) return Status::Corruption("Commit outside a transaction");
  if (commit_lsn != txn_->final_lsn) {
    return Status::Corruption(
        "commit LSN " + pgchange::FormatLsn(commit_lsn) + " differs from Begin's final LSN " +
        pgchange::FormatLsn(txn_->final_lsn) + " (xid " + std::to_string(txn_->xid) + ")");
  }
  txn_->end_lsn = end_lsn;
  SQLIFT_RETURN_IF_ERROR(CommitTimeToUnix(commit_time, &txn_->commit_time_us));
  out->kind = Event::Kind::kTransaction;
  out->txn = std::move(*txn_);
  txn_.reset();
  txn_bytes_ = 0;
  return Status::OK();
}

Status PgOutputDecoder::OnOrigin(Reader& r) {
  uint64_t origin_lsn = 0;
  std::string name;
  SQLIFT_RETURN_IF_ERROR(r.U64("origin commit LSN", &origin_lsn));
  SQLIFT_RETURN_IF_ERROR(r.CString("origin name", &name));
  if (!txn_) return Status::Corruption("Origin \"" + name + "\" outside a transaction");
  txn_->origin = std::move(name);
  return Status::OK();
}

Status PgOutputDecoder::OnRelation(Reader& r) {
  auto rel = std::make_shared<Relation>();
  uint8_t identity = 0;
  int16_t ncols = 0;
  SQLIFT_RETURN_IF_ERROR(r.U32("relation id", &rel->id));
  SQLIFT_RETURN_IF_ERROR(r.CString("namespace", &rel->schema));
  SQLIFT_RETURN_IF_ERROR(r.CString("relation name", &rel->table));
  SQLIFT_RETURN_IF_ERROR(r.U8("replica identity", &identity));
  SQLIFT_RETURN_IF_ERROR(r.I16("column count", &ncols));
  if (ncols < 0) return Status::Corruption("negative column count " + std::to_string(ncols));
  // Each column takes at least 10 bytes: do not reserve what the message cannot hold.
  SQLIFT_RETURN_IF_ERROR(r.Need("columns", static_cast<size_t>(ncols) * 10));
  rel->columns.resize(static_cast<size_t>(ncols));
  for (pgchange::Column& col : rel->columns) {
    uint8_t flags = 0;
    SQLIFT_RETURN_IF_ERROR(r.U8("column flags", &flags));
    SQLIFT_RETURN_IF_ERROR(r.CString("column name", &col.name));
    SQLIFT_RETURN_IF_ERROR(r.U32("column type", &col.type_oid));
    SQLIFT_RETURN_IF_ERROR(r.I32("column type modifier", &col.type_mod));
    col.key = (flags & 1) != 0;
  }
  relations_[rel->id] = std::move(rel);
  return Status::OK();
}

Status PgOutputDecoder::OnType(Reader& r) {
  uint32_t oid = 0;
  std::string schema, name;
  SQLIFT_RETURN_IF_ERROR(r.U32("type id", &oid));
  SQLIFT_RETURN_IF_ERROR(r.CString("type namespace", &schema));
  return r.CString("type name", &name);
}

Status PgOutputDecoder::FindForChange(uint32_t id, std::shared_ptr<const Relation>* out) const {
  if (!txn_) {
    return Status::Corruption("change to relation id " + std::to_string(id) +
                              " outside a transaction (no Begin)");
  }
  *out = FindRelation(id);
  if (*out == nullptr) {
    return Status::Corruption("change to relation id " + std::to_string(id) +
                              ", which no Relation message described");
  }
  return Status::OK();
}

Status PgOutputDecoder::OnRowChange(char type, Reader& r) {
  uint32_t id = 0;
  uint8_t marker = 0;
  Change change;
  change.op = type == 'I'   ? Change::Op::kInsert
              : type == 'U' ? Change::Op::kUpdate
                            : Change::Op::kDelete;
  SQLIFT_RETURN_IF_ERROR(r.U32("relation id", &id));
  SQLIFT_RETURN_IF_ERROR(FindForChange(id, &change.rel));
  SQLIFT_RETURN_IF_ERROR(r.U8("tuple marker", &marker));
  if (type != 'I' && (marker == 'K' || marker == 'O')) {
    SQLIFT_RETURN_IF_ERROR(ReadTuple(r, *change.rel, "old tuple", &change.old_tuple));
    if (type == 'U') SQLIFT_RETURN_IF_ERROR(r.U8("new tuple marker", &marker));
  } else if (type == 'D') {
    return Status::Corruption("Delete has tuple marker " + Printable(static_cast<char>(marker)) +
                              ", expected 'K' or 'O'");
  }
  if (type != 'D') {
    if (marker != 'N') {
      return Status::Corruption("tuple marker " + Printable(static_cast<char>(marker)) +
                                " where the new tuple ('N') belongs");
    }
    SQLIFT_RETURN_IF_ERROR(ReadTuple(r, *change.rel, "new tuple", &change.new_tuple));
  }
  return AddChange(std::move(change));
}

Status PgOutputDecoder::OnTruncate(Reader& r) {
  int32_t n = 0;
  uint8_t options = 0;
  SQLIFT_RETURN_IF_ERROR(r.I32("relation count", &n));
  SQLIFT_RETURN_IF_ERROR(r.U8("truncate options", &options));
  if (n < 0) return Status::Corruption("negative relation count " + std::to_string(n));
  SQLIFT_RETURN_IF_ERROR(r.Need("relation ids", static_cast<size_t>(n) * 4));
  for (int32_t i = 0; i < n; ++i) {
    uint32_t id = 0;
    SQLIFT_RETURN_IF_ERROR(r.U32("relation id", &id));
    Change change;
    change.op = Change::Op::kTruncate;
    SQLIFT_RETURN_IF_ERROR(FindForChange(id, &change.rel));
    SQLIFT_RETURN_IF_ERROR(AddChange(std::move(change)));
  }
  return Status::OK();
}

Status PgOutputDecoder::OnMessage(Reader& r, Lsn wal_start, Event* out) {
  uint8_t flags = 0;
  uint64_t lsn = 0;
  std::string prefix, content;
  SQLIFT_RETURN_IF_ERROR(r.U8("flags", &flags));
  SQLIFT_RETURN_IF_ERROR(r.U64("message LSN", &lsn));
  SQLIFT_RETURN_IF_ERROR(r.CString("prefix", &prefix));
  SQLIFT_RETURN_IF_ERROR(r.Counted("content", &content));
  const bool transactional = (flags & 1) != 0;
  if (transactional != txn_.has_value()) {
    return Status::Corruption(std::string(transactional ? "transactional" : "non-transactional") +
                              " message \"" + prefix + "\" " +
                              (transactional ? "outside" : "inside") + " a transaction");
  }
  if (transactional) return Status::OK();  // not part of a Transaction: skipped
  out->kind = Event::Kind::kMarker;
  out->lsn = wal_start;
  out->prefix = std::move(prefix);
  out->content = std::move(content);
  return Status::OK();
}

Status PgOutputDecoder::ReadTuple(Reader& r, const Relation& rel, const char* which,
                                  std::vector<Datum>* out) {
  int16_t n = 0;
  SQLIFT_RETURN_IF_ERROR(r.I16("tuple column count", &n));
  if (n < 0 || static_cast<size_t>(n) != rel.columns.size()) {
    return Status::Corruption(std::string(which) + " has " + std::to_string(n) +
                              " columns, relation " + Describe(rel) + " has " +
                              std::to_string(rel.columns.size()));
  }
  out->resize(static_cast<size_t>(n));
  for (size_t i = 0; i < out->size(); ++i) {
    Datum& d = (*out)[i];
    uint8_t kind = 0;
    SQLIFT_RETURN_IF_ERROR(r.U8("value kind", &kind));
    switch (kind) {
      case 'n':
        d.kind = Datum::Kind::kNull;
        break;
      case 'u':
        d.kind = Datum::Kind::kUnchanged;
        break;
      case 't':
        d.kind = Datum::Kind::kText;
        SQLIFT_RETURN_IF_ERROR(r.Counted("text value", &d.text));
        break;
      case 'b':
        return Status::Corruption("binary value for column " + rel.columns[i].name + " of " +
                                  Describe(rel) + ": only text values are supported");
      default:
        return Status::Corruption("unknown value kind " + Printable(static_cast<char>(kind)) +
                                  " for column " + rel.columns[i].name + " of " + Describe(rel));
    }
  }
  return Status::OK();
}

Status PgOutputDecoder::AddChange(Change change) {
  size_t bytes = kChangeOverhead;
  for (const auto* tuple : {&change.old_tuple, &change.new_tuple}) {
    for (const Datum& d : *tuple)
      bytes += kDatumOverhead + d.text.size();
  }
  txn_bytes_ += bytes;
  if (txn_bytes_ > options_.max_transaction_bytes) {
    return Status::FailedPrecondition(
        "transaction xid " + std::to_string(txn_->xid) + " needs more than " +
        std::to_string(options_.max_transaction_bytes) +
        " bytes in memory (max_transaction_bytes); raise the limit to replicate it");
  }
  txn_->changes.push_back(std::move(change));
  return Status::OK();
}

}  // namespace sqlift
