#include "apply/pg_sink/copy_loader.h"

#include <fmt/format.h>

#include "apply/translate/value_encoder.h"
#include "proto/wire/chunk_rows.h"
#include "proto/wire/value_text.h"

namespace sqlift {

namespace {

// Binary COPY's file header (signature, flags, no extension) and trailer (field count -1).
constexpr std::string_view kBinaryHeader("PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
constexpr std::string_view kBinaryTrailer("\377\377", 2);

}  // namespace

CopyLoader::CopyLoader(PgConnection& conn, PgConnection& dead_letters, const TablePlan& table,
                       std::string schema, CopyLoaderOptions options)
    : conn_(conn),
      dead_letters_(dead_letters),
      table_(table),
      schema_(std::move(schema)),
      options_(std::move(options)) {
  binary_ = options_.binary;
  for (const ColumnPlan& c : table_.columns)
    binary_ = binary_ && HasBinaryForm(c.mapping.type);
}

Status CopyLoader::Begin() {
  std::vector<std::string> cols;
  for (const ColumnPlan& c : table_.columns)
    cols.push_back(QuoteIdentifier(c.pg_name));
  SQLIFT_RETURN_IF_ERROR(
      conn_.Exec(fmt::format("COPY {} ({}) FROM STDIN{}", QuoteQualified(schema_, table_.pg_name),
                             fmt::join(cols, ", "), binary_ ? " (FORMAT binary)" : "")));
  in_copy_ = true;
  if (binary_) buffer_.assign(kBinaryHeader);
  return Status::OK();
}

Status CopyLoader::AddRows(const std::vector<wire::Row>& rows) {
  SQLIFT_ASSIGN_OR_RETURN(Encoded e, EncodeRows(rows));
  return Submit(std::move(e));
}

Status CopyLoader::AddRows(const google::protobuf::RepeatedPtrField<wire::Row>& rows) {
  SQLIFT_ASSIGN_OR_RETURN(Encoded e, EncodeAll(rows));
  return Submit(std::move(e));
}

Status CopyLoader::AddSerializedRows(const std::vector<std::string_view>& rows) {
  // Encoded straight after what waits to be sent: Submit moves the buffer back, so its memory
  // is kept from chunk to chunk and nothing is copied.
  Encoded out;
  out.data = std::move(buffer_);
  buffer_.clear();
  size_t bytes = 0;
  for (std::string_view row : rows)
    bytes += row.size();
  out.data.reserve(out.data.size() + bytes + bytes / 2);  // fields are about the values' size
  for (std::string_view row : rows) {
    if (EncodeRowInPlace(row, &out)) continue;
    SQLIFT_RETURN_IF_ERROR(proto::ReadRow(row, &scratch_).With("copy into " + table_.source_name));
    SQLIFT_RETURN_IF_ERROR(EncodeRow(scratch_, &out));
    // With kStop nothing after the first failure will be sent.
    if (!out.failures.empty() && options_.on_error == OnError::kStop) break;
  }
  return Submit(std::move(out));
}

Result<CopyLoader::Encoded> CopyLoader::EncodeRows(const std::vector<wire::Row>& rows) const {
  return EncodeAll(rows);
}

template <typename Rows>
Result<CopyLoader::Encoded> CopyLoader::EncodeAll(const Rows& rows) const {
  Encoded out;
  // Grows at most once, typically.
  out.data.reserve(static_cast<size_t>(rows.size()) * table_.columns.size() * 16);
  for (const wire::Row& row : rows) {
    SQLIFT_RETURN_IF_ERROR(EncodeRow(row, &out));
    // With kStop nothing after the first failure will be sent.
    if (!out.failures.empty() && options_.on_error == OnError::kStop) break;
  }
  return out;
}

Status CopyLoader::EncodeRow(const wire::Row& row, Encoded* out) const {
  if (static_cast<size_t>(row.values_size()) != table_.columns.size()) {
    return Status::InvalidArgument(fmt::format("a row of {} has {} values for {} columns",
                                               table_.source_name, row.values_size(),
                                               table_.columns.size()));
  }
  const size_t start = out->data.size();
  if (binary_) {  // the tuple's field count, big-endian int16
    out->data.push_back(static_cast<char>(table_.columns.size() >> 8));
    out->data.push_back(static_cast<char>(table_.columns.size() & 0xFF));
  }
  for (size_t i = 0; i < table_.columns.size(); ++i) {
    if (i > 0 && !binary_) out->data.push_back('\t');
    const wire::Value& v = row.values(static_cast<int>(i));
    const PgType& type = table_.columns[i].mapping.type;
    Status st =
        binary_ ? AppendBinaryField(v, type, &out->data) : AppendCopyField(v, type, &out->data);
    if (!st.ok()) {
      out->data.resize(start);  // the row's fields encoded so far are taken back
      out->failures.push_back(Letter(row, i, st));
      return Status::OK();
    }
  }
  if (!binary_) out->data.push_back('\n');
  ++out->rows;
  return Status::OK();
}

// A binary row encoded from its serialized values without making a wire::Row: a value
// AppendBinaryFieldFast takes is encoded where it lies, any other is made a wire::Value alone.
// False, with nothing appended, when the row needs EncodeRow: another encoding of a Row, a
// count of values that differs, a value that does not fit (EncodeRow then dead-letters it).
bool CopyLoader::EncodeRowInPlace(std::string_view row, Encoded* out) {
  if (!binary_ || !proto::ReadRowRefs(row, &refs_) || refs_.size() != table_.columns.size()) {
    return false;
  }
  const size_t start = out->data.size();
  out->data.push_back(static_cast<char>(table_.columns.size() >> 8));
  out->data.push_back(static_cast<char>(table_.columns.size() & 0xFF));
  for (size_t i = 0; i < refs_.size(); ++i) {
    const PgType& type = table_.columns[i].mapping.type;
    if (AppendBinaryFieldFast(refs_[i], type, &out->data)) continue;
    proto::CopyValueRef(refs_[i], &value_scratch_);
    if (!AppendBinaryField(value_scratch_, type, &out->data).ok()) {
      out->data.resize(start);
      return false;
    }
  }
  ++out->rows;
  return true;
}

std::string CopyLoader::KeyOf(const wire::Row& row) const {
  std::vector<std::string> parts;
  for (size_t i : options_.key_columns)
    parts.push_back(DescribeValue(row.values(static_cast<int>(i))));
  return fmt::format("({})", fmt::join(parts, ", "));
}

DeadLetter CopyLoader::Letter(const wire::Row& row, size_t column, const Status& why) const {
  DeadLetter d;
  d.source = options_.source;
  d.seq = options_.seq;
  d.table = table_.source_name;
  d.key = KeyOf(row);
  d.column = table_.columns[column].source_name;
  d.value = DescribeValue(row.values(static_cast<int>(column)));
  d.error = why.message();
  return d;
}

Status CopyLoader::Submit(Encoded e) {
  // Dead letters first: they are written even when the copy then stops (invariant 8).
  for (const DeadLetter& d : e.failures) {
    SQLIFT_RETURN_IF_ERROR(InsertDeadLetter(dead_letters_, d));
    ++stats_.dead_letters;
    if (options_.on_error == OnError::kStop) {
      return Status::InvalidArgument(fmt::format("table {} key {} column {} value {}: {}", d.table,
                                                 *d.key, *d.column, *d.value, d.error));
    }
  }
  if (buffer_.empty()) {
    buffer_ = std::move(e.data);
  } else {
    buffer_ += e.data;
  }
  stats_.rows += e.rows;
  return buffer_.size() >= options_.send_bytes ? Send() : Status::OK();
}

Status CopyLoader::Send() {
  if (buffer_.empty()) return Status::OK();
  Status st = conn_.PutCopyData(buffer_);
  buffer_.clear();
  return st.ok() ? st : st.With("copy into " + table_.source_name);
}

Status CopyLoader::Finish() {
  if (binary_) buffer_.append(kBinaryTrailer);
  SQLIFT_RETURN_IF_ERROR(Send());
  in_copy_ = false;
  return conn_.PutCopyEnd().With("copy into " + table_.source_name);
}

void CopyLoader::Abort(const std::string& reason) {
  if (!in_copy_) return;
  in_copy_ = false;
  buffer_.clear();
  // The COPY ends with PostgreSQL's "COPY from stdin failed: <reason>"; that error is the
  // expected outcome of an abort, not news for the caller.
  (void)conn_.PutCopyEnd(reason.empty() ? "aborted" : reason);
}

}  // namespace sqlift
