#include "indexer/xapian_error.h"

#include <array>
#include <string>
#include <string_view>

namespace mailvault::index {
namespace {

// Xapian::Error is not polymorphic (no dynamic_cast); get_type() names the most-derived class.
struct Mapping {
  std::string_view type;
  Code code;
};

constexpr std::array<Mapping, 14> kCodes{{
    {"DatabaseModifiedError", Code::kAborted},
    {"DatabaseNotFoundError", Code::kNotFound},
    {"DocNotFoundError", Code::kNotFound},
    {"DatabaseOpeningError", Code::kFailedPrecondition},
    {"DatabaseVersionError", Code::kFailedPrecondition},
    {"DatabaseCreateError", Code::kFailedPrecondition},
    {"DatabaseClosedError", Code::kFailedPrecondition},
    {"DatabaseCorruptError", Code::kDataLoss},
    {"NetworkError", Code::kUnavailable},
    {"NetworkTimeoutError", Code::kUnavailable},
    {"InvalidArgumentError", Code::kInvalidArgument},
    {"QueryParserError", Code::kInvalidArgument},
    {"WildcardError", Code::kInvalidArgument},
    {"RangeError", Code::kInvalidArgument},
}};

}  // namespace

Error xapian_error(const Xapian::Error& e, std::string_view context) {
  const std::string where(context);
  const std::string_view type = e.get_type();
  const std::string detail = std::string(type) + ": " + e.get_msg();
  if (type == "DatabaseLockError") {
    return Error{Code::kUnavailable, where + " is locked by another process (" + detail + ")"};
  }
  Code code = Code::kInternal;
  for (const Mapping& m : kCodes) {
    if (m.type == type) {
      code = m.code;
    }
  }
  return Error{code, where + ": " + detail};
}

}  // namespace mailvault::index
