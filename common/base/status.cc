#include "common/base/status.h"

namespace sqlift {

const char* Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kNotFound:
      return "not found";
    case Code::kIOError:
      return "IO error";
    case Code::kCorruption:
      return "corruption";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kAborted:
      return "aborted";
    case Code::kFailedPrecondition:
      return "failed precondition";
    case Code::kNotImplemented:
      return "not implemented";
    case Code::kInternal:
      return "internal error";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out;
  if (!context_.empty()) {
    out = context_;
    out += ": ";
  }
  out += CodeName(code_);
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::With(std::string_view context) const {
  if (ok() || context.empty()) return *this;
  Status s = *this;
  s.context_ = context_.empty() ? std::string(context) : std::string(context) + ": " + context_;
  return s;
}

}  // namespace sqlift
