#include "server-imap/session/session.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/base/mutf7.h"
#include "core/mime/base64.h"
#include "server-imap/session/body_prefetcher.h"
#include "server-imap/session/body_structure.h"
#include "server-imap/session/envelope.h"
#include "server-imap/session/message_text.h"
#include "server-imap/session/search_eval.h"
#include "server-imap/session/sort.h"
#include "server-imap/session/thread.h"

namespace mailvault::imapd {

namespace {

constexpr std::string_view kCannot = "CANNOT";
constexpr std::string_view kSystemFlags = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)";

std::string_view code_for(const Error& e) noexcept {
  switch (e.code) {
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
    case Code::kResourceExhausted:
      return "UNAVAILABLE";
    case Code::kNotFound:
      return "NONEXISTENT";
    case Code::kPermissionDenied:
      return "NOPERM";
    default:
      return "SERVERBUG";
  }
}

// Whether a SEARCH command line that did not parse asked for RETURN (... SAVE ...).
bool asks_to_save(std::string_view text) {
  std::string upper{text.substr(0, 200)};  // RETURN comes right after the command name
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 32);
  }
  const auto ret = upper.find(" RETURN (");
  if (ret == std::string::npos)
    return false;
  const auto close = upper.find(')', ret);
  return upper.substr(ret, close == std::string::npos ? std::string::npos : close - ret)
             .find("SAVE") != std::string::npos;
}

}  // namespace

std::string decode_mailbox_name(std::string_view wire) {
  auto decoded = mutf7_decode(wire);
  return decoded ? std::move(*decoded) : std::string{wire};
}

std::optional<PlainCredentials> decode_sasl_plain(std::string_view base64) {
  std::string raw;
  mime::append_base64_decoded(raw, base64);
  const auto first = raw.find('\0');
  if (first == std::string::npos)
    return std::nullopt;
  const auto second = raw.find('\0', first + 1);
  if (second == std::string::npos || raw.find('\0', second + 1) != std::string::npos)
    return std::nullopt;
  PlainCredentials c;
  const auto authzid = raw.substr(0, first);
  c.user = raw.substr(first + 1, second - first - 1);
  c.password = raw.substr(second + 1);
  if (c.user.empty() || (!authzid.empty() && authzid != c.user))
    return std::nullopt;
  return c;
}

Result<MailboxGrowth> SessionBackend::newer(const Viewer& viewer, const Snapshot& current) {
  auto now = open(viewer, current.name);
  if (!now)
    return now.error();
  MailboxGrowth g;
  g.uidnext = current.uidnext;
  if (!*now)
    return g;  // no longer visible: nothing new to show
  g.uidnext = std::max(g.uidnext, (*now)->uidnext);
  const auto max = to_int(current.max_uid());
  for (auto& m : (*now)->messages) {
    if (to_int(m.uid) > max)
      g.added.push_back(std::move(m));
  }
  return g;
}

Session::Session(SessionBackend& backend, SessionOptions options, Send send)
    : backend_(backend),
      options_(std::move(options)),
      send_(std::move(send)),
      reader_(options_.limits),
      state_(NotAuthenticated{}),
      tls_active_(options_.tls_active) {}

std::string Session::capabilities() const {
  std::string caps =
      "IMAP4rev1 SASL-IR LITERAL- ID ENABLE NAMESPACE UNSELECT CHILDREN IDLE ESEARCH SEARCHRES "
      "SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES";
  if (std::holds_alternative<NotAuthenticated>(state_)) {
    if (options_.tls_available && !tls_active_)
      caps += " STARTTLS";
    caps += tls_active_ || options_.allow_plaintext ? " AUTH=PLAIN" : " LOGINDISABLED";
  }
  return caps;
}

void Session::start() {
  send(fmt::format("* OK [CAPABILITY {}] mailvault ready\r\n", capabilities()));
}

void Session::on_idle_timeout() {
  send("* BYE Autologout; idle for too long\r\n");
  state_ = LoggedOut{};
}

void Session::on_shutdown() {
  send("* BYE mailvault is shutting down\r\n");
  state_ = LoggedOut{};
}

bool Session::send(std::string_view bytes) {
  if (connection_lost_)
    return false;
  if (!send_(bytes)) {
    connection_lost_ = true;
    state_ = LoggedOut{};
    return false;
  }
  return true;
}

void Session::ok(const std::string& tag, std::string_view code, std::string_view text) {
  send(status_line(tag, StatusKind::kOk, code, text));
}

void Session::no(const std::string& tag, std::string_view code, std::string_view text) {
  send(status_line(tag, StatusKind::kNo, code, text));
}

void Session::bad(const std::string& tag, std::string_view text) {
  send(status_line(tag.empty() ? "*" : tag, StatusKind::kBad, "", text));
}

const Viewer* Session::viewer() const noexcept {
  if (const auto* a = std::get_if<Authenticated>(&state_))
    return &a->viewer;
  if (const auto* s = std::get_if<Selected>(&state_))
    return &s->viewer;
  return nullptr;
}

