// The parsed view of one RFC 5322 message: our own value type, so that no other component
// ever sees a GMime object. Produced by mime::parse_message (core/mime/parse.h), which never
// fails: whatever cannot be read is recorded in `problems` and the rest is still filled in.
//
// All strings are valid UTF-8: header encoded-words (RFC 2047), parameters (RFC 2231) and body
// charsets are converted; bytes that cannot be decoded become U+FFFD.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mailvault::mime {

struct Address {
  std::string name;   // display name, decoded; may be empty
  std::string email;  // addr-spec as written (local@domain); may be empty for groups/garbage
};

struct Header {
  std::string name;   // field name as written (case preserved)
  std::string value;  // unfolded and decoded value
};

struct Attachment {
  std::string filename;      // decoded (RFC 2231/2047); empty when the part has none
  std::string content_type;  // lower-case "type/subtype"
  std::uint64_t size = 0;    // decoded size in bytes
};

struct ParsedMessage {
  std::string message_id;  // Message-ID without angle brackets; empty when absent
  std::string subject;
  std::vector<Address> from;
  std::vector<Address> sender;
  std::vector<Address> reply_to;
  std::vector<Address> to;
  std::vector<Address> cc;
  std::vector<Address> bcc;
  std::optional<std::int64_t> date;     // Date: header as seconds since the epoch (UTC)
  std::int32_t date_zone_minutes = 0;   // the Date: header's zone, minutes east of UTC (0 if none)
  std::string in_reply_to;              // first msg-id of In-Reply-To, without brackets
  std::vector<std::string> references;  // msg-ids of References, without brackets
  std::string list_id;                  // List-Id value inside <...> when present, else as is
  std::vector<Header> headers;          // every top-level header field, in order, decoded
  // Text of the message as a reader sees it: every text/plain part, text from text/html parts
  // (tags stripped, entities decoded) where no plain alternative exists, and the headers and
  // text of nested message/rfc822 parts. Parts are separated by blank lines.
  std::string body_text;
  std::string body_html;  // the first text/html part of the main body, as HTML; may be empty
  std::vector<Attachment> attachments;
  std::string attachment_text;  // decoded text of text/* parts that are attachments
  // Decoded text that body_text leaves out but that is still part of the message's body for
  // searching (IMAP BODY, the index): the alternatives not chosen for body_text (HTML
  // converted as above, text/calendar...).
  std::string other_text;
  // Every header field of the nested messages and of every MIME body part (Content-Type,
  // Content-Disposition ...), decoded, one "Name: value" line each (body_text keeps only the
  // nested messages' From, To, Cc, Subject and Date). IMAP TEXT searches it, BODY does not, as
  // in Dovecot.
  std::string nested_header_text;
  bool has_attachments = false;
  std::vector<std::string> problems;  // human-readable parse problems; empty when clean
};

}  // namespace mailvault::mime
