// The MIME structure of an archived message as FETCH needs it (RFC 3501 6.4.5, 7.4.2): the
// part tree with the byte offsets of every part's header and body in the exact archived bytes,
// so that BODY[1.2], BODY[1.2.MIME], BODY[2.HEADER] and BINARY[1] are served as ranges of the
// archive (never re-serialised), plus each part's content headers for BODY/BODYSTRUCTURE.
//
// The boundary scanner follows RFC 2046 and, where mail breaks it, Dovecot's behaviour, which
// the FETCH oracle test compares against:
//   * a boundary line is "--" + a boundary of any open multipart as a prefix of the line (the
//     longest match wins; the rest of the line is ignored); "--b--" closes its multipart, and
//     a boundary of an outer multipart also closes every inner one (missing end boundaries);
//   * the line break before a boundary line belongs to the boundary, not to the part before;
//   * text before the first boundary (preamble) and after the last (epilogue) belongs to the
//     multipart's body but to no child; a missing final boundary ends the parts at the end of
//     the enclosing part;
//   * a multipart needs a boundary parameter (RFC 2231 continuations are joined); without one
//     it is a leaf; a part without Content-Type is text/plain, or message/rfc822 directly
//     inside multipart/digest; a message/rfc822 part has one child, the message in its body;
//   * limits: multiparts and messages nested deeper than kMaxMimeDepth, or beyond kMaxMimeParts
//     parts in total, are leaves marked `truncated` (BODYSTRUCTURE shows them as
//     application/octet-stream, as Dovecot does).
//
// Pure functions: thread-safe, no exceptions except std::bad_alloc, never fail on any input;
// the time is linear in the input times the number of open boundaries (at most kMaxMimeDepth).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server-imap/protocol/response_writer.h"

namespace mailvault::imapd {

inline constexpr std::size_t kMaxMimeDepth = 100;
inline constexpr std::size_t kMaxMimeParts = 10'000;

// One header field: the name as written (trailing blanks removed) and the value after the
// colon with leading blanks removed and line folds undone (CR and LF before a blank dropped;
// other CR/LF become a space). Pure.
struct HeaderField {
  std::string name;
  std::string value;
};

std::vector<HeaderField> parse_header_fields(std::string_view header);

struct MimeParam {
  std::string name;   // as written (RFC 2231 "name*" kept for extended values)
  std::string value;  // unquoted, not decoded (RFC 3501 BODYSTRUCTURE carries them raw)
  friend bool operator==(const MimeParam&, const MimeParam&) = default;
};

// Content-Type parameters as Dovecot's RFC 2231 parser returns them: plain parameters in
// order, then continued ones (name*0, name*1*, ...) joined into one, named "name*" when any
// segment was extended. A parameter whose name was seen already is dropped. Pure.
std::vector<MimeParam> parse_mime_params(std::string_view value_after_token);

struct MimePart {
  enum class Kind : std::uint8_t { kLeaf, kMultipart, kMessage };
  Kind kind = Kind::kLeaf;
  bool truncated = false;  // a multipart or message/rfc822 left unparsed by the limits
  // Offsets into the raw message: [header_begin, body_begin) is the header (with its empty
  // line when there is one), [body_begin, body_end) the body.
  std::size_t header_begin = 0;
  std::size_t body_begin = 0;
  std::size_t body_end = 0;
  std::uint32_t body_lines = 0;  // LF count in the body
  std::size_t parent = 0;        // index in MimeStructure::parts; the root is its own parent
  std::vector<std::size_t> children;

  // Content headers (the first of each kind). type/subtype absent: no usable Content-Type.
  std::optional<std::string> type;
  std::string subtype;
  std::vector<MimeParam> params;
  std::optional<std::string> id, description, encoding, md5, location, disposition;
  std::vector<MimeParam> disposition_params;
  std::vector<std::string> language;
  bool is_text = false;  // text/* or no Content-Type (and not message/rfc822 by digest)
};

// parts[0] is the message itself.
struct MimeStructure {
  std::vector<MimePart> parts;
};

MimeStructure parse_mime_structure(std::string_view raw);

// What a section path names, resolved as Dovecot does: numbers index the children of a
// multipart; in a non-multipart only 1 exists (the part itself); a number after a
// message/rfc822 part continues inside the encapsulated message. nullopt: no such part (FETCH
// then returns an empty string). An empty path is nullopt (the caller serves the message).
std::optional<std::size_t> find_part(const MimeStructure& s,
                                     const std::vector<std::uint32_t>& path);

// For BODY[path.HEADER] / [path.TEXT] / HEADER.FIELDS: the encapsulated message of a
// message/rfc822 part; nullopt for any other part.
std::optional<std::size_t> encapsulated_message(const MimeStructure& s, std::size_t part);

// Writes the BODYSTRUCTURE (extensible true) or BODY (false) of parts[index] — "(...)" — with
// every string through the writer. Pure apart from the writer.
void write_body_structure(ResponseWriter& w, const MimeStructure& s, std::string_view raw,
                          std::size_t index, bool extensible);

// RFC 3516 decoding of a part body by its Content-Transfer-Encoding: 7bit, 8bit, binary and
// none as is; base64 (lenient, like core/mime); quoted-printable. nullopt for an unknown
// encoding (BINARY then answers NO [UNKNOWN-CTE]). Pure.
std::optional<std::string> decode_transfer_encoding(std::string_view body,
                                                    const std::optional<std::string>& encoding);

}  // namespace mailvault::imapd