SessionState Session::session_state() const noexcept {
  switch (state_.index()) {
    case 0:
      return SessionState::kNotAuthenticated;
    case 1:
      return SessionState::kAuthenticated;
    case 2:
      return SessionState::kSelected;
    default:
      return SessionState::kLogout;
  }
}

bool Session::on_input(std::string_view bytes) {
  if (tls_requested_)
    return !finished();  // the server hands bytes over only after the handshake
  reader_.feed(bytes);
  while (!finished() && !tls_requested_) {
    ReaderEvent e = reader_.next();
    if (e.status == ReadStatus::kNeedMore)
      break;
    switch (e.status) {
      case ReadStatus::kContinuation:
        send("+ Ready for literal data\r\n");
        break;
      case ReadStatus::kError:
        sasl_tag_.reset();
        idle_tag_.reset();
        send(error_line(e));
        if (e.fatal)
          state_ = LoggedOut{};
        break;
      case ReadStatus::kCommand:
        if (sasl_tag_)
          handle_sasl_response(e.command);
        else if (idle_tag_)
          handle_idle_line(e.command);
        else
          handle_command_text(e.command);
        break;
      case ReadStatus::kNeedMore:
        break;
    }
  }
  return !finished();
}

Session::Handler Session::find_route(std::string_view name) noexcept {
  struct Route {
    std::string_view name;  // as in the parser's command table
    Handler handler;
  };

  // Commands the parser knows and this session answers. Commands flagged kChangesMail never get
  // here (refused before dispatch); a command missing from this table answers BAD.
  static constexpr std::array kRoutes = {
      Route{"CAPABILITY", &Session::cmd_capability},
      Route{"NOOP", &Session::cmd_noop},
      Route{"CHECK", &Session::cmd_noop},
      Route{"LOGOUT", &Session::cmd_logout},
      Route{"ID", &Session::cmd_id},
      Route{"LOGIN", &Session::cmd_login},
      Route{"AUTHENTICATE", &Session::cmd_authenticate},
      Route{"ENABLE", &Session::cmd_enable},
      Route{"NAMESPACE", &Session::cmd_namespace},
      Route{"LIST", &Session::cmd_list},
      Route{"LSUB", &Session::cmd_lsub},
      Route{"STATUS", &Session::cmd_status},
      Route{"SELECT", &Session::cmd_select},
      Route{"EXAMINE", &Session::cmd_select},
      Route{"CLOSE", &Session::cmd_close},
      Route{"UNSELECT", &Session::cmd_close},
      Route{"FETCH", &Session::cmd_fetch},
      Route{"UID FETCH", &Session::cmd_fetch},
      Route{"SEARCH", &Session::cmd_search},
      Route{"UID SEARCH", &Session::cmd_search},
      Route{"STARTTLS", &Session::cmd_starttls},
      Route{"IDLE", &Session::cmd_idle},
      Route{"SORT", &Session::cmd_sort},
      Route{"UID SORT", &Session::cmd_sort},
      Route{"THREAD", &Session::cmd_thread},
      Route{"UID THREAD", &Session::cmd_thread},
      Route{"STORE", &Session::cmd_store},
      Route{"UID STORE", &Session::cmd_store},
  };
  for (const auto& r : kRoutes) {
    if (r.name == name)
      return r.handler;
  }
  return nullptr;
}

void Session::handle_command_text(const std::string& text) {
  if (text.empty())
    return;  // a stray empty line: nothing to answer (some clients send CRLF CRLF)
  auto parsed = parse_command(text, options_.limits);
  if (auto* err = std::get_if<CommandError>(&parsed)) {
    // RFC 5182: a SEARCH RETURN (SAVE) that fails (BADCHARSET, syntax) leaves `$` empty.
    auto* sel = std::get_if<Selected>(&state_);
    if (sel != nullptr && err->spec != nullptr && err->spec->name.ends_with("SEARCH") &&
        asks_to_save(text))
      sel->mailbox.saved.clear();
    send(error_line(*err));
    return;
  }
  const auto& cmd = std::get<Command>(parsed);
  if (!allowed_in(*cmd.spec, session_state())) {
    bad(cmd.tag, fmt::format("{} is not allowed in this state", cmd.spec->name));
    return;
  }
  const bool harmless_store = options_.store_ok && std::holds_alternative<StoreCommand>(cmd.args);
  if ((cmd.spec->flags & kChangesMail) != 0 && !harmless_store) {
    no(cmd.tag, kCannot, "read-only archive");
    return;
  }
  const Handler h = find_route(cmd.spec->name);
  if (h == nullptr) {
    bad(cmd.tag, "command not supported");
    return;
  }
  (this->*h)(cmd);
}

// ─── Any state ───────────────────────────────────────────────────────────────────────────────

void Session::cmd_capability(const Command& c) {
  send(fmt::format("* CAPABILITY {}\r\n", capabilities()));
  ok(c.tag, "", "CAPABILITY completed");
}

void Session::cmd_noop(const Command& c) {
  report_new_messages();
  ok(c.tag, "", fmt::format("{} completed", c.spec->name));
}

