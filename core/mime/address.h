// RFC 5322 address lists (From, To, Cc, ...) as our own Address values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/mime/parsed_message.h"

namespace mailvault::mime {

// Upper bound on the addresses kept from one header; the rest are dropped with a problem.
inline constexpr std::size_t kMaxAddressesPerHeader = 10'000;

// Parses the raw value of an address header (as it appears in the message: folded, with
// encoded-words, maybe raw 8-bit bytes). Display names are decoded by decode_header_text's
// rules (RFC 2047 with the gmime#133 workaround, raw 8-bit as UTF-8 or windows-1252); quoted
// names are unquoted; a trailing comment names an address without a phrase ("a@b (Ann)").
// A group "name: a, b;" yields {name, ""} followed by its members. Text that is no address at
// all yields one {decoded text, ""} entry, so that nothing written there is lost.
//
// Never fails; appends problems (undecodable charsets, truncation at kMaxAddressesPerHeader)
// to `problems` when it is not null. Thread-safe (initialises GMime on first use). All strings
// are valid UTF-8 without NUL.
[[nodiscard]] std::vector<Address> parse_address_list(std::string_view raw,
                                                      std::vector<std::string>* problems = nullptr);

}  // namespace mailvault::mime
