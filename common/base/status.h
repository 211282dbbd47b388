// Status: the outcome of an operation that can fail, in the style of leveldb::Status.
//
// Every fallible function in sqlift returns a Status or a Result<T> (see result.h). Both are
// [[nodiscard]]: a caller must look at them. The message names the operation and the object
// ("append seq 8812 to log: IO error: No space left on device"), and the code tells the caller
// whether retrying can help (Retryable()) or the data itself is damaged (kCorruption).
//
// Thread safety: a Status is a value; distinct objects may be used from distinct threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace sqlift {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     // the caller's input is wrong; retrying the same call cannot help
    kNotFound,            // the object asked for does not exist
    kIOError,             // the file system or a device failed; may succeed later
    kCorruption,          // stored or received data is damaged; never retry blindly
    kUnavailable,         // a peer or server is unreachable or busy; retry with back-off
    kAborted,             // stopped on purpose (shutdown, timeout, fence); may be retried
    kFailedPrecondition,  // the system is not in the state the operation needs
    kNotImplemented,
    kInternal,  // a bug in sqlift
  };

  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string_view msg) { return {Code::kInvalidArgument, msg}; }
  static Status NotFound(std::string_view msg) { return {Code::kNotFound, msg}; }
  static Status IOError(std::string_view msg) { return {Code::kIOError, msg}; }
  static Status Corruption(std::string_view msg) { return {Code::kCorruption, msg}; }
  static Status Unavailable(std::string_view msg) { return {Code::kUnavailable, msg}; }
  static Status Aborted(std::string_view msg) { return {Code::kAborted, msg}; }
  static Status FailedPrecondition(std::string_view msg) {
    return {Code::kFailedPrecondition, msg};
  }
  static Status NotImplemented(std::string_view msg) { return {Code::kNotImplemented, msg}; }
  static Status Internal(std::string_view msg) { return {Code::kInternal, msg}; }
  // A status of a code decided at run time (mapping another library's codes, or rewording an
  // error while keeping its code). kOk is not an error and becomes kInternal.
  static Status FromCode(Code code, std::string_view msg) {
    return {code == Code::kOk ? Code::kInternal : code, msg};
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // The bare message, without code or context.
  const std::string& message() const { return message_; }
  // What the callers were doing, outermost first ("open log: read meta"); may be empty.
  const std::string& context() const { return context_; }

  // True when the same operation may succeed if tried again later (after a reconnect,
  // a back-off, or once the disk has room). Corruption and invalid input are never retryable.
  bool Retryable() const {
    return code_ == Code::kIOError || code_ == Code::kUnavailable || code_ == Code::kAborted;
  }

  // Returns a copy that also says what the caller was doing; the code is kept:
  // Status::IOError("disk full").With("append seq 7").ToString()
  //   == "append seq 7: IO error: disk full".
  Status With(std::string_view context) const;

  // "OK", or "[<context>: ]<code name>: <message>".
  std::string ToString() const;

  static const char* CodeName(Code code);

 private:
  Status(Code code, std::string_view msg) : code_(code), message_(msg) {}

  Code code_ = Code::kOk;
  std::string message_;
  std::string context_;
};

}  // namespace sqlift

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define SQLIFT_RETURN_IF_ERROR(expr)         \
  do {                                       \
    ::sqlift::Status _sqlift_st = (expr);    \
    if (!_sqlift_st.ok()) return _sqlift_st; \
  } while (0)
