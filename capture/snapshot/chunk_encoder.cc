// ChunkEncoder: SQLite rows to SnapshotChunk frame bytes (see header).
#include "capture/snapshot/chunk_encoder.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstring>

namespace sqlift {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;

// Tags (field number << 3 | wire type) of the fields written here.
constexpr uint8_t kValueNull = (1 << 3) | 2;     // Value.null, an empty message
constexpr uint8_t kValueInteger = (2 << 3) | 0;  // Value.integer, zigzag varint
constexpr uint8_t kValueReal = (3 << 3) | 1;     // Value.real, fixed64
constexpr uint8_t kValueText = (4 << 3) | 2;     // Value.text, bytes
constexpr uint8_t kValueBlob = (5 << 3) | 2;     // Value.blob, bytes
constexpr uint8_t kRowValue = (1 << 3) | 2;      // Row.values
constexpr uint8_t kChunkRow = (3 << 3) | 2;      // SnapshotChunk.rows
constexpr uint8_t kFrameChunk = (2 << 3) | 2;    // Frame.snapshot_chunk

// Room kept before the rows for the frame's length, Frame's tag and the chunk's length.
constexpr size_t kPrefix = 4 + 1 + 10;

size_t VarintSize(uint64_t v) {
  return CodedOutputStream::VarintSize64(v);
}

uint8_t* PutVarint(uint64_t v, uint8_t* p) {
  return CodedOutputStream::WriteVarint64ToArray(v, p);
}

uint8_t* PutBytes(const char* data, size_t n, uint8_t* p) {
  if (n > 0) std::memcpy(p, data, n);
  return p + n;
}

}  // namespace

ChunkEncoder::ChunkEncoder() {
  buf_.assign(kPrefix, '\0');
}

// Each value as SqliteValueToWire reads it, and the size of its Value message.
void ChunkEncoder::Read(sqlite3_stmt* stmt, int ncols) {
  cells_.resize(static_cast<size_t>(ncols));
  approx_bytes_ += 2;
  for (int c = 0; c < ncols; ++c) {
    Cell& cell = cells_[static_cast<size_t>(c)];
    sqlite3_value* v = sqlite3_column_value(stmt, c);
    cell.type = sqlite3_value_type(v);
    switch (cell.type) {
      case SQLITE_INTEGER:
        cell.integer = sqlite3_value_int64(v);
        cell.encoded = 1 + VarintSize(WireFormatLite::ZigZagEncode64(cell.integer));
        break;
      case SQLITE_FLOAT:
        cell.real = sqlite3_value_double(v);
        cell.encoded = 1 + 8;
        break;
      case SQLITE_TEXT:
        cell.data = reinterpret_cast<const char*>(sqlite3_value_text(v));
        cell.size = static_cast<size_t>(sqlite3_value_bytes(v));
        cell.encoded = 1 + VarintSize(cell.size) + cell.size;
        break;
      case SQLITE_BLOB:
        cell.data = static_cast<const char*>(sqlite3_value_blob(v));
        cell.size = static_cast<size_t>(sqlite3_value_bytes(v));
        cell.encoded = 1 + VarintSize(cell.size) + cell.size;
        break;
      default:
        cell.type = SQLITE_NULL;
        cell.encoded = 2;
        break;
    }
    const bool bytes = cell.type == SQLITE_TEXT || cell.type == SQLITE_BLOB;
    approx_bytes_ += 3 + (bytes ? cell.size : 8);
  }
}

uint8_t* ChunkEncoder::PutValue(const Cell& cell, uint8_t* p) {
  switch (cell.type) {
    case SQLITE_INTEGER:
      *p++ = kValueInteger;
      return PutVarint(WireFormatLite::ZigZagEncode64(cell.integer), p);
    case SQLITE_FLOAT:
      *p++ = kValueReal;
      return CodedOutputStream::WriteLittleEndian64ToArray(WireFormatLite::EncodeDouble(cell.real),
                                                           p);
    case SQLITE_TEXT:
    case SQLITE_BLOB:
      *p++ = cell.type == SQLITE_TEXT ? kValueText : kValueBlob;
      p = PutVarint(cell.size, p);
      return PutBytes(cell.data, cell.size, p);
    default:
      *p++ = kValueNull;
      *p++ = 0;
      return p;
  }
}

size_t ChunkEncoder::RowBytes() const {
  size_t n = 0;
  for (const Cell& cell : cells_)
    n += 1 + VarintSize(cell.encoded) + cell.encoded;
  return n;
}

uint8_t* ChunkEncoder::PutRow(uint8_t* p) const {
  for (const Cell& cell : cells_) {
    *p++ = kRowValue;
    p = PutVarint(cell.encoded, p);
    p = PutValue(cell, p);
  }
  return p;
}

void ChunkEncoder::AddRow(sqlite3_stmt* stmt, int ncols) {
  Read(stmt, ncols);
  const size_t row_bytes = RowBytes();
  const size_t start = buf_.size();
  buf_.resize(start + 1 + VarintSize(row_bytes) + row_bytes);
  auto* p = reinterpret_cast<uint8_t*>(buf_.data() + start);
  *p++ = kChunkRow;
  PutRow(PutVarint(row_bytes, p));
  ++rows_;
}

std::string ChunkEncoder::Finish(const wire::SnapshotChunk& header) {
  const std::string fields = header.SerializeAsString();
  const size_t chunk_bytes = buf_.size() - kPrefix + fields.size();
  const size_t body_bytes = 1 + VarintSize(chunk_bytes) + chunk_bytes;
  // The prefix ends where the rows begin; what it does not use is cut off the front.
  const size_t prefix = 4 + 1 + VarintSize(chunk_bytes);
  auto* p = reinterpret_cast<uint8_t*>(buf_.data() + kPrefix - prefix);
  // Over 4 GiB the header is wrong, but such a frame is over every maximum and never sent.
  const auto length = static_cast<uint32_t>(body_bytes);
  *p++ = static_cast<uint8_t>(length >> 24);
  *p++ = static_cast<uint8_t>(length >> 16);
  *p++ = static_cast<uint8_t>(length >> 8);
  *p++ = static_cast<uint8_t>(length);
  *p++ = kFrameChunk;
  PutVarint(chunk_bytes, p);
  buf_ += fields;
  buf_.erase(0, kPrefix - prefix);
  std::string frame = std::move(buf_);
  buf_.reserve(frame.capacity());  // the next chunk is likely as large
  buf_.assign(kPrefix, '\0');
  rows_ = 0;
  approx_bytes_ = 0;
  return frame;
}

std::string ChunkEncoder::EncodeRow(sqlite3_stmt* stmt, int ncols) {
  ChunkEncoder e;
  e.Read(stmt, ncols);
  std::string row(e.RowBytes(), '\0');
  e.PutRow(reinterpret_cast<uint8_t*>(row.data()));
  return row;
}

}  // namespace sqlift
