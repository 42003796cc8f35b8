// libFuzzer entry point for the user query language parser (core/search/query_parser.h).
// Build (clang): clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//   tests/fuzz/query_parser_fuzz.cc core/search/query_parser.cc core/search/query.cc \
//   core/base/result.cc -o query_parser_fuzz
// Properties checked: no crash; a successful parse renders and is deterministic; a failure is
// kInvalidArgument with a message naming a column or the length limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/search/query.h"
#include "core/search/query_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using mailvault::Code;
  using mailvault::search::parse_query;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto q = parse_query(text);
  if (q.has_value()) {
    const std::string rendered = mailvault::search::to_string(*q);
    auto again = parse_query(text);
    if (rendered.empty() || !again.has_value() ||
        mailvault::search::to_string(*again) != rendered) {
      std::abort();
    }
    return 0;
  }
  const std::string& m = q.error().message;
  if (q.error().code != Code::kInvalidArgument ||
      (m.rfind("column ", 0) != 0 && m.rfind("query is ", 0) != 0)) {
    std::abort();
  }
  return 0;
}