void Session::cmd_logout(const Command& c) {
  send("* BYE mailvault logging out\r\n");
  ok(c.tag, "", "LOGOUT completed");
  state_ = LoggedOut{};
}

void Session::cmd_id(const Command& c) {
  send("* ID NIL\r\n");
  ok(c.tag, "", "ID completed");
}

void Session::cmd_starttls(const Command& c) {
  if (tls_active_) {
    bad(c.tag, "TLS is already active");
    return;
  }
  if (!options_.tls_available) {
    bad(c.tag, "STARTTLS is not available");
    return;
  }
  ok(c.tag, "", "Begin TLS negotiation now");
  // Whatever followed STARTTLS in the clear is dropped, never executed (CVE-2011-0411).
  reader_ = CommandReader(options_.limits);
  tls_requested_ = true;
}

void Session::on_tls_started() {
  tls_requested_ = false;
  tls_active_ = true;
}

void Session::cmd_idle(const Command& c) {
  idle_tag_ = c.tag;
  send("+ idling\r\n");
  report_new_messages();
}

void Session::handle_idle_line(const std::string& line) {
  const std::string tag = std::move(*idle_tag_);
  idle_tag_.reset();
  if (is_idle_done(line))
    ok(tag, "", "IDLE terminated");
  else
    bad(tag, "expected DONE");
}

void Session::on_idle_poll() {
  if (idling())
    report_new_messages();
}

void Session::report_new_messages() {
  auto* sel = std::get_if<Selected>(&state_);
  if (sel == nullptr)
    return;
  auto grown = backend_.newer(sel->viewer, sel->mailbox);
  if (!grown) {
    spdlog::warn("imap: checking {} for new mail for {} failed: {}", sel->mailbox.name,
                 sel->viewer.name, grown.error().message);
    return;
  }
  sel->mailbox.uidnext = std::max(sel->mailbox.uidnext, grown->uidnext);
  if (grown->added.empty())
    return;
  for (auto& m : grown->added)
    sel->mailbox.messages.push_back(std::move(m));
  normalise(sel->mailbox.messages);  // a no-op for a well-behaved backend; keeps the invariant
  send(fmt::format("* {} EXISTS\r\n", sel->mailbox.exists()));
}

// ─── Not authenticated ───────────────────────────────────────────────────────────────────────

bool Session::pause(std::chrono::milliseconds d) {
  if (d.count() <= 0)
    return true;
  if (options_.pause)
    return options_.pause(d);
  std::this_thread::sleep_for(d);
  return true;
}

// The checks before credentials are looked at: TLS (or the plaintext rule), then the delay of
// an address with too many recent failures. False when the command was answered (or the
// session ended) here.
bool Session::login_allowed(const std::string& tag, std::string_view what) {
  if (!tls_active_ && !options_.allow_plaintext) {
    no(tag, "PRIVACYREQUIRED", fmt::format("{} is disabled without TLS", what));
    return false;
  }
  if (options_.guard != nullptr && !pause(options_.guard->delay(options_.client_address))) {
    on_shutdown();
    return false;
  }
  return true;
}

void Session::finish_login(const std::string& tag, const std::string& user,
                           const std::string& password, std::string_view what) {
  auto v = backend_.authenticate(user, password);
  if (v) {
    if (options_.guard != nullptr) {
      options_.guard->succeeded(options_.client_address);
      user_slot_ = options_.guard->claim(v->user_id);
      if (!user_slot_) {
        no(tag, "LIMIT", fmt::format("too many connections for {}; close some and retry", user));
        return;
      }
    }
    failed_logins_ = 0;
    state_ = Authenticated{std::move(*v)};
    ok(tag, fmt::format("CAPABILITY {}", capabilities()), fmt::format("{} completed", what));
    return;
  }
  if (v.error().code != Code::kUnauthenticated) {
    spdlog::warn("imap: login of '{}' failed: {}", user, v.error().message);
    no(tag, "UNAVAILABLE", "authentication is unavailable, try again later");
    return;
  }
  // The delay slows down password guessing on this connection; the connection is closed
  // after a few failures so that guessing needs new connections (bounded by the server, and
  // slowed down further per address by the guard).
  if (options_.guard != nullptr)
    options_.guard->failed(options_.client_address);
  if (!pause(options_.failed_login_delay)) {
    on_shutdown();
    return;
  }
  no(tag, "AUTHENTICATIONFAILED", "invalid credentials");
  if (++failed_logins_ >= options_.max_failed_logins) {
    send("* BYE too many failed logins\r\n");
    state_ = LoggedOut{};
  }
}

void Session::cmd_login(const Command& c) {
  if (!login_allowed(c.tag, "LOGIN"))
    return;
  const auto& a = std::get<LoginCommand>(c.args);
  finish_login(c.tag, a.user, a.password, "LOGIN");
}

