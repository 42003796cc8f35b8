#include "server-imap/session/message_keys.h"

#include <cstddef>

#include "core/mime/casemap.h"
#include "server-imap/session/envelope.h"

namespace mailvault::imapd {

namespace {

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool is_wsp(char c) noexcept {
  return c == ' ' || c == '\t';
}

bool starts_with_ci(std::string_view s, std::size_t at, std::string_view prefix) noexcept {
  if (at > s.size() || s.size() - at < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_lower(s[at + i]) != prefix[i])
      return false;
  }
  return true;
}

// Step (1): white space (tabs, line breaks) as single spaces.
std::string collapse_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (!space)
      out += c;
    else if (out.empty() || out.back() != ' ')
      out += ' ';
  }
  return out;
}

// subj-blob = "[" *BLOBCHAR "]" *WSP at `p`; advances p past it.
bool match_blob(std::string_view s, std::size_t& p) noexcept {
  if (p >= s.size() || s[p] != '[')
    return false;
  std::size_t q = p + 1;
  while (q < s.size() && s[q] != ']' && s[q] != '[')
    ++q;
  if (q >= s.size() || s[q] != ']')
    return false;
  ++q;
  while (q < s.size() && is_wsp(s[q]))
    ++q;
  p = q;
  return true;
}

// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at `p`.
bool match_refwd(std::string_view s, std::size_t& p) noexcept {
  std::size_t q = p;
  if (starts_with_ci(s, q, "re"))
    q += 2;
  else if (starts_with_ci(s, q, "fwd"))
    q += 3;
  else if (starts_with_ci(s, q, "fw"))
    q += 2;
  else
    return false;
  while (q < s.size() && is_wsp(s[q]))
    ++q;
  match_blob(s, q);
  if (q >= s.size() || s[q] != ':')
    return false;
  p = q + 1;
  return true;
}

// subj-leader = (*subj-blob subj-refwd) / WSP at the start; returns its length (0: none).
std::size_t leader_length(std::string_view s, bool& reply) noexcept {
  if (!s.empty() && is_wsp(s[0]))
    return 1;
  std::size_t p = 0;
  while (match_blob(s, p)) {
  }
  if (match_refwd(s, p)) {
    reply = true;
    return p;
  }
  return 0;
}

// Step (2): subj-trailer = "(fwd)" / WSP, removed repeatedly from the end.
void strip_trailers(std::string& s, bool& reply) {
  for (;;) {
    if (!s.empty() && is_wsp(s.back())) {
      s.pop_back();
    } else if (s.size() >= 5 && starts_with_ci(s, s.size() - 5, "(fwd)")) {
      s.resize(s.size() - 5);
      reply = true;
    } else {
      return;
    }
  }
}

// Steps (3) to (5): leaders, and a leading blob when something is left after it.
void strip_leaders(std::string& s, bool& reply) {
  for (bool changed = true; changed;) {
    changed = false;
    while (const std::size_t n = leader_length(s, reply)) {
      s.erase(0, n);
      changed = true;
    }
    std::size_t p = 0;
    if (match_blob(s, p) && p < s.size()) {
      s.erase(0, p);
      changed = true;
    }
  }
}

// The first address's addr-mailbox. A group comes first as {group name, ""} (and text that is
// no address as {text, ""}, core/mime/address.h): like the group marker of an IMAP address list,
// whose mailbox is the group name, it sorts by that name.
std::string first_mailbox(const std::vector<mime::Address>& list) {
  if (list.empty())
    return {};
  const auto& a = list.front();
  if (a.email.empty())
    return sort_fold(collapse_blanks(a.name));
  const auto at = a.email.rfind('@');
  return sort_fold(at == std::string::npos ? a.email : a.email.substr(0, at));
}

// The first address's display name (blanks collapsed and trimmed, as in ENVELOPE), or its
// addr-spec when it has none.
std::string first_display(const std::vector<mime::Address>& list) {
  if (list.empty())
    return {};
  const auto& a = list.front();
  auto name = collapse_blanks(a.name);
  return sort_fold(name.empty() ? a.email : name);
}

// RFC 5322 msg-ids have an "@"; what lacks one ("<yes>", seen in real References) names no
// message, and Dovecot ignores it too.
bool is_msg_id(const std::string& id) noexcept {
  return id.find('@') != std::string::npos;
}

}  // namespace

BaseSubject base_subject(std::string_view subject) {
  BaseSubject out;
  std::string s = collapse_spaces(subject);
  for (;;) {
    strip_trailers(s, out.reply);
    strip_leaders(s, out.reply);
    // Step (6): "[fwd:" ... "]" around the whole subject.
    if (starts_with_ci(s, 0, "[fwd:") && s.back() == ']') {
      s = s.substr(5, s.size() - 6);
      out.reply = true;
      continue;
    }
    break;
  }
  out.text = std::move(s);
  return out;
}

std::string sort_fold(std::string_view utf8) {
  return mime::unicode_casemap_key(utf8);
}

std::size_t MessageKeys::bytes() const noexcept {
  std::size_t n = sizeof(*this) + subject.size() + from.size() + to.size() + cc.size() +
                  display_from.size() + display_to.size() + message_id.size();
  for (const auto& r : references)
    n += sizeof(r) + r.size();
  return n;
}

MessageKeys make_message_keys(const mime::ParsedMessage& message) {
  MessageKeys k;
  auto base = base_subject(message.subject);
  k.subject = sort_fold(base.text);
  k.subject_reply = base.reply;
  k.from = first_mailbox(message.from);
  k.to = first_mailbox(message.to);
  k.cc = first_mailbox(message.cc);
  k.display_from = first_display(message.from);
  k.display_to = first_display(message.to);
  if (is_msg_id(message.message_id))
    k.message_id = message.message_id;
  for (const auto& r : message.references) {
    if (is_msg_id(r))
      k.references.push_back(r);
  }
  if (k.references.empty() && is_msg_id(message.in_reply_to))
    k.references.push_back(message.in_reply_to);
  return k;
}

}  // namespace mailvault::imapd
