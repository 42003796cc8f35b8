#include "core/mime/address.h"

#include <string>
#include <utility>

#include "core/mime/charset.h"
#include "core/mime/gobj.h"
#include "core/mime/library.h"
#include "core/mime/rfc2047.h"

namespace mailvault::mime {
namespace {

std::string clean(const char* s) {
  std::string out;
  if (s != nullptr) {
    append_sanitized_utf8(out, s);
  }
  return out;
}

// GMime has already unwrapped our single UTF-8 encoded-word; a name may still hold text that
// looks encoded when the word sat somewhere GMime does not decode (inside a comment, say).
std::string display_name(const char* name, std::vector<std::string>* problems) {
  std::string out = clean(name);
  if (out.find("=?") != std::string::npos) {
    out = decode_header_text(out, problems);
  }
  return out;
}

class Collector {
 public:
  Collector(std::vector<Address>& out, std::vector<std::string>* problems)
      : out_(out), problems_(problems) {}

  void add_list(InternetAddressList* list, int depth) {
    const int n = internet_address_list_length(list);
    for (int i = 0; i < n; ++i) {
      InternetAddress* address = internet_address_list_get_address(list, i);  // borrowed
      if (address == nullptr) {
        continue;
      }
      if (!push(Address{display_name(internet_address_get_name(address), problems_), {}},
                address)) {
        return;
      }
      if (INTERNET_ADDRESS_IS_GROUP(address) && depth == 0) {
        // RFC 5322 groups do not nest; GMime does not produce nested ones either.
        add_list(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), depth + 1);
      }
    }
  }

  [[nodiscard]] bool truncated() const { return truncated_; }

 private:
  bool push(Address entry, InternetAddress* address) {
    if (out_.size() >= kMaxAddressesPerHeader) {
      truncated_ = true;
      return false;
    }
    if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      entry.email = clean(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address)));
    }
    out_.push_back(std::move(entry));
    return true;
  }

  std::vector<Address>& out_;
  std::vector<std::string>* problems_;
  bool truncated_ = false;
};

}  // namespace

std::vector<Address> parse_address_list(std::string_view raw, std::vector<std::string>* problems) {
  ensure_gmime_initialized();
  std::vector<Address> result;
  // Our decoding of encoded-words goes in as one UTF-8 word per run, so GMime's decoder
  // (gmime#133) only ever unwraps text we decoded; no NUL can remain (lenient UTF-8).
  const std::string prepared = reencode_header_for_gmime(raw, problems);
  if (prepared.find_first_not_of(" \t") == std::string::npos) {
    return result;
  }
  gobj::ParserOptionsPtr options{g_mime_parser_options_new()};
  g_mime_parser_options_set_allow_addresses_without_domain(options.get(), TRUE);
  auto list = gobj::Ptr<InternetAddressList>::adopt(
      internet_address_list_parse(options.get(), prepared.c_str()));
  if (list) {
    Collector collector(result, problems);
    collector.add_list(list.get(), 0);
    if (collector.truncated() && problems != nullptr) {
      problems->push_back("address list truncated to " + std::to_string(kMaxAddressesPerHeader) +
                          " addresses");
    }
  }
  if (result.empty()) {
    // Not an address list at all: keep the text, so that searching the field still finds it.
    std::string text = decode_header_text(raw, nullptr);
    if (!text.empty()) {
      result.push_back(Address{std::move(text), {}});
    }
  }
  return result;
}

}  // namespace mailvault::mime
