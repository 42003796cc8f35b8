// Internal to indexer/ (includes <xapian.h>): the one place where Xapian exceptions become
// mailvault Errors. Every call into Xapian from indexer/ runs inside xapian_try.
#pragma once

#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <xapian.h>

#include "core/base/result.h"

namespace mailvault::index {

// Maps a Xapian exception to an Error whose message starts with `context` (e.g. "index at
// /var/lib/mailvault/index"):
//   DatabaseLockError                      kUnavailable        "<context> is locked by another
//   process" DatabaseModifiedError                  kAborted            (the reader retries after
//   reopen()) DatabaseNotFoundError                  kNotFound DatabaseVersionError,
//   DatabaseOpeningError, DatabaseCreateError, DatabaseClosedError
//                                          kFailedPrecondition
//   DatabaseCorruptError                   kDataLoss
//   NetworkError                           kUnavailable
//   InvalidArgumentError, QueryParserError, WildcardError, RangeError
//                                          kInvalidArgument
//   DocNotFoundError                       kNotFound
//   anything else                          kInternal
Error xapian_error(const Xapian::Error& e, std::string_view context);

// Runs f (which returns Result<T> or Status) and converts Xapian::Error and std::bad_alloc into
// an Error. Other exceptions are bugs and propagate.
template <typename F>
auto xapian_try(std::string_view context, F&& f) -> std::invoke_result_t<F> {
  try {
    return std::forward<F>(f)();
  } catch (const Xapian::Error& e) {
    return xapian_error(e, context);
  } catch (const std::bad_alloc&) {
    return Error{Code::kResourceExhausted, std::string(context) + ": out of memory"};
  }
}

}  // namespace mailvault::index
