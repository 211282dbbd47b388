// ChunkEncoder: builds the bytes of one SnapshotChunk frame (proto/wire/frame_codec.h) straight
// from SQLite rows, without a wire::Value per value: the snapshot's reading thread encodes
// each row as it steps, and the shipper writes the finished frame as it is.
//
//   ChunkEncoder enc;
//   enc.AddRow(stmt, ncols);                  // for each row of the chunk
//   std::string frame = enc.Finish(header);   // header: every SnapshotChunk field but rows
//
// The bytes are what protobuf's parser reads as the message SqliteValueToWire would have
// filled (wire_value.h): each Value and Row is encoded exactly as protobuf serializes it; the
// chunk's rows come before its other fields, which protobuf reads in any order.
// chunk_encoder_test.cc checks both against protobuf itself.
//
// Ownership: owns its buffer, kept from one chunk to the next.
// Thread safety: none; one thread uses an encoder.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "proto/wire/sqlift.pb.h"

namespace sqlift {

class ChunkEncoder {
 public:
  ChunkEncoder();

  // Appends the current row of `stmt` (its first `ncols` columns) as one of the chunk's rows.
  void AddRow(sqlite3_stmt* stmt, int ncols);

  size_t rows() const { return rows_; }
  // The size the snapshot has always cut chunks at: 2 bytes a row, 3 a value, plus the text's
  // or blob's length, or 8 for any other value.
  size_t approx_bytes() const { return approx_bytes_; }

  // The whole frame (4-byte length, then Frame{snapshot_chunk}) of the rows added since the
  // last Finish and the fields of `header` (whose rows must be empty). Starts the next chunk.
  std::string Finish(const wire::SnapshotChunk& header);

  // The Row message of one row, as protobuf would serialize it (for tests).
  static std::string EncodeRow(sqlite3_stmt* stmt, int ncols);

 private:
  // One value as read from SQLite: its type, its value, and the size of its Value message.
  struct Cell {
    int type = SQLITE_NULL;
    int64_t integer = 0;
    double real = 0;
    const char* data = nullptr;  // text or blob; SQLite's, valid until the next step
    size_t size = 0;
    size_t encoded = 0;
  };
  void Read(sqlite3_stmt* stmt, int ncols);
  size_t RowBytes() const;            // of the Row message of cells_
  uint8_t* PutRow(uint8_t* p) const;  // writes it at p; returns its end
  static uint8_t* PutValue(const Cell& cell, uint8_t* p);

  std::string buf_;          // room for the frame's prefix, then the rows' bytes
  std::vector<Cell> cells_;  // the row being added
  size_t rows_ = 0;
  size_t approx_bytes_ = 0;
};

}  // namespace sqlift
