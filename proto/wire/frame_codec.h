// Framing of the sqlift wire protocol (the format itself is in proto/sqlift.proto).
//
// A frame is a 4-byte big-endian unsigned length N, then N bytes of one serialized
// sqlift::wire::Frame. N is never 0: a Frame always has a body. A receiver refuses a frame
// whose length is over its configured maximum as soon as it has read the 4 header bytes,
// without reading or allocating the body.
//
// Two ways to read frames:
//   - a reader that controls its reads (Asio): read 4 bytes, ParseFrameHeader(), read exactly
//     N bytes, ParseFrameBody();
//   - a reader handed arbitrary pieces of a stream: FrameDecoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/result.h"
#include "common/base/status.h"
#include "proto/wire/sqlift.pb.h"

namespace sqlift::proto {

// Sent in wire::Hello; bumped on every change that an older peer would misread (see README).
inline constexpr uint32_t kProtocolVersion = 3;
inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kDefaultMaxFrameBytes = size_t{64} << 20;  // 64 MiB
// Protobuf cannot parse a message of 2 GiB or more: a max_frame_bytes above this limit, in
// any function below, is treated as this limit.
inline constexpr size_t kFrameBytesLimit = 0x7fffffff;

// Appends the header and body of `frame` to *out. InvalidArgument, with *out unchanged, when
// no body is set or the body would be longer than max_frame_bytes.
[[nodiscard]] Status EncodeFrame(const wire::Frame& frame, size_t max_frame_bytes,
                                 std::string* out);

// Returns the body length N announced by the 4 bytes at header4. Corruption when N is 0 or
// over max_frame_bytes; the message gives the claimed length and the maximum.
[[nodiscard]] Result<uint32_t> ParseFrameHeader(const unsigned char* header4,
                                                size_t max_frame_bytes);

// Parses one frame body (the N bytes after the header) into *out. Corruption when the bytes
// are not a Frame or the Frame has no body case set (for example one sent by a newer peer).
[[nodiscard]] Status ParseFrameBody(std::string_view body, wire::Frame* out);

// FrameDecoder cuts a byte stream into frames, whatever the sizes of the pieces fed to it.
//
//   FrameDecoder decoder(kDefaultMaxFrameBytes);
//   SQLIFT_RETURN_IF_ERROR(decoder.Feed(bytes_read));
//   wire::Frame frame;
//   while (true) {
//     SQLIFT_ASSIGN_OR_RETURN(bool got, decoder.Next(&frame));
//     if (!got) break;
//     ... handle frame ...
//   }
//   at end of stream: SQLIFT_RETURN_IF_ERROR(decoder.Finish());
//
// Every header is checked as soon as its 4 bytes arrive. The first error (a length of 0 or
// over the maximum, or a body that does not parse) is permanent: every later call returns
// it, and the decoder drops its buffer. Error messages give the stream offset of the frame.
// Memory grows only with bytes actually fed, never with a length a header claims.
//
// Thread safety: not thread-safe; use one decoder per connection from one thread at a time.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_bytes);

  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Appends the next bytes of the stream. Fails when a header among them is bad; frames fed
  // in the same call before that header are then lost with the connection.
  [[nodiscard]] Status Feed(std::string_view bytes);

  // true: one frame was decoded into *out and consumed. false: a whole frame is not buffered
  // yet (*out untouched). Error: the stream is malformed (*out then holds no useful frame).
  [[nodiscard]] Result<bool> Next(wire::Frame* out);

  // To be called at the end of the stream. Corruption ("truncated frame ...: have X of Y
  // bytes") when part of a frame is buffered; FailedPrecondition when a whole frame is still
  // buffered (Next was not called until it returned false).
  [[nodiscard]] Status Finish() const;

  // Bytes fed but not yet consumed by Next.
  size_t buffered_bytes() const { return buf_.size() - pos_; }

 private:
  Status Fail(Status status);
  Status CheckHeaderAtScan();
  void Compact();

  const size_t max_frame_bytes_;
  std::string buf_;
  size_t pos_ = 0;         // start of the first unconsumed frame in buf_
  size_t scan_ = 0;        // start, in buf_, of the first frame whose header is not checked
  uint64_t consumed_ = 0;  // stream offset of buf_[pos_]
  Status status_;          // the first error; OK while the stream is good
};

}  // namespace sqlift::proto