void Session::cmd_authenticate(const Command& c) {
  const auto& a = std::get<AuthenticateCommand>(c.args);
  if (a.mechanism != "PLAIN") {
    no(c.tag, kCannot, "unsupported authentication mechanism");
    return;
  }
  if (!login_allowed(c.tag, "AUTHENTICATE PLAIN"))
    return;
  if (!a.initial_response) {
    sasl_tag_ = c.tag;
    send("+ \r\n");
    return;
  }
  auto creds = decode_sasl_plain(*a.initial_response);
  if (!creds) {
    bad(c.tag, "malformed SASL PLAIN response");
    return;
  }
  finish_login(c.tag, creds->user, creds->password, "AUTHENTICATE");
}

void Session::handle_sasl_response(const std::string& line) {
  const std::string tag = std::move(*sasl_tag_);
  sasl_tag_.reset();
  if (line == "*") {
    bad(tag, "AUTHENTICATE cancelled");
    return;
  }
  auto creds = decode_sasl_plain(line);
  if (!creds) {
    bad(tag, "malformed SASL PLAIN response");
    return;
  }
  finish_login(tag, creds->user, creds->password, "AUTHENTICATE");
}

// ─── Authenticated ───────────────────────────────────────────────────────────────────────────

void Session::cmd_enable(const Command& c) {
  // Nothing this slice can enable (UTF8=ACCEPT and IMAP4rev2 change the wire format; later).
  send("* ENABLED\r\n");
  ok(c.tag, "", "ENABLE completed");
}

