// MIME header parameters (RFC 2045 section 5.1, RFC 2231), e.g. the filename of
// `Content-Disposition: attachment; filename*0*=utf-8''%E2%82%AC; filename*1=".pdf"`.
//
// We parse them ourselves rather than ask g_mime_part_get_filename(): GMime decodes RFC 2047
// words inside parameter values with the same code that has gmime#133, and keeps no raw value
// to repair afterwards. Pure functions: thread-safe, linear in the input, no exceptions except
// std::bad_alloc; results are valid UTF-8 without NUL.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailvault::mime {

// The leading token of a structured header value ("attachment" in "Attachment; x=y"),
// lower-cased, without surrounding blanks; empty when there is none.
[[nodiscard]] std::string header_token(std::string_view value);

// The decoded value of parameter `name` (matched case-insensitively) in a raw structured header
// value (folded or not); nullopt when the parameter is absent. Handles, in order of preference:
// RFC 2231 extended values (name*=charset'lang'%XX..., and continuations name*0, name*1*, ...
// in any order, charset taken from the first segment), then plain values (quoted or not; RFC
// 2047 encoded-words and raw 8-bit bytes in them are decoded as decode_header_text does, which
// many mailers rely on). An unknown charset keeps the bytes (as windows-1252 or UTF-8) and adds
// "undecodable charset ..." to `problems` when it is not null.
[[nodiscard]] std::optional<std::string> find_header_param(
    std::string_view value, std::string_view name, std::vector<std::string>* problems = nullptr);

}  // namespace mailvault::mime
