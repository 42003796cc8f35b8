#include "server-imap/session/envelope.h"

#include <algorithm>
#include <array>
#include <utility>

#include "server-imap/session/body_structure.h"
#include "server-imap/session/rfc822_lexer.h"

namespace mailvault::imapd {

namespace {

constexpr std::size_t kMaxAddresses = 10'000;

bool iequals(std::string_view a, std::string_view b) noexcept {
  auto lower = [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

// The address parser, after Dovecot's message-address.c (ideas, not code): a list of
// mailboxes and groups, each mailbox a name-addr or an addr-spec, with best-effort recovery.
class AddressParser {
 public:
  explicit AddressParser(std::string_view value) : lx_(value) {}

  std::vector<EnvelopeAddress> run() {
    if (!lx_.skip_cfws())
      return std::move(out_);
    while (out_.size() < kMaxAddresses) {
      const std::size_t before = lx_.pos();
      parse_address();
      // Skip to the next comma; an address that consumed nothing must not loop.
      while (!lx_.at_end() && lx_.peek() != ',')
        lx_.advance();
      if (lx_.at_end())
        break;
      lx_.advance();
      if (!lx_.skip_cfws())
        break;
      if (lx_.pos() == before)
        lx_.advance();
    }
    return std::move(out_);
  }

 private:
  struct Addr {
    std::optional<std::string> name, route, mailbox, domain;
    bool invalid = false;
  };

  void add(Addr a) {
    if (out_.size() < kMaxAddresses)
      out_.push_back(EnvelopeAddress{std::move(a.name), std::move(a.route), std::move(a.mailbox),
                                     std::move(a.domain)});
  }

  void add_fixed(Addr a) {
    if (!a.mailbox)
      a.mailbox = "MISSING_MAILBOX";
    if (!a.domain || a.domain->empty())
      a.domain = "MISSING_DOMAIN";
    add(std::move(a));
  }

  void parse_address() {
    const std::size_t start = lx_.pos();
    if (parse_group())
      return;
    lx_.set_pos(start);
    parse_mailbox();
  }

  // group = phrase ":" [mailbox-list] ";"
  bool parse_group() {
    std::string name;
    if (!lx_.phrase(name) || lx_.peek() != ':')
      return false;
    lx_.advance();
    const bool more = lx_.skip_cfws();
    Addr start;
    start.mailbox = name;
    add(std::move(start));
    if (more && lx_.peek() != ';') {
      while (out_.size() < kMaxAddresses) {
        parse_mailbox();
        if (lx_.at_end() || lx_.peek() != ',')
          break;
        lx_.advance();
        if (!lx_.skip_cfws())
          break;
      }
    }
    if (lx_.peek() == ';') {
      lx_.advance();
      lx_.skip_cfws();
    }
    add(Addr{});  // the group's end marker
    return true;
  }

  void parse_mailbox() {
    const std::size_t start = lx_.pos();
    Addr a;
    if (!parse_name_addr(a)) {
      lx_.set_pos(start);
      a = Addr{};
      parse_addr_spec(a);
      if (a.invalid && !a.name && a.mailbox && !a.domain) {
        a.name = std::move(a.mailbox);
        a.mailbox.reset();
      }
    }
    add_fixed(std::move(a));
  }

  // name-addr = [phrase] angle-addr
  bool parse_name_addr(Addr& a) {
    std::string name;
    lx_.phrase(name);
    if (lx_.peek() != '<')
      return false;
    if (!name.empty())
      a.name = std::move(name);
    if (!parse_angle_addr(a)) {
      a.domain = "SYNTAX_ERROR";
      a.invalid = true;
    }
    return true;
  }

  bool parse_angle_addr(Addr& a) {
    lx_.advance();  // '<'
    if (!lx_.skip_cfws())
      return false;
    if (lx_.peek() == '@') {
      std::string route;
      while (lx_.peek() == '@') {
        if (!route.empty())
          route += ',';
        route += '@';
        lx_.advance();
        lx_.domain(route);
        while (lx_.peek() == ',') {
          lx_.advance();
          lx_.skip_cfws();
        }
      }
      if (lx_.peek() == ':') {
        a.route = std::move(route);
        lx_.advance();
      } else {
        a.route = "INVALID_ROUTE";
        if (lx_.at_end())
          return false;
      }
      if (!lx_.skip_cfws())
        return false;
    }
    if (lx_.peek() != '>') {
      if (!parse_local_part(a))
        return false;
      if (lx_.peek() == '@') {
        lx_.advance();
        std::string domain;
        if (!lx_.domain(domain))
          return false;
        a.domain = std::move(domain);
      }
    }
    if (lx_.peek() != '>')
      return false;
    lx_.advance();
    lx_.skip_cfws();
    return true;
  }

  bool parse_local_part(Addr& a) {
    std::string local;
    bool ok = false;
    if (lx_.peek() == '"') {
      ok = lx_.quoted_string(local);
      lx_.skip_cfws();
    } else {
      ok = lx_.dot_atom(local);
      lx_.skip_cfws();
    }
    if (!ok)
      return false;
    a.mailbox = std::move(local);
    return true;
  }

  // addr-spec = local-part "@" domain, with a trailing comment as the name.
  void parse_addr_spec(Addr& a) {
    lx_.clear_last_comment();
    const bool quoted = lx_.peek() == '"';
    const bool local_ok = parse_local_part(a);
    if (!local_ok)
      a.invalid = true;
    bool had_domain = false;
    if (local_ok && lx_.peek() == '@') {
      had_domain = true;
      lx_.advance();
      std::string domain;
      if (lx_.domain(domain))
        a.domain = std::move(domain);
      else
        a.invalid = true;
    }
    if (!lx_.last_comment().empty()) {
      a.name = collapse_blanks(lx_.last_comment());
    } else if (!had_domain) {
      // "user" alone is a mailbox; "some words" are a display name.
      std::string words = a.mailbox.value_or("");
      words += ' ';
      const std::size_t len = words.size();
      lx_.phrase(words);
      if (words.size() != len) {
        a.mailbox.reset();
        a.name = std::move(words);
      } else if (!quoted) {
        a.domain = "";
      }
      a.invalid = true;
    }
  }

  Rfc822Lexer lx_;
  std::vector<EnvelopeAddress> out_;
};

void write_addresses(ResponseWriter& w, const std::vector<EnvelopeAddress>& list) {
  if (list.empty()) {
    w.nil();
    return;
  }
  // RFC 3501 "(" 1*address ")": no space between the addresses, so each is rendered apart.
  std::string addresses = "(";
  for (const auto& a : list) {
    ResponseWriter sub(w.options());
    sub.open_list();
    if (a.name)
      sub.string(collapse_blanks(*a.name));
    else
      sub.nil();
    sub.nstring(a.adl).nstring(a.mailbox).nstring(a.host).close_list();
    addresses += sub.take();
  }
  addresses += ')';
  w.atom(addresses);
}

}  // namespace

std::string collapse_blanks(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool blank = true;  // drops leading blanks
  for (const char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!blank)
        out += ' ';
      blank = true;
      continue;
    }
    out += c == '\0' ? '\x80' : c;
    blank = false;
  }
  if (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

std::vector<EnvelopeAddress> parse_envelope_addresses(std::string_view value) {
  return AddressParser(value).run();
}

void write_envelope(ResponseWriter& w, std::string_view header) {
  enum Field : std::size_t { kDate, kSubject, kInReplyTo, kMessageId, kStringFields };

  enum List : std::size_t { kFrom, kSender, kReplyTo, kTo, kCc, kBcc, kListFields };

  static constexpr std::array<std::string_view, kStringFields> kStringNames = {
      "Date", "Subject", "In-Reply-To", "Message-ID"};
  static constexpr std::array<std::string_view, kListFields> kListNames = {
      "From", "Sender", "Reply-To", "To", "Cc", "Bcc"};
  std::array<std::optional<std::string>, kStringFields> strings;
  std::array<std::vector<EnvelopeAddress>, kListFields> lists;
  std::array<bool, kListFields> seen{};
  for (auto& f : parse_header_fields(header)) {
    for (std::size_t i = 0; i < kStringFields; ++i) {
      if (iequals(f.name, kStringNames[i]))
        strings[i] = f.value;
    }
    for (std::size_t i = 0; i < kListFields; ++i) {
      if (!iequals(f.name, kListNames[i]))
        continue;
      seen[i] = true;
      auto more = parse_envelope_addresses(f.value);
      lists[i].insert(lists[i].end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
  }
  auto nstring = [&](const std::optional<std::string>& s) {
    if (s)
      w.string(*s);
    else
      w.nil();
  };
  w.open_list();
  nstring(strings[kDate]);
  if (strings[kSubject])
    w.string(collapse_blanks(*strings[kSubject]));
  else
    w.nil();
  write_addresses(w, lists[kFrom]);
  write_addresses(w, seen[kSender] && !lists[kSender].empty() ? lists[kSender] : lists[kFrom]);
  write_addresses(w, seen[kReplyTo] && !lists[kReplyTo].empty() ? lists[kReplyTo] : lists[kFrom]);
  write_addresses(w, lists[kTo]);
  write_addresses(w, lists[kCc]);
  write_addresses(w, lists[kBcc]);
  nstring(strings[kInReplyTo]);
  nstring(strings[kMessageId]);
  w.close_list();
}

}  // namespace mailvault::imapd
