// parse_command: the lines real clients send (shared/reference/imap-notes.md §2, verbatim),
// RFC 3501 examples, every command of the table, and the errors the session turns into BAD/NO.
#include "server-imap/protocol/command_parser.h"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

using namespace std::string_literals;

const Command& ok(const ParseResult& r) {
  if (const auto* e = std::get_if<CommandError>(&r)) {
    ADD_FAILURE() << "parse failed at " << e->offset << ": " << e->message;
    static const Command kEmpty;
    return kEmpty;
  }
  return std::get<Command>(r);
}

// A copy, so that callers may pass the temporary result of parse_command().
template <typename T>
T args(const ParseResult& r) {
  const Command& c = ok(r);
  if (const T* t = std::get_if<T>(&c.args)) {
    return *t;
  }
  ADD_FAILURE() << "unexpected command type";
  return T{};
}

CommandError err(std::string_view line) {
  const ParseResult r = parse_command(line);
  if (const auto* e = std::get_if<CommandError>(&r)) {
    return *e;
  }
  ADD_FAILURE() << "expected an error for: " << line;
  return {};
}

struct ClientLine {
  std::string_view line;
  std::string_view command;  // table name
};

// What the clients in imap-notes.md §2 sent, and RFC 3501 §6 examples.
constexpr ClientLine kClientLines[] = {
    // curl 7.88.1
    {"A001 CAPABILITY", "CAPABILITY"},
    {"A002 AUTHENTICATE PLAIN AHRlc3R1c2VyAHRlc3RwYXNz", "AUTHENTICATE"},
    {"A003 LIST \"\" *", "LIST"},
    {"A003 SELECT INBOX", "SELECT"},
    {"A004 UID FETCH 5 BODY[HEADER.FIELDS (SUBJECT FROM)]", "UID FETCH"},
    {"A004 UID FETCH 1 BODY[TEXT]<0.40>", "UID FETCH"},
    {"A004 FETCH 1 BODY[]", "FETCH"},
    {"A004 SEARCH SUBJECT invoice", "SEARCH"},
    {"A005 UID FETCH 1:3 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)", "UID FETCH"},
    {"A006 LOGOUT", "LOGOUT"},
    // mbsync 1.4.4
    {"2 AUTHENTICATE PLAIN AHRlc3R1c2VyAHRlc3RwYXNz", "AUTHENTICATE"},
    {"3 NAMESPACE", "NAMESPACE"},
    {"4 LIST \"\" \"*\"", "LIST"},
    {"5 SELECT \"Archive/2017\"", "SELECT"},
    {"6 UID FETCH 1:302 (UID FLAGS)", "UID FETCH"},
    {"7 UID FETCH 17 (BODY.PEEK[])", "UID FETCH"},
    {"8 UID STORE 1 +FLAGS.SILENT (\\Flagged)", "UID STORE"},
    {"9 CHECK", "CHECK"},
    // offlineimap3
    {"JBHF1 AUTHENTICATE PLAIN", "AUTHENTICATE"},
    {"JBHF2 ID (\"name\" \"OfflineIMAP\" \"version\" \"8.0.0\")", "ID"},
    {"JBHF3 LIST \"\" \"\"", "LIST"},
    {"JBHF5 EXAMINE \"INBOX\"", "EXAMINE"},
    {"JBHF6 FETCH 1:* (FLAGS UID INTERNALDATE)", "FETCH"},
    // fetchmail 6.4.37
    {"A0001 LOGIN \"testuser\" \"testpass\"", "LOGIN"},
    {"A0002 SELECT \"Lists\"", "SELECT"},
    {"A0003 FETCH 1:50 RFC822.SIZE", "FETCH"},
    {"A0004 FETCH 1 RFC822.HEADER", "FETCH"},
    {"A0005 FETCH 1 BODY.PEEK[TEXT]", "FETCH"},
    {"A0006 STORE 1 +FLAGS (\\Seen)", "STORE"},
    // mutt 2.2.12
    {"a0002 ENABLE UTF8=ACCEPT", "ENABLE"},
    {"a0005 FETCH 1:50 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM "
     "SENDER SUBJECT TO CC MESSAGE-ID REFERENCES CONTENT-TYPE CONTENT-DESCRIPTION IN-REPLY-TO "
     "REPLY-TO LINES LIST-POST X-LABEL)])",
     "FETCH"},
    {"a0006 NOOP", "NOOP"},
    {"a0007 CLOSE", "CLOSE"},
    // Python imaplib
    {"JNPB3 UID SEARCH SUBJECT invoice SINCE 1-Jan-2018", "UID SEARCH"},
    // RFC 3501 §6 examples
    {"a001 login SMITH SESAME", "LOGIN"},
    {"A142 SELECT INBOX", "SELECT"},
    {"A932 EXAMINE blurdybloop", "EXAMINE"},
    {"A682 LIST \"\" *", "LIST"},
    {"A101 LIST \"\" \"\"", "LIST"},
    {"A102 LIST #news.comp.mail.misc \"\"", "LIST"},
    {"A103 LIST /usr/staff/jones \"\"", "LIST"},
    {"A202 LIST ~/Mail/ %", "LIST"},
    {"A002 LSUB \"#news.\" \"comp.mail.*\"", "LSUB"},
    {"A042 STATUS blurdybloop (UIDNEXT MESSAGES)", "STATUS"},
    {"a002 NOOP", "NOOP"},
    {"FXXZ CHECK", "CHECK"},
    {"A341 CLOSE", "CLOSE"},
    {"A202 EXPUNGE", "EXPUNGE"},
    {"A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"", "SEARCH"},
    {"A283 SEARCH TEXT \"string not in mailbox\"", "SEARCH"},
    {"A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])", "FETCH"},
    {"A003 STORE 2:4 +FLAGS (\\Deleted)", "STORE"},
    {"A003 COPY 2:4 MEETING", "COPY"},
    {"A999 UID FETCH 4827313:4828442 FLAGS", "UID FETCH"},
    {"A003 CREATE owatagusiam/", "CREATE"},
    {"A683 DELETE blurdybloop", "DELETE"},
    {"A683 RENAME blurdybloop sarasoop", "RENAME"},
    {"A002 SUBSCRIBE #news.comp.mail.mime", "SUBSCRIBE"},
    {"A002 UNSUBSCRIBE #news.comp.mail.mime", "UNSUBSCRIBE"},
    {"a047 STARTTLS", "STARTTLS"},
    {"A001 AUTHENTICATE GSSAPI", "AUTHENTICATE"},
    // Extensions
    {"a IDLE", "IDLE"},
    {"a UNSELECT", "UNSELECT"},
    {"a MOVE 1:3 Trash", "MOVE"},
    {"a UID MOVE 1:3 Trash", "UID MOVE"},
    {"a UID COPY 1:3 Trash", "UID COPY"},
    {"a UID EXPUNGE 3000:3002", "UID EXPUNGE"},
    {"a SORT (SUBJECT) UTF-8 ALL", "SORT"},
    {"a UID SORT (REVERSE ARRIVAL) US-ASCII SINCE 1-Feb-1994", "UID SORT"},
    {"a THREAD REFERENCES UTF-8 ALL", "THREAD"},
    {"a UID THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000", "UID THREAD"},
    {"a LIST (SPECIAL-USE) \"\" \"*\"", "LIST"},
    {"a LIST \"\" \"%\" RETURN (SPECIAL-USE)", "LIST"},
    {"a SEARCH RETURN (MIN MAX COUNT) UNSEEN", "SEARCH"},
    {"a ID NIL", "ID"},
    {"a SELECT INBOX (CONDSTORE)", "SELECT"},
    {"a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE)", "STATUS"},
    {"a APPEND saved-messages (\\Seen) {3+}\r\nabc", "APPEND"},
};

TEST(ImapdCommandParser, LinesRealClientsSend) {
  for (const ClientLine& c : kClientLines) {
    SCOPED_TRACE(c.line);
    const ParseResult r = parse_command(c.line);
    const Command& cmd = ok(r);
    ASSERT_NE(cmd.spec, nullptr);
    EXPECT_EQ(cmd.spec->name, c.command);
    EXPECT_EQ(cmd.tag, c.line.substr(0, c.line.find(' ')));
  }
}

TEST(ImapdCommandParser, EveryTableEntryIsExercised) {
  std::vector<std::string_view> seen;
  for (const ClientLine& c : kClientLines) {
    seen.push_back(c.command);
  }
  for (const CommandSpec& spec : command_table()) {
    EXPECT_NE(std::find(seen.begin(), seen.end(), spec.name), seen.end()) << spec.name;
  }
}

TEST(ImapdCommandParser, CommandNamesAreCaseInsensitive) {
  EXPECT_EQ(ok(parse_command("a uid fetch 1 flags")).spec->name, "UID FETCH");
  EXPECT_EQ(ok(parse_command("a CaPaBiLiTy")).spec->name, "CAPABILITY");
}

TEST(ImapdCommandParser, Login) {
  const auto& l =
      args<LoginCommand>(parse_command("a001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man"));
  EXPECT_EQ(l.user, "FRED FOOBAR");
  EXPECT_EQ(l.password, "fat man");
  const auto& q = args<LoginCommand>(parse_command(R"(a LOGIN "a\"b" "c\\d")"));
  EXPECT_EQ(q.user, "a\"b");
  EXPECT_EQ(q.password, "c\\d");
  const auto& u = args<LoginCommand>(parse_command("a LOGIN j\xc3\xb6rg {4+}\r\np\xc3\xa4s"));
  EXPECT_EQ(u.user, "j\xc3\xb6rg");
  EXPECT_EQ(u.password, "p\xc3\xa4s");
}

TEST(ImapdCommandParser, Authenticate) {
  const auto& ir = args<AuthenticateCommand>(parse_command("a authenticate plain AGZvbwBiYXI="));
  EXPECT_EQ(ir.mechanism, "PLAIN");
  EXPECT_EQ(ir.initial_response, "AGZvbwBiYXI=");
  const auto& none = args<AuthenticateCommand>(parse_command("a AUTHENTICATE PLAIN"));
  EXPECT_FALSE(none.initial_response.has_value());
  const auto& empty = args<AuthenticateCommand>(parse_command("a AUTHENTICATE EXTERNAL ="));
  EXPECT_EQ(empty.initial_response, "");
  EXPECT_EQ(err("a AUTHENTICATE PLAIN abc!").kind, CommandError::Kind::kSyntax);
}

TEST(ImapdCommandParser, Id) {
  const auto& id = args<IdCommand>(
      parse_command("a ID (\"name\" \"OfflineIMAP\" \"version\" NIL \"os\" {5}\r\nLinux)"));
  ASSERT_EQ(id.params.size(), 3U);
  EXPECT_EQ(id.params[0].first, "name");
  EXPECT_EQ(id.params[0].second, "OfflineIMAP");
  EXPECT_FALSE(id.params[1].second.has_value());
  EXPECT_EQ(id.params[2].second, "Linux");
  EXPECT_TRUE(args<IdCommand>(parse_command("a ID nil")).params.empty());
}

TEST(ImapdCommandParser, Enable) {
  const auto& e = args<EnableCommand>(parse_command("a ENABLE utf8=accept CONDSTORE"));
  EXPECT_EQ(e.capabilities, (std::vector<std::string>{"UTF8=ACCEPT", "CONDSTORE"}));
  EXPECT_EQ(err("a ENABLE").message, "missing argument");
}

TEST(ImapdCommandParser, List) {
  const auto& empty = args<ListCommand>(parse_command("a LIST \"\" \"\""));
  EXPECT_EQ(empty.reference, "");
  EXPECT_EQ(empty.patterns, std::vector<std::string>{""});
  const auto& ext = args<ListCommand>(parse_command(
      "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"INBOX/%\" Archive/*) RETURN (CHILDREN "
      "special-use STATUS (MESSAGES UNSEEN))"));
  EXPECT_EQ(ext.selection_options, (std::vector<std::string>{"SUBSCRIBED", "RECURSIVEMATCH"}));
  EXPECT_EQ(ext.patterns, (std::vector<std::string>{"INBOX/%", "Archive/*"}));
  EXPECT_EQ(ext.return_options, (std::vector<std::string>{"CHILDREN", "SPECIAL-USE", "STATUS"}));
  EXPECT_EQ(ext.return_status,
            (std::vector<StatusItem>{StatusItem::kMessages, StatusItem::kUnseen}));
  const auto& lsub = args<LsubCommand>(parse_command("a LSUB \"\" %"));
  EXPECT_EQ(lsub.pattern, "%");
}

TEST(ImapdCommandParser, SelectAndStatus) {
  EXPECT_EQ(args<SelectCommand>(parse_command("a SELECT inbox")).mailbox, "INBOX");
  EXPECT_EQ(args<ExamineCommand>(parse_command("a EXAMINE \"Archive/&AOQ-\"")).mailbox,
            "Archive/&AOQ-");
  const auto& q = args<SelectCommand>(
      parse_command("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211) CONDSTORE)"));
  EXPECT_EQ(q.params, (std::vector<std::string>{"QRESYNC", "CONDSTORE"}));
  const auto& s = args<StatusCommand>(
      parse_command("a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE)"));
  EXPECT_EQ(s.items.size(), 6U);
  EXPECT_EQ(err("a STATUS INBOX (MESSAGES HIGHESTMODSEQ)").message,
            "unknown STATUS item HIGHESTMODSEQ");
  EXPECT_EQ(err("a STATUS INBOX ()").kind, CommandError::Kind::kSyntax);
}

// ─── FETCH ───────────────────────────────────────────────────────────────────────────────────

std::vector<std::string> names(const FetchCommand& f) {
  std::vector<std::string> out;
  for (const FetchItem& item : f.items) {
    out.push_back(response_name(item));
  }
  return out;
}

TEST(ImapdCommandParser, FetchMacros) {
  EXPECT_EQ(names(args<FetchCommand>(parse_command("a FETCH 1 ALL"))),
            (std::vector<std::string>{"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"}));
  EXPECT_EQ(names(args<FetchCommand>(parse_command("a FETCH 1 fast"))),
            (std::vector<std::string>{"FLAGS", "INTERNALDATE", "RFC822.SIZE"}));
  EXPECT_EQ(names(args<FetchCommand>(parse_command("a FETCH 1 FULL"))),
            (std::vector<std::string>{"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"}));
  EXPECT_EQ(err("a FETCH 1 (ALL)").message, "unknown FETCH item ALL");
}

TEST(ImapdCommandParser, FetchItemsAndSections) {
  const auto& f = args<FetchCommand>(parse_command(
      "a UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY RFC822 "
      "RFC822.HEADER RFC822.TEXT BODY[] BODY.PEEK[1.2.HEADER] body[1.2.mime] BODY[3.TEXT]<10.20> "
      "BODY.PEEK[HEADER.FIELDS.NOT (Received X-Spam)] BINARY.PEEK[1]<0.100> BINARY[] "
      "BINARY.SIZE[2.1] BODY[4.1])"));
  EXPECT_TRUE(f.set.is_uid());
  EXPECT_EQ(names(f),
            (std::vector<std::string>{
                "UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE", "BODY",
                "RFC822", "RFC822.HEADER", "RFC822.TEXT", "BODY[]", "BODY[1.2.HEADER]",
                "BODY[1.2.MIME]", "BODY[3.TEXT]<10>", "BODY[HEADER.FIELDS.NOT (RECEIVED X-SPAM)]",
                "BINARY[1]<0>", "BINARY[]", "BINARY.SIZE[2.1]", "BODY[4.1]"}));
  EXPECT_TRUE(f.items[11].peek);
  EXPECT_FALSE(f.items[10].peek);
  EXPECT_EQ(f.items[13].partial, (Partial{10, 20}));
  EXPECT_EQ(f.items[11].section.part, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(f.items[11].section.text, Section::Text::kHeader);
}

TEST(ImapdCommandParser, FetchMuttHeaderFields) {
  const auto& f = args<FetchCommand>(parse_command(kClientLines[30].line));
  ASSERT_EQ(f.items.size(), 5U);
  EXPECT_EQ(f.items[4].section.text, Section::Text::kHeaderFields);
  EXPECT_EQ(f.items[4].section.fields.size(), 15U);
  EXPECT_EQ(f.items[4].section.fields.front(), "DATE");
  EXPECT_TRUE(f.items[4].peek);
}

TEST(ImapdCommandParser, FetchErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a FETCH 1 BODY[MIME]", "MIME needs a part number"},
      {"a FETCH 1 BODY[HEADER.FIELDS]", "expected a space"},
      {"a FETCH 1 BODY[HEADER.FIELDS ()]", "expected an atom or string"},
      {"a FETCH 1 BINARY[HEADER]", "BINARY takes part numbers only"},
      {"a FETCH 1 BINARY[1.TEXT]", "BINARY takes part numbers only"},
      {"a FETCH 1 BODY.PEEK", "expected [ after BODY.PEEK"},
      {"a FETCH 1 BINARY.SIZE", "expected [ after BINARY.SIZE"},
      {"a FETCH 1 BINARY.SIZE[1]<0.5>", "unexpected characters after the command"},
      {"a FETCH 1 BODY[]<0.0>", "0 is not allowed here"},
      {"a FETCH 1 BODY[]<1>", "expected . in <offset.length>"},
      {"a FETCH 1 BODY[0]", "0 is not allowed here"},
      {"a FETCH 1 BODY[FOO]", "unknown section FOO"},
      {"a FETCH 1 (FLAGS", "expected )"},
      {"a FETCH 1 FLAGS)", "unexpected characters after the command"},
      {"a FETCH 1 ()", "expected a FETCH item"},
      {"a FETCH 0 FLAGS", "0 is not a valid message number"},
      {"a FETCH 4294967296 FLAGS", "message number too large"},
      {"a FETCH 99999999999999999999999 FLAGS", "number too large"},
      {"a FETCH 1,,2 FLAGS", "expected a sequence number or *"},
      {"a FETCH 1: FLAGS", "expected a sequence number or *"},
      {"a FETCH", "missing argument"},
      {"a FETCH 1", "missing argument"},
      {"a FETCH 1  FLAGS", "expected a FETCH item"},
  };
  for (const auto& [line, message] : cases) {
    SCOPED_TRACE(line);
    const CommandError e = err(line);
    EXPECT_EQ(e.kind, CommandError::Kind::kSyntax);
    EXPECT_EQ(e.tag, "a");
    EXPECT_EQ(e.message, message);
    ASSERT_NE(e.spec, nullptr);
    EXPECT_EQ(e.spec->name, "FETCH");
  }
}

TEST(ImapdCommandParser, SequenceSets) {
  const auto& f = args<FetchCommand>(parse_command("a FETCH 5:2,*,7,*:4,4294967295 FLAGS"));
  EXPECT_FALSE(f.set.is_uid());
  EXPECT_EQ(f.set.to_string(), "2:5,*,7,4:*,4294967295");
  const auto& s = args<FetchCommand>(parse_command("a UID FETCH $ FLAGS"));
  EXPECT_TRUE(s.set.is_saved());
  EXPECT_TRUE(s.set.is_uid());
}

// ─── Other commands ──────────────────────────────────────────────────────────────────────────

TEST(ImapdCommandParser, Store) {
  const auto& s = args<StoreCommand>(parse_command("a UID STORE 1:3 -FLAGS.SILENT \\Seen $Junk"));
  EXPECT_TRUE(s.set.is_uid());
  EXPECT_EQ(s.mode, StoreCommand::Mode::kRemove);
  EXPECT_TRUE(s.silent);
  EXPECT_EQ(s.flags, (std::vector<std::string>{"\\Seen", "$Junk"}));
  const auto& m =
      args<StoreCommand>(parse_command("a STORE 1 (UNCHANGEDSINCE 320162338) FLAGS ()"));
  EXPECT_EQ(m.mode, StoreCommand::Mode::kReplace);
  EXPECT_TRUE(m.flags.empty());
  EXPECT_EQ(err("a STORE 1 LABELS (x)").message, "expected FLAGS, +FLAGS or -FLAGS");
}

TEST(ImapdCommandParser, WriteCommandsAreFlagged) {
  for (std::string_view line : {"a APPEND x {1+}\r\nz", "a COPY 1 x", "a MOVE 1 x", "a EXPUNGE",
                                "a UID EXPUNGE 1", "a CREATE x", "a DELETE x", "a RENAME x y",
                                "a STORE 1 FLAGS ()", "a SUBSCRIBE x", "a UNSUBSCRIBE x"}) {
    SCOPED_TRACE(line);
    EXPECT_NE(ok(parse_command(line)).spec->flags & kChangesMail, 0);
  }
  for (std::string_view line : {"a FETCH 1 FLAGS", "a SEARCH ALL", "a EXAMINE x", "a CLOSE"}) {
    EXPECT_EQ(ok(parse_command(line)).spec->flags & kChangesMail, 0) << line;
  }
  const auto& a = args<AppendCommand>(
      parse_command("a APPEND Drafts (\\Draft) \" 7-Feb-1994 21:52:25 -0800\" ~{3+}\r\n\0\1\2"s));
  EXPECT_EQ(a.mailbox, "Drafts");
  EXPECT_EQ(a.flags, std::vector<std::string>{"\\Draft"});
  EXPECT_EQ(a.date_time, " 7-Feb-1994 21:52:25 -0800");
  EXPECT_EQ(a.size, 3U);
  EXPECT_EQ(args<CreateCommand>(parse_command("a CREATE Sent (USE (\\Sent))")).mailbox, "Sent");
  EXPECT_EQ(args<RenameCommand>(parse_command("a RENAME a b")).to, "b");
  EXPECT_EQ(args<ExpungeCommand>(parse_command("a UID EXPUNGE 1:2")).uids->to_string(), "1:2");
}

TEST(ImapdCommandParser, Sort) {
  const auto& s = args<SortCommand>(
      parse_command("a UID SORT (REVERSE DATE subject DISPLAYFROM) utf-8 UNDELETED"));
  ASSERT_EQ(s.criteria.size(), 3U);
  EXPECT_EQ(s.criteria[0], (SortCriterion{SortCriterion::Key::kDate, true}));
  EXPECT_EQ(s.criteria[1], (SortCriterion{SortCriterion::Key::kSubject, false}));
  EXPECT_EQ(s.program.charset, "UTF-8");
  EXPECT_EQ(to_string(s.program.key), "(unflag \\Deleted)");
  EXPECT_EQ(err("a SORT (REVERSE) UTF-8 ALL").message, "expected a space");
  EXPECT_EQ(err("a SORT (RANDOM) UTF-8 ALL").message, "unknown sort criterion RANDOM");
  const CommandError bad = err("a SORT (DATE) KOI8-R ALL");
  EXPECT_EQ(bad.kind, CommandError::Kind::kNo);
  EXPECT_EQ(bad.response_code, "BADCHARSET (UTF-8 US-ASCII)");
}

TEST(ImapdCommandParser, Thread) {
  const auto& t = args<ThreadCommand>(parse_command("a THREAD ORDEREDSUBJECT UTF-8 SUBJECT x"));
  EXPECT_EQ(t.algorithm, ThreadCommand::Algorithm::kOrderedSubject);
  EXPECT_EQ(err("a THREAD REFS UTF-8 ALL").message, "unsupported thread algorithm REFS");
}

TEST(ImapdCommandParser, IdleDone) {
  EXPECT_TRUE(is_idle_done("DONE"));
  EXPECT_TRUE(is_idle_done("done"));
  EXPECT_FALSE(is_idle_done("DONE "));
  EXPECT_FALSE(is_idle_done("a DONE"));
}

// ─── Errors ──────────────────────────────────────────────────────────────────────────────────

TEST(ImapdCommandParser, TagErrors) {
  for (std::string_view line : {"", " NOOP", "* NOOP", "+ NOOP", "a+b NOOP", "a(b NOOP",
                                "\"a\" NOOP", "{3}\r\nabc NOOP", "\xc3\xa4 NOOP"}) {
    const CommandError e = err(line);
    EXPECT_EQ(e.tag, "") << line;
    EXPECT_EQ(e.message, "missing or invalid tag") << line;
  }
  EXPECT_EQ(err("a").tag, "a");
  EXPECT_EQ(err("a").message, "missing argument");
  EXPECT_EQ(err("a ").message, "missing argument");
  // "]" is an ASTRING-CHAR, so it may be in a tag.
  EXPECT_EQ(ok(parse_command("a] NOOP")).tag, "a]");
}

TEST(ImapdCommandParser, UnknownCommands) {
  for (std::string_view line :
       {"a XYZZY", "a UID NOOP", "a UID", "a MYRIGHTS INBOX", "a GETQUOTAROOT INBOX", "a DONE"}) {
    SCOPED_TRACE(line);
    const ParseResult r = parse_command(line);
    ASSERT_TRUE(std::holds_alternative<CommandError>(r));
    const auto& e = std::get<CommandError>(r);
    if (line == "a UID") {
      EXPECT_EQ(e.message, "missing argument");
    } else {
      EXPECT_EQ(e.kind, CommandError::Kind::kUnknownCommand);
      EXPECT_EQ(e.tag, "a");
    }
  }
}

TEST(ImapdCommandParser, ArgumentErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a NOOP x", "unexpected characters after the command"},
      {"a NOOP ", "unexpected characters after the command"},
      {"a LOGIN x", "missing argument"},
      {"a LOGIN \"x y", "unterminated quoted string"},
      {"a LOGIN \"x\\y\" z", "only \\\" and \\\\ may be escaped in a quoted string"},
      {"a LOGIN {5}\r\nab", "literal data is truncated"},
      {"a LOGIN {2} x", "a literal announcement must end the line"},
      {"a LOGIN ~{2}\r\nab x", "literal8 (~{n}) is only allowed for binary data"},
      {"a LOGIN x\r\ny", "expected a space"},
      {"a SELECT", "missing argument"},
      {"a SELECT (x)", "expected an atom or string"},
      {"a LIST \"\"", "missing argument"},
      {"a LIST \"\" * RETURNS ()", "expected RETURN"},
      {"a ID (\"a\")", "expected a space"},
      {"a ID (\"a\" \"b\" \"c\")", "expected a space"},
  };
  for (const auto& [line, message] : cases) {
    SCOPED_TRACE(line);
    const CommandError e = err(line);
    EXPECT_EQ(e.kind, CommandError::Kind::kSyntax);
    EXPECT_EQ(e.message, message);
    EXPECT_EQ(e.tag, "a");
  }
}

TEST(ImapdCommandParser, NulInLiteralNeedsLiteral8) {
  EXPECT_EQ(err("a LOGIN {3}\r\na\0b x"s).message, "NUL in a literal (use literal8)");
  EXPECT_EQ(err("a LOGIN \"a\0b\" x"s).message, "CR, LF or NUL in a quoted string");
}

TEST(ImapdCommandParser, NestingLimit) {
  Limits limits;
  limits.max_nesting = 3;
  EXPECT_TRUE(std::holds_alternative<Command>(parse_command("a SELECT x (P1 (((1))))", Limits{})));
  const ParseResult r = parse_command("a SELECT x (P1 (((1))))", limits);
  ASSERT_TRUE(std::holds_alternative<CommandError>(r));
  EXPECT_EQ(std::get<CommandError>(r).message, "parentheses nested too deeply");
}

TEST(ImapdCommandParser, ArgumentLimit) {
  Limits limits;
  limits.max_arguments = 50;
  std::string line = "a FETCH 1 (";
  for (int i = 0; i < 60; ++i) {
    line += i == 0 ? "FLAGS" : " FLAGS";
  }
  line += ")";
  EXPECT_TRUE(std::holds_alternative<Command>(parse_command(line)));
  const ParseResult r = parse_command(line, limits);
  ASSERT_TRUE(std::holds_alternative<CommandError>(r));
  EXPECT_EQ(std::get<CommandError>(r).message, "too many arguments");
}

TEST(ImapdCommandParser, DeepNestingIsAnErrorNotACrash) {
  const std::string deep =
      "a SELECT x (P " + std::string(10000, '(') + "1" + std::string(10000, ')') + ")";
  EXPECT_EQ(err(deep).message, "parentheses nested too deeply");
  const std::string unbalanced = "a SELECT x (P " + std::string(10, '(') + "1";
  EXPECT_EQ(err(unbalanced).kind, CommandError::Kind::kSyntax);
}

TEST(ImapdCommandParser, StatesAndFlags) {
  const CommandSpec* login = find_command("login");
  ASSERT_NE(login, nullptr);
  EXPECT_TRUE(allowed_in(*login, SessionState::kNotAuthenticated));
  EXPECT_FALSE(allowed_in(*login, SessionState::kAuthenticated));
  const CommandSpec* fetch = find_command("UID FETCH");
  ASSERT_NE(fetch, nullptr);
  EXPECT_FALSE(allowed_in(*fetch, SessionState::kAuthenticated));
  EXPECT_TRUE(allowed_in(*fetch, SessionState::kSelected));
  EXPECT_NE(fetch->flags & kUsesUid, 0);
  const CommandSpec* capability = find_command("CAPABILITY");
  for (SessionState s :
       {SessionState::kNotAuthenticated, SessionState::kAuthenticated, SessionState::kSelected}) {
    EXPECT_TRUE(allowed_in(*capability, s));
  }
  EXPECT_FALSE(allowed_in(*capability, SessionState::kLogout));
  EXPECT_EQ(find_command("XYZZY"), nullptr);
}

}  // namespace
}  // namespace mailvault::imapd
