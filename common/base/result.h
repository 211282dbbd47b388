// Result<T>: a value or the Status that explains why there is none (an `expected` for C++20).
//
//   Result<Config> r = LoadConfig(path);
//   if (!r.ok()) return r.status().With("start agent");
//   Config cfg = std::move(r).value();
//
// value() on an error Result is a bug and aborts with the status in the message.
// Thread safety: a value type, like Status.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "common/base/status.h"

namespace sqlift {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status::Internal("Result built from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    Check();
    return *value_;
  }
  const T& value() const& {
    Check();
    return *value_;
  }
  T&& value() && {
    Check();
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void Check() const {
    if (!value_) {
      std::fprintf(stderr, "sqlift: value() of a failed Result: %s\n", status_.ToString().c_str());
      std::abort();
    }
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace sqlift

// Evaluates `expr` (a Result<T>); on error returns its status from the enclosing function,
// otherwise moves the value into `lhs` (a declaration such as `auto x`).
#define SQLIFT_CONCAT_INNER(a, b) a##b
#define SQLIFT_CONCAT(a, b) SQLIFT_CONCAT_INNER(a, b)
#define SQLIFT_ASSIGN_OR_RETURN(lhs, expr) \
  SQLIFT_ASSIGN_OR_RETURN_IMPL(SQLIFT_CONCAT(_sqlift_res_, __LINE__), lhs, expr)
#define SQLIFT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
