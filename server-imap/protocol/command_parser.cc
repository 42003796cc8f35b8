#include "server-imap/protocol/command_parser.h"

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "server-imap/protocol/cursor.h"
#include "server-imap/protocol/search_grammar.h"

namespace mailvault::imapd {
namespace {

using detail::ascii_upper;
using detail::Cursor;
using detail::fail_at;
using detail::iequals;
using detail::SyntaxError;

SequenceSet::Kind set_kind(bool uid) {
  return uid ? SequenceSet::Kind::kUid : SequenceSet::Kind::kSeq;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// ─── Shared pieces ───────────────────────────────────────────────────────────────────────────

std::string sp_mailbox(Cursor& c) {
  c.expect_sp();
  return c.mailbox();
}

// "(" [flag *(SP flag)] ")"
std::vector<std::string> flag_list(Cursor& c) {
  std::vector<std::string> flags;
  c.open_list();
  while (c.peek() != ')') {
    if (!flags.empty()) {
      c.expect_sp();
    }
    flags.push_back(c.flag());
  }
  c.close_list();
  return flags;
}

StatusItem status_item(Cursor& c) {
  struct Name {
    std::string_view name;
    StatusItem item;
  };

  static constexpr std::array<Name, 7> kItems{{
      {"MESSAGES", StatusItem::kMessages},
      {"RECENT", StatusItem::kRecent},
      {"UIDNEXT", StatusItem::kUidNext},
      {"UIDVALIDITY", StatusItem::kUidValidity},
      {"UNSEEN", StatusItem::kUnseen},
      {"SIZE", StatusItem::kSize},
      {"DELETED", StatusItem::kDeleted},
  }};
  const std::size_t start = c.offset();
  const std::string_view name = c.atom();
  for (const Name& n : kItems) {
    if (iequals(name, n.name)) {
      return n.item;
    }
  }
  fail_at(start, "unknown STATUS item " + ascii_upper(name));
}

// "(" status-att *(SP status-att) ")"
std::vector<StatusItem> status_items(Cursor& c) {
  std::vector<StatusItem> items;
  c.open_list();
  do {
    items.push_back(status_item(c));
  } while (c.try_sp());
  c.close_list();
  return items;
}

// "(" [atom *(SP atom)] ")", upper-cased.
std::vector<std::string> atom_list(Cursor& c) {
  std::vector<std::string> out;
  c.open_list();
  while (c.peek() != ')') {
    if (!out.empty()) {
      c.expect_sp();
    }
    out.push_back(ascii_upper(c.atom()));
  }
  c.close_list();
  return out;
}

// select-params: "(" select-param *(SP select-param) ")", select-param = name [SP value].
std::vector<std::string> select_params(Cursor& c) {
  std::vector<std::string> names;
  c.open_list();
  if (c.peek() != ')') {
    while (true) {
      names.push_back(ascii_upper(c.atom()));
      if (!c.try_sp()) {
        break;
      }
      const char next = c.peek();
      if (next == '(' || next == '"' || next == '{' || is_digit(next)) {
        c.skip_value();
        if (!c.try_sp()) {
          break;
        }
      }
    }
  }
  c.close_list();
  return names;
}

// ─── FETCH items ─────────────────────────────────────────────────────────────────────────────

// section-spec inside "[...]" for BODY; section-part only for BINARY.
Section section(Cursor& c, bool binary) {
  Section s;
  c.expect_char('[', "[");
  while (is_digit(c.peek())) {
    s.part.push_back(c.nz_number());
    if (!c.try_char('.')) {
      break;
    }
    if (!is_digit(c.peek())) {
      if (binary) {
        c.fail("BINARY takes part numbers only");
      }
      break;  // a section-text follows the part
    }
  }
  if (c.peek() != ']') {
    if (binary) {
      c.fail("BINARY takes part numbers only");
    }
    const std::size_t start = c.offset();
    const std::string name = ascii_upper(c.atom());

    struct TextName {
      std::string_view name;
      Section::Text text;
    };

    static constexpr std::array<TextName, 5> kTexts{{
        {"HEADER", Section::Text::kHeader},
        {"HEADER.FIELDS", Section::Text::kHeaderFields},
        {"HEADER.FIELDS.NOT", Section::Text::kHeaderFieldsNot},
        {"TEXT", Section::Text::kText},
        {"MIME", Section::Text::kMime},
    }};
    bool found = false;
    for (const TextName& t : kTexts) {
      if (name == t.name) {
        s.text = t.text;
        found = true;
      }
    }
    if (!found) {
      fail_at(start, "unknown section " + name);
    }
    if (s.text == Section::Text::kMime && s.part.empty()) {
      fail_at(start, "MIME needs a part number");
    }
    if (s.text == Section::Text::kHeaderFields || s.text == Section::Text::kHeaderFieldsNot) {
      c.expect_sp();
      c.open_list();
      do {
        s.fields.push_back(ascii_upper(c.astring()));
      } while (c.try_sp());
      c.close_list();
    }
  }
  c.expect_char(']', "]");
  return s;
}

std::optional<Partial> partial(Cursor& c) {
  if (!c.try_char('<')) {
    return std::nullopt;
  }
  Partial p;
  p.offset = c.number();
  c.expect_char('.', ". in <offset.length>");
  p.length = c.nz_number();
  c.expect_char('>', ">");
  return p;
}

using K = FetchItem::Kind;

struct FetchName {
  std::string_view name;
  K kind;
  bool peek;
  bool takes_section;  // "[section]" follows (optional for BODY alone: then it is kBody)
};

constexpr std::array<FetchName, 14> kFetchNames{{
    {"FLAGS", K::kFlags, false, false},
    {"INTERNALDATE", K::kInternalDate, false, false},
    {"RFC822.SIZE", K::kRfc822Size, false, false},
    {"ENVELOPE", K::kEnvelope, false, false},
    {"BODYSTRUCTURE", K::kBodyStructure, false, false},
    {"UID", K::kUid, false, false},
    {"RFC822", K::kRfc822, false, false},
    {"RFC822.HEADER", K::kRfc822Header, false, false},
    {"RFC822.TEXT", K::kRfc822Text, false, false},
    {"BODY", K::kBodySection, false, true},
    {"BODY.PEEK", K::kBodySection, true, true},
    {"BINARY", K::kBinary, false, true},
    {"BINARY.PEEK", K::kBinary, true, true},
    {"BINARY.SIZE", K::kBinarySize, false, true},
}};

FetchItem fetch_item(Cursor& c) {
  const std::size_t start = c.offset();
  // The name part of a fetch-att: letters, digits, "." and "-" (BODY.PEEK, RFC822.SIZE).
  const std::string name = ascii_upper(c.take_while([](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '.' ||
           ch == '-';
  }));
  if (name.empty()) {
    c.fail("expected a FETCH item");
  }
  c.count_argument();
  FetchItem item;
  for (const FetchName& f : kFetchNames) {
    if (name != f.name) {
      continue;
    }
    item.kind = f.kind;
    item.peek = f.peek;
    if (!f.takes_section) {
      return item;
    }
    if (c.peek() != '[') {
      if (name == "BODY") {
        item.kind = K::kBody;
        return item;
      }
      c.fail("expected [ after " + name);
    }
    item.section = section(c, item.kind != K::kBodySection);
    if (item.kind != K::kBinarySize) {
      item.partial = partial(c);
    }
    return item;
  }
  fail_at(start, "unknown FETCH item " + name);
}

FetchItem item_of(K kind) {
  FetchItem item;
  item.kind = kind;
  return item;
}

std::vector<FetchItem> fetch_macro(std::string_view name) {
  std::vector<FetchItem> items = {item_of(K::kFlags), item_of(K::kInternalDate),
                                  item_of(K::kRfc822Size)};
  if (name == "FAST") {
    return items;
  }
  items.push_back(item_of(K::kEnvelope));
  if (name == "FULL") {
    items.push_back(item_of(K::kBody));
  }
  return items;
}

// ─── Per-command parse functions (after the command name) ────────────────────────────────────

using ParseFn = CommandArgs (*)(Cursor&, bool uid);

CommandArgs parse_id(Cursor& c, bool /*uid*/) {
  c.expect_sp();
  IdCommand id;
  if (iequals(c.peek_atom(), "NIL")) {
    c.atom();
    return id;
  }
  c.open_list();
  while (c.peek() != ')') {
    if (!id.params.empty()) {
      c.expect_sp();
    }
    std::string field = c.string();
    c.expect_sp();
    id.params.emplace_back(std::move(field), c.nstring());
  }
  c.close_list();
  return id;
}

CommandArgs parse_authenticate(Cursor& c, bool /*uid*/) {
  c.expect_sp();
  AuthenticateCommand a;
  a.mechanism = ascii_upper(c.atom());
  if (c.try_sp()) {
    const std::size_t start = c.offset();
    std::string ir(c.atom());
    if (ir == "=") {
      ir.clear();
    } else {
      for (const char ch : ir) {
        const bool b64 = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || is_digit(ch) ||
                         ch == '+' || ch == '/' || ch == '=';
        if (!b64) {
          fail_at(start, "initial response is not base64");
        }
      }
    }
    a.initial_response = std::move(ir);
  }
  return a;
}

CommandArgs parse_login(Cursor& c, bool /*uid*/) {
  LoginCommand l;
  c.expect_sp();
  l.user = c.astring();
  c.expect_sp();
  l.password = c.astring();
  return l;
}

CommandArgs parse_enable(Cursor& c, bool /*uid*/) {
  EnableCommand e;
  do {
    c.expect_sp();
    e.capabilities.push_back(ascii_upper(c.atom()));
  } while (c.peek() == ' ');
  return e;
}

template <typename T>
CommandArgs parse_select(Cursor& c, bool /*uid*/) {
  T s;
  s.mailbox = sp_mailbox(c);
  if (c.try_sp()) {
    s.params = select_params(c);
  }
  return s;
}

CommandArgs parse_list(Cursor& c, bool /*uid*/) {
  ListCommand l;
  c.expect_sp();
  if (c.peek() == '(') {
    l.selection_options = atom_list(c);
    c.expect_sp();
  }
  l.reference = c.mailbox();
  c.expect_sp();
  if (c.peek() == '(') {
    c.open_list();
    do {
      l.patterns.push_back(c.list_mailbox());
    } while (c.try_sp());
    c.close_list();
  } else {
    l.patterns.push_back(c.list_mailbox());
  }
  if (c.try_sp()) {
    const std::size_t start = c.offset();
    if (!iequals(c.atom(), "RETURN")) {
      fail_at(start, "expected RETURN");
    }
    c.expect_sp();
    c.open_list();
    while (c.peek() != ')') {
      if (!l.return_options.empty()) {
        c.expect_sp();
      }
      l.return_options.push_back(ascii_upper(c.atom()));
      if (l.return_options.back() == "STATUS") {
        c.expect_sp();
        l.return_status = status_items(c);
      }
    }
    c.close_list();
  }
  return l;
}

CommandArgs parse_lsub(Cursor& c, bool /*uid*/) {
  LsubCommand l;
  l.reference = sp_mailbox(c);
  c.expect_sp();
  l.pattern = c.list_mailbox();
  return l;
}

CommandArgs parse_status(Cursor& c, bool /*uid*/) {
  StatusCommand s;
  s.mailbox = sp_mailbox(c);
  c.expect_sp();
  s.items = status_items(c);
  return s;
}

CommandArgs parse_fetch(Cursor& c, bool uid) {
  FetchCommand f;
  c.expect_sp();
  f.set = c.sequence_set(set_kind(uid));
  c.expect_sp();
  if (c.peek() == '(') {
    c.open_list();
    do {
      f.items.push_back(fetch_item(c));
    } while (c.try_sp());
    c.close_list();
  } else {
    const std::string macro = ascii_upper(c.peek_atom());
    if (macro == "ALL" || macro == "FAST" || macro == "FULL") {
      c.atom();
      f.items = fetch_macro(macro);
    } else {
      f.items.push_back(fetch_item(c));
    }
  }
  return f;
}

CommandArgs parse_search(Cursor& c, bool uid) {
  c.expect_sp();
  return SearchCommand{detail::read_search_program(c, uid)};
}

CommandArgs parse_sort(Cursor& c, bool uid) {
  struct KeyName {
    std::string_view name;
    SortCriterion::Key key;
  };

  using SK = SortCriterion::Key;
  static constexpr std::array<KeyName, 9> kSortKeys{{
      {"ARRIVAL", SK::kArrival},
      {"CC", SK::kCc},
      {"DATE", SK::kDate},
      {"FROM", SK::kFrom},
      {"SIZE", SK::kSize},
      {"SUBJECT", SK::kSubject},
      {"TO", SK::kTo},
      {"DISPLAYFROM", SK::kDisplayFrom},
      {"DISPLAYTO", SK::kDisplayTo},
  }};
  SortCommand s;
  c.expect_sp();
  c.open_list();
  do {
    SortCriterion criterion;
    std::size_t start = c.offset();
    std::string name = ascii_upper(c.atom());
    if (name == "REVERSE") {
      criterion.reverse = true;
      c.expect_sp();
      start = c.offset();
      name = ascii_upper(c.atom());
    }
    bool found = false;
    for (const KeyName& k : kSortKeys) {
      if (name == k.name) {
        criterion.key = k.key;
        found = true;
      }
    }
    if (!found) {
      fail_at(start, "unknown sort criterion " + name);
    }
    s.criteria.push_back(criterion);
  } while (c.try_sp());
  c.close_list();
  c.expect_sp();
  s.program = detail::read_charset_and_keys(c, uid);
  return s;
}

CommandArgs parse_thread(Cursor& c, bool uid) {
  ThreadCommand t;
  c.expect_sp();
  const std::size_t start = c.offset();
  const std::string algorithm = ascii_upper(c.atom());
  if (algorithm == "REFERENCES") {
    t.algorithm = ThreadCommand::Algorithm::kReferences;
  } else if (algorithm == "ORDEREDSUBJECT") {
    t.algorithm = ThreadCommand::Algorithm::kOrderedSubject;
  } else {
    fail_at(start, "unsupported thread algorithm " + algorithm);
  }
  c.expect_sp();
  t.program = detail::read_charset_and_keys(c, uid);
  return t;
}

CommandArgs parse_append(Cursor& c, bool /*uid*/) {
  AppendCommand a;
  a.mailbox = sp_mailbox(c);
  c.expect_sp();
  if (c.peek() == '(') {
    a.flags = flag_list(c);
    c.expect_sp();
  }
  if (c.peek() == '"') {
    a.date_time = c.string();
    c.expect_sp();
  }
  a.size = c.literal_or_literal8().size();
  return a;
}

template <typename T>
CommandArgs parse_set_and_mailbox(Cursor& c, bool uid) {
  T t;
  c.expect_sp();
  t.set = c.sequence_set(set_kind(uid));
  t.mailbox = sp_mailbox(c);
  return t;
}

CommandArgs parse_expunge(Cursor& c, bool uid) {
  ExpungeCommand e;
  if (uid) {
    c.expect_sp();
    e.uids = c.sequence_set(SequenceSet::Kind::kUid);
  }
  return e;
}

CommandArgs parse_create(Cursor& c, bool /*uid*/) {
  CreateCommand cr{sp_mailbox(c)};
  if (c.try_sp()) {
    c.skip_value();  // RFC 4466 create-param list, e.g. (USE (\Sent))
  }
  return cr;
}

template <typename T>
CommandArgs parse_mailbox_only(Cursor& c, bool /*uid*/) {
  return T{sp_mailbox(c)};
}

CommandArgs parse_rename(Cursor& c, bool /*uid*/) {
  RenameCommand r;
  r.from = sp_mailbox(c);
  r.to = sp_mailbox(c);
  return r;
}

CommandArgs parse_store(Cursor& c, bool uid) {
  StoreCommand s;
  c.expect_sp();
  s.set = c.sequence_set(set_kind(uid));
  c.expect_sp();
  if (c.peek() == '(') {
    c.skip_value();  // RFC 7162 store-modifiers, e.g. (UNCHANGEDSINCE 5)
    c.expect_sp();
  }
  const std::size_t start = c.offset();
  std::string item = ascii_upper(c.atom());
  if (!item.empty() && (item[0] == '+' || item[0] == '-')) {
    s.mode = item[0] == '+' ? StoreCommand::Mode::kAdd : StoreCommand::Mode::kRemove;
    item.erase(0, 1);
  }
  if (item == "FLAGS.SILENT") {
    s.silent = true;
  } else if (item != "FLAGS") {
    fail_at(start, "expected FLAGS, +FLAGS or -FLAGS");
  }
  c.expect_sp();
  if (c.peek() == '(') {
    s.flags = flag_list(c);
  } else {
    do {
      s.flags.push_back(c.flag());
    } while (c.try_sp());
  }
  return s;
}

template <typename T>
CommandArgs no_arguments(Cursor& /*c*/, bool /*uid*/) {
  return T{};
}

// ─── The command table ───────────────────────────────────────────────────────────────────────

struct Row {
  CommandSpec spec;
  ParseFn parse = nullptr;
};

constexpr std::uint8_t kAny = kInAnyState;
constexpr std::uint8_t kNotAuth = kInNotAuthenticated;
constexpr std::uint8_t kAuth = kInAuthOrSelected;
constexpr std::uint8_t kSel = kInSelected;
constexpr std::uint8_t kWrite = kChangesMail;
constexpr std::uint8_t kSeq = kUsesSequenceNumbers;
constexpr std::uint8_t kUid = kUsesUid;

constexpr std::array kCommands{
    Row{{"CAPABILITY", kAny, kNoFlags}, no_arguments<CapabilityCommand>},
    Row{{"NOOP", kAny, kNoFlags}, no_arguments<NoopCommand>},
    Row{{"LOGOUT", kAny, kNoFlags}, no_arguments<LogoutCommand>},
    Row{{"ID", kAny, kNoFlags}, parse_id},
    Row{{"STARTTLS", kNotAuth, kNoFlags}, no_arguments<StarttlsCommand>},
    Row{{"AUTHENTICATE", kNotAuth, kNoFlags}, parse_authenticate},
    Row{{"LOGIN", kNotAuth, kNoFlags}, parse_login},
    Row{{"ENABLE", kAuth, kNoFlags}, parse_enable},
    Row{{"NAMESPACE", kAuth, kNoFlags}, no_arguments<NamespaceCommand>},
    Row{{"SELECT", kAuth, kNoFlags}, parse_select<SelectCommand>},
    Row{{"EXAMINE", kAuth, kNoFlags}, parse_select<ExamineCommand>},
    Row{{"LIST", kAuth, kNoFlags}, parse_list},
    Row{{"LSUB", kAuth, kNoFlags}, parse_lsub},
    Row{{"STATUS", kAuth, kNoFlags}, parse_status},
    Row{{"IDLE", kAuth, kNoFlags}, no_arguments<IdleCommand>},
    Row{{"CLOSE", kSel, kNoFlags}, no_arguments<CloseCommand>},
    Row{{"UNSELECT", kSel, kNoFlags}, no_arguments<UnselectCommand>},
    Row{{"CHECK", kSel, kNoFlags}, no_arguments<CheckCommand>},
    Row{{"FETCH", kSel, kSeq}, parse_fetch},
    Row{{"UID FETCH", kSel, kUid}, parse_fetch},
    Row{{"SEARCH", kSel, kSeq}, parse_search},
    Row{{"UID SEARCH", kSel, kUid}, parse_search},
    Row{{"SORT", kSel, kSeq}, parse_sort},
    Row{{"UID SORT", kSel, kUid}, parse_sort},
    Row{{"THREAD", kSel, kSeq}, parse_thread},
    Row{{"UID THREAD", kSel, kUid}, parse_thread},
    Row{{"APPEND", kAuth, kWrite}, parse_append},
    Row{{"COPY", kSel, kWrite | kSeq}, parse_set_and_mailbox<CopyCommand>},
    Row{{"UID COPY", kSel, kWrite | kUid}, parse_set_and_mailbox<CopyCommand>},
    Row{{"MOVE", kSel, kWrite | kSeq}, parse_set_and_mailbox<MoveCommand>},
    Row{{"UID MOVE", kSel, kWrite | kUid}, parse_set_and_mailbox<MoveCommand>},
    Row{{"EXPUNGE", kSel, kWrite}, parse_expunge},
    Row{{"UID EXPUNGE", kSel, kWrite | kUid}, parse_expunge},
    Row{{"STORE", kSel, kWrite | kSeq}, parse_store},
    Row{{"UID STORE", kSel, kWrite | kUid}, parse_store},
    Row{{"CREATE", kAuth, kWrite}, parse_create},
    Row{{"DELETE", kAuth, kWrite}, parse_mailbox_only<DeleteCommand>},
    Row{{"RENAME", kAuth, kWrite}, parse_rename},
    Row{{"SUBSCRIBE", kAuth, kWrite}, parse_mailbox_only<SubscribeCommand>},
    Row{{"UNSUBSCRIBE", kAuth, kWrite}, parse_mailbox_only<UnsubscribeCommand>},
};

constexpr auto kSpecs = [] {
  std::array<CommandSpec, kCommands.size()> specs{};
  for (std::size_t i = 0; i < kCommands.size(); ++i) {
    specs[i] = kCommands[i].spec;
  }
  return specs;
}();

const Row* find_row(std::string_view name) noexcept {
  for (const Row& row : kCommands) {
    if (iequals(row.spec.name, name)) {
      return &row;
    }
  }
  return nullptr;
}

const CommandSpec* spec_of(const Row* row) noexcept {
  return row == nullptr ? nullptr : &kSpecs[static_cast<std::size_t>(row - kCommands.data())];
}

bool is_tag_char(char ch) {
  return ch != '+' && detail::is_astring_char(ch) && static_cast<unsigned char>(ch) < 0x80;
}

}  // namespace

bool allowed_in(const CommandSpec& spec, SessionState state) noexcept {
  switch (state) {
    case SessionState::kNotAuthenticated:
      return (spec.states & kInNotAuthenticated) != 0;
    case SessionState::kAuthenticated:
      return (spec.states & kInAuthenticated) != 0;
    case SessionState::kSelected:
      return (spec.states & kInSelected) != 0;
    case SessionState::kLogout:
      return false;
  }
  return false;
}

std::span<const CommandSpec> command_table() noexcept {
  return kSpecs;
}

const CommandSpec* find_command(std::string_view name) noexcept {
  return spec_of(find_row(name));
}

ParseResult parse_command(std::string_view text, const Limits& limits) {
  Cursor c(text, limits);
  CommandError error;
  std::size_t tag_length = 0;
  while (tag_length < text.size() && is_tag_char(text[tag_length])) {
    ++tag_length;
  }
  if (tag_length == 0 || (tag_length < text.size() && text[tag_length] != ' ')) {
    error.message = "missing or invalid tag";
    return error;
  }
  error.tag = std::string(text.substr(0, tag_length));
  const Row* row = nullptr;
  try {
    c.take_while(is_tag_char);
    c.expect_sp();
    const std::size_t name_start = c.offset();
    std::string name = ascii_upper(c.atom());
    if (name == "UID") {
      c.expect_sp();
      name += ' ';
      name += ascii_upper(c.atom());
    }
    row = find_row(name);
    if (row == nullptr) {
      error.kind = CommandError::Kind::kUnknownCommand;
      error.offset = name_start;
      error.message = "unknown command " + detail::printable(name, 64);
      return error;
    }
    CommandArgs args = row->parse(c, (row->spec.flags & kUsesUid) != 0);
    c.expect_end();
    return Command{std::move(error.tag), spec_of(row), std::move(args)};
  } catch (SyntaxError& e) {
    error.kind = e.is_no ? CommandError::Kind::kNo : CommandError::Kind::kSyntax;
    error.message = std::move(e.message);
    error.offset = e.offset;
    error.response_code = std::move(e.response_code);
    error.spec = spec_of(row);
    return error;
  }
}

bool is_idle_done(std::string_view line) noexcept {
  return iequals(line, "DONE");
}

// ─── FETCH response names ────────────────────────────────────────────────────────────────────

std::string response_name(const FetchItem& item) {
  auto section_text = [&]() {
    std::string s = "[";
    for (std::size_t i = 0; i < item.section.part.size(); ++i) {
      if (i > 0) {
        s += '.';
      }
      s += std::to_string(item.section.part[i]);
    }
    static constexpr std::array<std::string_view, 6> kTexts = {
        "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"};
    const std::string_view text = kTexts[static_cast<std::size_t>(item.section.text)];
    if (!text.empty()) {
      if (!item.section.part.empty()) {
        s += '.';
      }
      s += text;
    }
    if (!item.section.fields.empty()) {
      s += " (";
      for (std::size_t i = 0; i < item.section.fields.size(); ++i) {
        if (i > 0) {
          s += ' ';
        }
        s += item.section.fields[i];
      }
      s += ')';
    }
    s += ']';
    if (item.partial) {
      s += '<';
      s += std::to_string(item.partial->offset);
      s += '>';
    }
    return s;
  };
  switch (item.kind) {
    case K::kFlags:
      return "FLAGS";
    case K::kInternalDate:
      return "INTERNALDATE";
    case K::kRfc822Size:
      return "RFC822.SIZE";
    case K::kEnvelope:
      return "ENVELOPE";
    case K::kBodyStructure:
      return "BODYSTRUCTURE";
    case K::kBody:
      return "BODY";
    case K::kUid:
      return "UID";
    case K::kRfc822:
      return "RFC822";
    case K::kRfc822Header:
      return "RFC822.HEADER";
    case K::kRfc822Text:
      return "RFC822.TEXT";
    case K::kBodySection:
      return "BODY" + section_text();
    case K::kBinary:
      return "BINARY" + section_text();
    case K::kBinarySize:
      return "BINARY.SIZE" + section_text();
  }
  return {};
}

}  // namespace mailvault::imapd
