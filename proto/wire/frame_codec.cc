#include "proto/wire/frame_codec.h"

#include <google/protobuf/unknown_field_set.h>

#include <algorithm>
#include <string>

namespace sqlift::proto {
namespace {

// A buffer that held a frame this large is released once it is empty again.
constexpr size_t kKeepCapacity = size_t{1} << 20;

size_t EffectiveMax(size_t max_frame_bytes) {
  return std::min(max_frame_bytes, kFrameBytesLimit);
}

uint32_t DecodeBigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void EncodeBigEndian32(uint32_t v, unsigned char* p) {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

const unsigned char* Bytes(const std::string& s, size_t offset) {
  return reinterpret_cast<const unsigned char*>(s.data()) + offset;
}

// "change_batch", "hello", ...: the name of the body case that is set.
std::string BodyName(const wire::Frame& frame) {
  const auto* field = wire::Frame::descriptor()->FindFieldByNumber(frame.body_case());
  return field != nullptr ? field->name() : "unknown";
}

// " (unknown field numbers: 42, 43)" when the frame carries fields this build does not know.
std::string DescribeUnknownFields(const wire::Frame& frame) {
  const google::protobuf::UnknownFieldSet& unknown = frame.GetReflection()->GetUnknownFields(frame);
  if (unknown.empty()) return "";
  std::string text = " (unknown field numbers:";
  for (int i = 0; i < unknown.field_count() && i < 8; ++i) {
    text += (i == 0 ? " " : ", ") + std::to_string(unknown.field(i).number());
  }
  return text + "; sent by a newer protocol version?)";
}

std::string AtOffset(uint64_t offset) {
  return "frame at stream offset " + std::to_string(offset);
}

}  // namespace

Status EncodeFrame(const wire::Frame& frame, size_t max_frame_bytes, std::string* out) {
  if (frame.body_case() == wire::Frame::BODY_NOT_SET) {
    return Status::InvalidArgument("encode frame: the frame has no body set");
  }
  const size_t max = EffectiveMax(max_frame_bytes);
  const size_t body_bytes = frame.ByteSizeLong();
  if (body_bytes > max) {
    return Status::InvalidArgument("encode " + BodyName(frame) + " frame: body of " +
                                   std::to_string(body_bytes) + " bytes is over the maximum of " +
                                   std::to_string(max) + " bytes");
  }
  const size_t start = out->size();
  out->resize(start + kFrameHeaderBytes + body_bytes);
  auto* header = reinterpret_cast<unsigned char*>(out->data() + start);
  EncodeBigEndian32(static_cast<uint32_t>(body_bytes), header);
  const uint8_t* end = frame.SerializeWithCachedSizesToArray(header + kFrameHeaderBytes);
  if (end != header + kFrameHeaderBytes + body_bytes) {
    out->resize(start);
    return Status::Internal("encode " + BodyName(frame) + " frame: serialized size changed");
  }
  return Status::OK();
}

Result<uint32_t> ParseFrameHeader(const unsigned char* header4, size_t max_frame_bytes) {
  const uint32_t length = DecodeBigEndian32(header4);
  const size_t max = EffectiveMax(max_frame_bytes);
  if (length == 0) {
    return Status::Corruption("frame length is 0, but a frame always has a body");
  }
  if (length > max) {
    return Status::Corruption("frame claims " + std::to_string(length) +
                              " bytes, over the maximum of " + std::to_string(max) + " bytes");
  }
  return length;
}

Status ParseFrameBody(std::string_view body, wire::Frame* out) {
  auto bad = [&body](std::string_view what) {
    return Status::Corruption("frame body of " + std::to_string(body.size()) + " bytes " +
                              std::string(what));
  };
  if (body.size() > kFrameBytesLimit) return bad("is over protobuf's 2 GiB limit");
  if (!out->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return bad("is not a valid sqlift.wire.Frame");
  }
  if (out->body_case() == wire::Frame::BODY_NOT_SET) {
    return bad("has no body case set" + DescribeUnknownFields(*out));
  }
  return Status::OK();
}

FrameDecoder::FrameDecoder(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

Status FrameDecoder::Feed(std::string_view bytes) {
  if (!status_.ok()) return status_;
  Compact();
  // Append in pieces that end at frame boundaries, so that each header is checked before a
  // single byte of what follows it is buffered.
  while (!bytes.empty()) {
    const size_t want = buf_.size() < scan_ ? scan_ - buf_.size()  // rest of a body
                                            : scan_ + kFrameHeaderBytes - buf_.size();
    const size_t take = std::min(want, bytes.size());
    buf_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (buf_.size() == scan_ + kFrameHeaderBytes) SQLIFT_RETURN_IF_ERROR(CheckHeaderAtScan());
  }
  return Status::OK();
}

Status FrameDecoder::CheckHeaderAtScan() {
  Result<uint32_t> length = ParseFrameHeader(Bytes(buf_, scan_), max_frame_bytes_);
  if (!length.ok()) return Fail(length.status().With(AtOffset(consumed_ + (scan_ - pos_))));
  scan_ += kFrameHeaderBytes + *length;
  return Status::OK();
}

Result<bool> FrameDecoder::Next(wire::Frame* out) {
  if (!status_.ok()) return status_;
  const size_t available = buffered_bytes();
  if (available < kFrameHeaderBytes) return false;
  // Feed checked this header against the maximum when its last byte arrived.
  const uint32_t length = DecodeBigEndian32(Bytes(buf_, pos_));
  if (available - kFrameHeaderBytes < length) return false;
  std::string_view body(buf_.data() + pos_ + kFrameHeaderBytes, length);
  Status parsed = ParseFrameBody(body, out);
  if (!parsed.ok()) return Fail(parsed.With(AtOffset(consumed_)));
  pos_ += kFrameHeaderBytes + length;
  consumed_ += kFrameHeaderBytes + length;
  return true;
}

Status FrameDecoder::Finish() const {
  if (!status_.ok()) return status_;
  const size_t available = buffered_bytes();
  if (available == 0) return Status::OK();
  const std::string where =
      "truncated " + AtOffset(consumed_) + ": have " + std::to_string(available) + " of ";
  if (available < kFrameHeaderBytes) {
    return Status::Corruption(where + std::to_string(kFrameHeaderBytes) + " header bytes");
  }
  const uint64_t total = kFrameHeaderBytes + uint64_t{DecodeBigEndian32(Bytes(buf_, pos_))};
  if (available >= total) {
    return Status::FailedPrecondition("end of stream with a whole " + AtOffset(consumed_) +
                                      " not yet taken by Next");
  }
  return Status::Corruption(where + std::to_string(total) + " bytes");
}

Status FrameDecoder::Fail(Status status) {
  status_ = std::move(status);
  std::string().swap(buf_);
  pos_ = 0;
  scan_ = 0;
  return status_;
}

// Drops consumed bytes when that costs no more than the bytes dropped (so the total cost is
// linear in the stream length), and gives back the memory of a large frame once it is gone.
void FrameDecoder::Compact() {
  if (pos_ == 0 || buffered_bytes() > pos_) return;
  buf_.erase(0, pos_);
  scan_ -= pos_;
  pos_ = 0;
  if (buf_.empty() && buf_.capacity() > kKeepCapacity) std::string().swap(buf_);
}

}  // namespace sqlift::proto
