// Result<T>: expected failures as values (the std::expected API subset).
//
// Error codes are numerically equal to gRPC's status codes (google.rpc.Code), so the API maps
// them with a cast and the IMAP server maps them to NO/BAD with RFC 5530 codes. Bugs and
// infrastructure failures are exceptions, converted to Error at one boundary per library.
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace mailvault {

enum class Code : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

const char* code_name(Code code) noexcept;

struct Error {
  Code code = Code::kUnknown;
  std::string message;
};

inline Error make_error(Code code, std::string message) {
  return Error{code, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)

  Result(Error error)
      : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }

  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(v_); }

  const T& value() const& { return std::get<0>(v_); }

  T&& value() && { return std::get<0>(std::move(v_)); }

  const Error& error() const& { return std::get<1>(v_); }

  Error&& error() && { return std::get<1>(std::move(v_)); }

  T& operator*() & { return value(); }

  const T& operator*() const& { return value(); }

  T&& operator*() && { return std::move(*this).value(); }

  T* operator->() { return &value(); }

  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;

  Result(Error error)
      : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const noexcept { return ok_; }

  explicit operator bool() const noexcept { return ok_; }

  const Error& error() const& { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() {
  return {};
}

}  // namespace mailvault
