// Helpers shared by the core/mime tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/mime/charset.h"
#include "core/mime/parsed_message.h"

namespace mailvault::mime::testing {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::filesystem::path test_data(std::string_view name) {
  return std::filesystem::path(MAILVAULT_TEST_DATA) / "mime" / name;
}

// RFC 5322 literals in tests are written with LF; mail on the wire has CRLF.
inline std::string crlf(std::string_view lf) {
  std::string out;
  for (const char c : lf) {
    if (c == '\n') {
      out.push_back('\r');
    }
    out.push_back(c);
  }
  return out;
}

// Calls fn(field name, value) for every string in a ParsedMessage.
template <typename Fn>
void for_each_string(const ParsedMessage& m, Fn&& fn) {
  fn("message_id", m.message_id);
  fn("subject", m.subject);
  for (const auto* list : {&m.from, &m.sender, &m.reply_to, &m.to, &m.cc, &m.bcc}) {
    for (const auto& a : *list) {
      fn("address.name", a.name);
      fn("address.email", a.email);
    }
  }
  fn("in_reply_to", m.in_reply_to);
  for (const auto& r : m.references) {
    fn("references", r);
  }
  fn("list_id", m.list_id);
  for (const auto& h : m.headers) {
    fn("header.name", h.name);
    fn("header.value", h.value);
  }
  fn("body_text", m.body_text);
  fn("body_html", m.body_html);
  for (const auto& a : m.attachments) {
    fn("attachment.filename", a.filename);
    fn("attachment.content_type", a.content_type);
  }
  fn("attachment_text", m.attachment_text);
  fn("other_text", m.other_text);
  fn("nested_header_text", m.nested_header_text);
  for (const auto& p : m.problems) {
    fn("problems", p);
  }
}

// Every string field is valid UTF-8 without NUL; returns the name of the first bad field.
inline std::string first_invalid_field(const ParsedMessage& m) {
  std::string bad;
  for_each_string(m, [&](const char* name, const std::string& value) {
    if (bad.empty() && (!is_valid_utf8(value) || value.find('\0') != std::string::npos)) {
      bad = name;
    }
  });
  return bad;
}

inline bool same_addresses(const std::vector<Address>& a, const std::vector<Address>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].email != b[i].email) {
      return false;
    }
  }
  return true;
}

// Field-by-field equality, body_html excluded (the search-text sidecar does not keep it).
inline bool equal_except_html(const ParsedMessage& a, const ParsedMessage& b) {
  if (a.headers.size() != b.headers.size() || a.attachments.size() != b.attachments.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) {
      return false;
    }
  }
  for (std::size_t i = 0; i < a.attachments.size(); ++i) {
    const auto& x = a.attachments[i];
    const auto& y = b.attachments[i];
    if (x.filename != y.filename || x.content_type != y.content_type || x.size != y.size) {
      return false;
    }
  }
  return a.message_id == b.message_id && a.subject == b.subject && same_addresses(a.from, b.from) &&
         same_addresses(a.sender, b.sender) && same_addresses(a.reply_to, b.reply_to) &&
         same_addresses(a.to, b.to) && same_addresses(a.cc, b.cc) && same_addresses(a.bcc, b.bcc) &&
         a.date == b.date && a.in_reply_to == b.in_reply_to && a.references == b.references &&
         a.list_id == b.list_id && a.body_text == b.body_text &&
         a.attachment_text == b.attachment_text && a.has_attachments == b.has_attachments &&
         a.problems == b.problems && a.date_zone_minutes == b.date_zone_minutes &&
         a.other_text == b.other_text && a.nested_header_text == b.nested_header_text;
}

inline bool has_problem_containing(const ParsedMessage& m, std::string_view needle) {
  return std::any_of(m.problems.begin(), m.problems.end(),
                     [&](const std::string& p) { return p.find(needle) != std::string::npos; });
}

}  // namespace mailvault::mime::testing