void Session::cmd_namespace(const Command& c) {
  send("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
  ok(c.tag, "", "NAMESPACE completed");
}

void Session::list_like(const Command& c, std::string_view reference,
                        const std::vector<std::string>& patterns, bool lsub) {
  const std::string_view verb = lsub ? "LSUB" : "LIST";
  if (patterns.empty() || (patterns.size() == 1 && patterns.front().empty())) {
    // RFC 3501: LIST "" "" asks for the hierarchy delimiter and root.
    send(fmt::format("* {} (\\Noselect) \"/\" \"\"\r\n", verb));
    ok(c.tag, "", fmt::format("{} completed", verb));
    return;
  }
  std::vector<std::string> full_patterns;
  for (const auto& pattern : patterns) {
    std::string full = decode_mailbox_name(reference);
    if (!full.empty() && full.back() != kDelimiter && !pattern.empty() &&
        pattern.front() != kDelimiter)
      full += kDelimiter;
    full += decode_mailbox_name(pattern);
    full_patterns.push_back(std::move(full));
  }
  auto refs = backend_.list(*viewer());
  if (!refs) {
    no(c.tag, code_for(refs.error()), "cannot list mailboxes now");
    return;
  }
  std::vector<std::string> names;
  names.reserve(refs->size());
  for (const auto& r : *refs)
    names.push_back(mailbox_name(r));
  ResponseWriter w;
  for (const auto& e : list_tree(names)) {
    // LSUB: every selectable mailbox counts as subscribed (there are no subscriptions).
    const bool match = std::any_of(full_patterns.begin(), full_patterns.end(),
                                   [&](const std::string& p) { return list_matches(p, e.name); });
    if (!match || (lsub && !e.selectable))
      continue;
    w.untagged().atom(verb).open_list();
    if (!e.selectable)
      w.atom("\\Noselect");
    w.atom(e.has_children ? "\\HasChildren" : "\\HasNoChildren");
    if (e.all)
      w.atom("\\All");
    w.close_list().string("/").mailbox(e.name).end_line();
  }
  send(w);
  ok(c.tag, "", fmt::format("{} completed", verb));
}

void Session::cmd_list(const Command& c) {
  const auto& a = std::get<ListCommand>(c.args);
  // LIST-EXTENDED selection and return options are not advertised, so they are ignored.
  list_like(c, a.reference, a.patterns, false);
}

void Session::cmd_lsub(const Command& c) {
  const auto& a = std::get<LsubCommand>(c.args);
  list_like(c, a.reference, {a.pattern}, true);
}

void Session::cmd_status(const Command& c) {
  const auto& a = std::get<StatusCommand>(c.args);
  const auto name = decode_mailbox_name(a.mailbox);
  auto snap = backend_.open(*viewer(), name);
  if (!snap) {
    no(c.tag, code_for(snap.error()), "cannot open the mailbox now");
    return;
  }
  if (!*snap) {
    no(c.tag, "NONEXISTENT", "no such mailbox");
    return;
  }
  const Snapshot& s = **snap;
  ResponseWriter w;
  w.untagged().atom("STATUS").mailbox(s.name).open_list();
  for (const auto item : a.items) {
    switch (item) {
      case StatusItem::kMessages:
        w.atom("MESSAGES").number(s.exists());
        break;
      case StatusItem::kRecent:
        w.atom("RECENT").number(0);
        break;
      case StatusItem::kUidNext:
        w.atom("UIDNEXT").number(s.uidnext);
        break;
      case StatusItem::kUidValidity:
        w.atom("UIDVALIDITY").number(s.uidvalidity);
        break;
      case StatusItem::kUnseen:
        w.atom("UNSEEN").number(static_cast<std::uint64_t>(
            std::count_if(s.messages.begin(), s.messages.end(),
                          [](const MessageEntry& m) { return !m.flags.seen; })));
        break;
      case StatusItem::kSize: {
        std::uint64_t total = 0;
        for (const auto& m : s.messages)
          total += m.size;
        w.atom("SIZE").number(total);
        break;
      }
      case StatusItem::kDeleted:
        w.atom("DELETED").number(static_cast<std::uint64_t>(
            std::count_if(s.messages.begin(), s.messages.end(),
                          [](const MessageEntry& m) { return m.flags.deleted; })));
        break;
    }
  }
  w.close_list().end_line();
  send(w);
  ok(c.tag, "", "STATUS completed");
}

void Session::cmd_select(const Command& c) {
  const bool examine = std::holds_alternative<ExamineCommand>(c.args);
  const std::string wire =
      examine ? std::get<ExamineCommand>(c.args).mailbox : std::get<SelectCommand>(c.args).mailbox;
  Viewer v = *viewer();
  // RFC 3501: a SELECT, even a failing one, first deselects the current mailbox.
  state_ = Authenticated{v};
  auto snap = backend_.open(v, decode_mailbox_name(wire));
  if (!snap) {
    no(c.tag, code_for(snap.error()), "cannot open the mailbox now");
    return;
  }
  if (!*snap) {
    no(c.tag, "NONEXISTENT", "no such mailbox");
    return;
  }
  const Snapshot& s = **snap;
  send(fmt::format(
      "* FLAGS {}\r\n* {} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY {}] UIDs valid\r\n"
      "* OK [UIDNEXT {}] Predicted next UID\r\n* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n",
      kSystemFlags, s.exists(), s.uidvalidity, s.uidnext));
  state_ = Selected{std::move(v), std::move(**snap)};
  ok(c.tag, "READ-ONLY",
     fmt::format("{} completed (the archive is read-only)", examine ? "EXAMINE" : "SELECT"));
}

// ─── Selected ────────────────────────────────────────────────────────────────────────────────

void Session::cmd_close(const Command& c) {
  // Never expunges: the archive is read-only.
  state_ = Authenticated{std::get<Selected>(state_).viewer};
  ok(c.tag, "", fmt::format("{} completed", c.spec->name));
}

namespace {

void write_flags(ResponseWriter& w, const MessageFlags& f) {
  w.atom("FLAGS").open_list();
  const auto flags = format_flags(f);
  if (!flags.empty())
    w.atom(flags);
  w.close_list();
}

bool needs_body(const std::vector<FetchItem>& items) {
  return std::any_of(items.begin(), items.end(), [](const FetchItem& i) {
    switch (i.kind) {
      case FetchItem::Kind::kFlags:
      case FetchItem::Kind::kInternalDate:
      case FetchItem::Kind::kRfc822Size:
      case FetchItem::Kind::kUid:
        return false;
      default:
        return true;
    }
  });
}

bool needs_structure(const std::vector<FetchItem>& items) {
  return std::any_of(items.begin(), items.end(), [](const FetchItem& i) {
    return i.kind == FetchItem::Kind::kBodyStructure || i.kind == FetchItem::Kind::kBody ||
           i.kind == FetchItem::Kind::kBinary || i.kind == FetchItem::Kind::kBinarySize ||
           (i.kind == FetchItem::Kind::kBodySection && !i.section.part.empty());
  });
}

// The bytes a BODY[section] names (before <partial>), as a view of `raw` where possible
// (`owned` holds HEADER.FIELDS results). A part that does not exist is empty, as in Dovecot.
std::string_view section_bytes(const Section& section, std::string_view raw,
                               const MimeStructure* mime, std::string& owned) {
  std::string_view scope = raw;  // the message whose HEADER/TEXT/fields are meant
  if (!section.part.empty()) {
    const auto idx = find_part(*mime, section.part);
    if (!idx)
      return {};
    const MimePart& p = mime->parts[*idx];
    if (section.text == Section::Text::kNone)
      return raw.substr(p.body_begin, p.body_end - p.body_begin);
    if (section.text == Section::Text::kMime)
      return raw.substr(p.header_begin, p.body_begin - p.header_begin);
    const auto m = encapsulated_message(*mime, *idx);
    if (!m)
      return {};
    const MimePart& e = mime->parts[*m];
    scope = raw.substr(e.header_begin, e.body_end - e.header_begin);
  }
  switch (section.text) {
    case Section::Text::kHeader:
      return header_of(scope);
    case Section::Text::kText:
      return text_of(scope);
    case Section::Text::kHeaderFields:
    case Section::Text::kHeaderFieldsNot:
      owned = header_fields(scope, section.fields, section.text == Section::Text::kHeaderFields);
      return owned;
    default:
      return scope;
  }
}

// BINARY[part] (RFC 3516): the decoded body of the part (the whole message for BINARY[]);
// nullopt for an unknown Content-Transfer-Encoding.
std::optional<std::string> binary_data(const FetchItem& item, std::string_view raw,
                                       const MimeStructure& mime) {
  if (item.section.part.empty())
    return std::string{raw};
  const auto idx = find_part(mime, item.section.part);
  if (!idx)
    return std::string{};
  const MimePart& p = mime.parts[*idx];
  const auto body = raw.substr(p.body_begin, p.body_end - p.body_begin);
  if (p.kind != MimePart::Kind::kLeaf)
    return std::string{body};
  return decode_transfer_encoding(body, p.encoding);
}

}  // namespace

void Session::cmd_fetch(const Command& c) {
  const auto& a = std::get<FetchCommand>(c.args);
  const bool uid_form = (c.spec->flags & kUsesUid) != 0;
  auto& sel = std::get<Selected>(state_);
  const bool body = needs_body(a.items);
  const bool structure = needs_structure(a.items);
  const std::vector<std::size_t> indexes = sel.mailbox.resolve(a.set);
  // Bodies are audited before they are served, kAuditChunk messages per database commit.
  constexpr std::size_t kAuditChunk = 256;
  std::size_t audited_until = 0;  // position in `indexes` up to which reads are recorded
  // Several bodies: read (decompress, verify) ahead on other threads while this one writes.
  constexpr std::size_t kPrefetchBytes = std::size_t{16} << 20;
  std::optional<BodyPrefetcher> prefetch;
  if (body && indexes.size() > 1 && backend_.reads_concurrently() && options_.fetch_threads > 0) {
    prefetch.emplace(
        indexes.size(),
        [&](std::size_t pos) {
          return backend_.read_audited_message(sel.viewer, sel.mailbox,
                                               sel.mailbox.messages[indexes[pos]]);
        },
        kPrefetchBytes, options_.fetch_threads);
  }
  for (std::size_t pos = 0; pos < indexes.size(); ++pos) {
    const std::size_t index = indexes[pos];
    const MessageEntry& m = sel.mailbox.messages[index];
    MessageBytes bytes;  // keeps `raw` alive
    std::string_view raw;
    if (body && pos >= audited_until) {
      std::vector<const MessageEntry*> chunk;
      for (std::size_t k = pos; k < indexes.size() && k < pos + kAuditChunk; ++k)
        chunk.push_back(&sel.mailbox.messages[indexes[k]]);
      if (auto st = backend_.audit_reads(sel.viewer, sel.mailbox, chunk); !st) {
        spdlog::warn("imap: recording reads for {} failed: {}", sel.viewer.name,
                     st.error().message);
        no(c.tag, code_for(st.error()), "cannot read messages now");
        return;
      }
      audited_until = pos + chunk.size();
    }
    if (body) {
      auto r =
          prefetch ? prefetch->take() : backend_.read_audited_message(sel.viewer, sel.mailbox, m);
      if (!r) {
        spdlog::warn("imap: reading message {} for {} failed: {}", to_int(m.id), sel.viewer.name,
                     r.error().message);
        no(c.tag, code_for(r.error()), "cannot read a message now");
        return;
      }
      bytes = std::move(*r);
      raw = *bytes;
    }
    MimeStructure mime;
    if (structure)
      mime = parse_mime_structure(raw);
    // BINARY items are decoded first: an unknown encoding fails the command (RFC 3516 4.3).
    std::vector<std::optional<std::string>> binaries(a.items.size());
    for (std::size_t k = 0; k < a.items.size(); ++k) {
      const auto kind = a.items[k].kind;
      if (kind != FetchItem::Kind::kBinary && kind != FetchItem::Kind::kBinarySize)
        continue;
      binaries[k] = binary_data(a.items[k], raw, mime);
      if (!binaries[k]) {
        no(c.tag, "UNKNOWN-CTE", "unknown Content-Transfer-Encoding");
        return;
      }
    }
    ResponseWriter w;
    w.untagged().number(index + 1).atom("FETCH").open_list();
    bool uid_done = false;
    if (uid_form) {
      w.atom("UID").number(to_int(m.uid));
      uid_done = true;
    }
    for (std::size_t k = 0; k < a.items.size(); ++k) {
      const auto& item = a.items[k];
      switch (item.kind) {
        case FetchItem::Kind::kUid:
          if (!uid_done)
            w.atom("UID").number(to_int(m.uid));
          uid_done = true;
          break;
        case FetchItem::Kind::kFlags:
          write_flags(w, m.flags);
          break;
        case FetchItem::Kind::kInternalDate:
          w.atom("INTERNALDATE").string(format_internal_date(m.internal_date));
          break;
        case FetchItem::Kind::kRfc822Size:
          w.atom("RFC822.SIZE").number(m.size);
          break;
        case FetchItem::Kind::kRfc822:
          w.atom("RFC822").literal(raw);
          break;
        case FetchItem::Kind::kRfc822Header:
          w.atom("RFC822.HEADER").literal(header_of(raw));
          break;
        case FetchItem::Kind::kRfc822Text:
          w.atom("RFC822.TEXT").literal(text_of(raw));
          break;
        case FetchItem::Kind::kEnvelope:
          w.atom("ENVELOPE");
          write_envelope(w, header_of(raw));
          break;
        case FetchItem::Kind::kBodyStructure:
        case FetchItem::Kind::kBody:
          w.atom(item.kind == FetchItem::Kind::kBody ? "BODY" : "BODYSTRUCTURE");
          write_body_structure(w, mime, raw, 0, item.kind == FetchItem::Kind::kBodyStructure);
          break;
        case FetchItem::Kind::kBodySection: {
          std::string owned;
          auto data = section_bytes(item.section, raw, structure ? &mime : nullptr, owned);
          if (item.partial)
            data = partial_range(data, item.partial->offset, item.partial->length);
          w.atom(response_name(item)).literal(data);
          break;
        }
        case FetchItem::Kind::kBinary: {
          std::string_view data = *binaries[k];
          if (item.partial)
            data = partial_range(data, item.partial->offset, item.partial->length);
          w.atom(response_name(item));
          if (data.find('\0') != std::string_view::npos)
            w.literal8(data);
          else
            w.literal(data);
          break;
        }
        case FetchItem::Kind::kBinarySize:
          w.atom(response_name(item)).number(binaries[k]->size());
          break;
      }
    }
    w.close_list().end_line();
    if (!send(w))
      return;
  }
  ok(c.tag, "", fmt::format("{} completed", c.spec->name));
}

std::optional<std::vector<std::size_t>> Session::run_search(const Command& c,
                                                            const SearchKey& key) {
  const auto& sel = std::get<Selected>(state_);
  const auto now = static_cast<std::int64_t>(std::time(nullptr));

  // Text keys: the exact substring test on the message's folded sidecar text (text_match.h),
  // for BODY, SUBJECT, FROM, TO, CC and BCC (and HEADER on those fields) only on the messages
  // the index cannot rule out (text_candidates, asked once per field and needle), and not on
  // the messages it proves contain the needle (definite matches). TEXT still reads the header
  // text of every message the index does not prove.
  struct Narrowed {
    index::TextField field;
    std::string needle;
    std::optional<index::SubstringCandidates> candidates;
  };

  std::vector<Narrowed> narrowed;
  const auto candidates = [&](index::TextField field,
                              const std::string& needle) -> const index::SubstringCandidates* {
    auto it = std::find_if(narrowed.begin(), narrowed.end(), [&](const Narrowed& n) {
      return n.field == field && n.needle == needle;
    });
    if (it == narrowed.end()) {
      narrowed.push_back(Narrowed{field, needle, backend_.text_candidates(field, needle)});
      it = std::prev(narrowed.end());
    }
    return it->candidates ? &*it->candidates : nullptr;
  };
  const auto may_contain = [&](const MessageEntry& m, index::TextField field,
                               const std::string& needle) {
    const auto* found = candidates(field, needle);
    return found == nullptr || found->may_contain(m.id);
  };
  const TextPredicate text = [&](const MessageEntry& m, const TextKey& k) -> Result<bool> {
    const std::optional<index::TextField> field = narrowing_field(k);
    if (field) {
      // A definite match (the index proves the text contains the needle) needs no text.
      const auto* found = candidates(*field, k.needle);
      if (found != nullptr && found->surely_contains(m.id))
        return true;
    }
    if (field && k.where != TextKey::Where::kText && !may_contain(m, *field, k.needle))
      return false;
    if (k.where != TextKey::Where::kBody) {
      // The header half first, from the compact header cache.
      auto h = backend_.searchable_header(m);
      if (!h)
        return h.error();
      if (k.where == TextKey::Where::kField)
        return matches_field(k, **h);
      if (matches_header_text(k, **h))
        return true;
      if (!may_contain(m, index::TextField::kBody, k.needle))
        return false;
    }
    auto t = backend_.searchable(m);
    if (!t)
      return t.error();
    return matches(k, **t);
  };
  auto found = evaluate_search(key, sel.mailbox, now, text);
  if (!found && found.error().code == Code::kUnimplemented) {
    no(c.tag, kCannot, "text search keys are not supported yet");
    return std::nullopt;
  }
  if (!found) {
    spdlog::warn("imap: {} for {} failed: {}", c.spec->name, sel.viewer.name,
                 found.error().message);
    no(c.tag, code_for(found.error()), "cannot search message text now");
    return std::nullopt;
  }
  return std::move(*found);
}

std::optional<std::vector<std::shared_ptr<const SearchableMessage>>> Session::load_texts(
    const Command& c, const std::vector<std::size_t>& indexes) {
  const auto& sel = std::get<Selected>(state_);
  std::vector<std::shared_ptr<const SearchableMessage>> out;
  out.reserve(indexes.size());
  for (const auto i : indexes) {
    auto t = backend_.searchable(sel.mailbox.messages[i]);
    if (!t) {
      spdlog::warn("imap: {} for {} failed: {}", c.spec->name, sel.viewer.name, t.error().message);
      no(c.tag, t.error().code == Code::kUnimplemented ? kCannot : code_for(t.error()),
         "cannot read the sort keys of a message now");
      return std::nullopt;
    }
    out.push_back(std::move(*t));
  }
  return out;
}

namespace {

// RFC 5182 section 2.4: SAVE with MIN and/or MAX but neither ALL nor COUNT saves only those.
std::vector<std::size_t> saved_part(std::vector<std::size_t> found, const SearchReturn& r) {
  if (found.empty() || r.all || r.count || (!r.min && !r.max))
    return found;
  std::vector<std::size_t> out;
  if (r.min)
    out.push_back(found.front());
  if (r.max && (!r.min || found.back() != found.front()))
    out.push_back(found.back());
  return out;
}

}  // namespace

void Session::cmd_search(const Command& c) {
  const auto& a = std::get<SearchCommand>(c.args);
  const bool uid_form = (c.spec->flags & kUsesUid) != 0;
  const bool save = a.program.returns && a.program.returns->save;
  auto& sel = std::get<Selected>(state_);
  auto found = run_search(c, a.program.key);
  if (!found) {
    if (save)
      sel.mailbox.saved.clear();  // RFC 5182: a failed SAVE leaves $ empty
    return;
  }
  std::vector<std::uint32_t> numbers;
  for (const auto i : *found) {
    numbers.push_back(uid_form ? to_int(sel.mailbox.messages[i].uid)
                               : static_cast<std::uint32_t>(i + 1));
  }
  if (a.program.returns) {
    const auto& r = *a.program.returns;
    if (save)
      sel.mailbox.saved = saved_part(std::move(*found), r);
    // RETURN (SAVE) alone answers no ESEARCH (RFC 5182 section 2.1).
    if (r.min || r.max || r.count || r.all)
      send(esearch_line(c.tag, uid_form, r, std::move(numbers)));
  } else {
    send(search_line(numbers));
  }
  ok(c.tag, "", fmt::format("{} completed", c.spec->name));
}

void Session::cmd_sort(const Command& c) {
  const auto& a = std::get<SortCommand>(c.args);
  const bool uid_form = (c.spec->flags & kUsesUid) != 0;
  auto found = run_search(c, a.program.key);
  if (!found)
    return;
  std::vector<std::shared_ptr<const SearchableMessage>> texts;
  if (needs_keys(a.criteria)) {
    auto loaded = load_texts(c, *found);
    if (!loaded)
      return;
    texts = std::move(*loaded);
  }
  const auto& sel = std::get<Selected>(state_);
  std::vector<SortItem> items;
  items.reserve(found->size());
  for (std::size_t k = 0; k < found->size(); ++k) {
    const auto i = (*found)[k];
    items.push_back({i, &sel.mailbox.messages[i], texts.empty() ? nullptr : &texts[k]->keys});
  }
  sort_items(items, a.criteria);
  std::string line = "* SORT";
  for (const auto& item : items) {
    line += ' ';
    line += std::to_string(uid_form ? to_int(item.message->uid)
                                    : static_cast<std::uint32_t>(item.index + 1));
  }
  line += "\r\n";
  send(line);
  ok(c.tag, "", fmt::format("{} completed", c.spec->name));
}

void Session::cmd_thread(const Command& c) {
  const auto& a = std::get<ThreadCommand>(c.args);
  const bool uid_form = (c.spec->flags & kUsesUid) != 0;
  auto found = run_search(c, a.program.key);
  if (!found)
    return;
  auto texts = load_texts(c, *found);
  if (!texts)
    return;
  const auto& sel = std::get<Selected>(state_);
  std::vector<ThreadMessage> messages;
  messages.reserve(found->size());
  for (std::size_t k = 0; k < found->size(); ++k) {
    const auto& m = sel.mailbox.messages[(*found)[k]];
    messages.push_back({uid_form ? to_int(m.uid) : static_cast<std::uint32_t>((*found)[k] + 1),
                        sent_date(m), &(*texts)[k]->keys});
  }
  const auto threads = a.algorithm == ThreadCommand::Algorithm::kReferences
                           ? thread_references(messages)
                           : thread_ordered_subject(messages);
  const auto list = format_threads(threads);
  send(fmt::format("* THREAD{}{}\r\n", list.empty() ? "" : " ", list));
  ok(c.tag, "", fmt::format("{} completed", c.spec->name));
}

void Session::cmd_store(const Command& c) {
  // Only reached with SessionOptions::store_ok: nothing changes, the client is told the flags
  // as they are (RFC 3501 lets the server answer with the flags it actually has).
  const auto& a = std::get<StoreCommand>(c.args);
  const bool uid_form = (c.spec->flags & kUsesUid) != 0;
  const auto& sel = std::get<Selected>(state_);
  if (!a.silent) {
    for (const auto index : sel.mailbox.resolve(a.set)) {
      const MessageEntry& m = sel.mailbox.messages[index];
      ResponseWriter w;
      w.untagged().number(index + 1).atom("FETCH").open_list();
      if (uid_form)
        w.atom("UID").number(to_int(m.uid));
      write_flags(w, m.flags);
      w.close_list().end_line();
      if (!send(w))
        return;
    }
  }
  ok(c.tag, "", fmt::format("{} completed; the read-only archive keeps its flags", c.spec->name));
}

}  // namespace mailvault::imapd
