#include "ingest/imap/response_parser.h"

#include <cctype>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::ingest::imap {

// Readable failure output (gtest otherwise prints raw bytes).
void PrintTo(const Response& r, std::ostream* os) {
  *os << "{kind " << static_cast<int>(r.kind) << " tag '" << r.tag << "' ";
  std::visit(
      [os](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, StatusResponse>) {
          *os << "status " << condition_name(d.condition) << " code "
              << (d.code ? d.code->name + "|" + d.code->text : "-") << " text '" << d.text << "'";
        } else if constexpr (std::is_same_v<T, FetchData>) {
          *os << "fetch seq " << to_int(d.seq) << " uid " << (d.uid ? to_int(*d.uid) : 0)
              << " body " << (d.body ? "'" + *d.body + "'" : "-") << " nil " << d.body_nil
              << " date " << d.internal_date.value_or("-") << " size " << d.rfc822_size.value_or(0)
              << " flags " << (d.flags ? d.flags->size() : 99);
        } else if constexpr (std::is_same_v<T, ListData>) {
          *os << "list '" << d.name << "' delim " << static_cast<int>(d.delimiter) << " attrs "
              << d.attributes.size();
        } else if constexpr (std::is_same_v<T, OtherData>) {
          *os << "other " << d.name << " '" << d.text << "'";
        } else if constexpr (std::is_same_v<T, ContinuationData>) {
          *os << "continuation '" << d.text << "'";
        } else {
          *os << "variant " << typeid(T).name();
        }
      },
      r.data);
  *os << "}";
}

namespace {

struct Parsed {
  std::vector<Response> responses;
  std::optional<Error> error;
  bool idle = true;
};

// Feeds `bytes` in chunks of `chunk` bytes (0: all at once).
Parsed parse(std::string_view bytes, std::size_t chunk, const ParserLimits& limits = {}) {
  Parsed out;
  ResponseParser parser(limits);
  std::size_t step = chunk == 0 ? bytes.size() : chunk;
  for (std::size_t i = 0; i < bytes.size(); i += step) {
    auto s = parser.feed(bytes.substr(i, step));
    while (auto r = parser.next()) {
      out.responses.push_back(std::move(*r));
    }
    if (!s) {
      out.error = s.error();
      break;
    }
  }
  out.idle = parser.idle();
  return out;
}

// Parses in one chunk, byte by byte and in chunks of 7; all three must agree.
Parsed parse_all_ways(std::string_view bytes, const ParserLimits& limits = {}) {
  Parsed whole = parse(bytes, 0, limits);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}}) {
    Parsed other = parse(bytes, chunk, limits);
    EXPECT_EQ(whole.responses, other.responses) << "chunk " << chunk << " for: " << bytes;
    EXPECT_EQ(whole.error.has_value(), other.error.has_value()) << "chunk " << chunk;
    if (whole.error && other.error) {
      EXPECT_EQ(whole.error->code, other.error->code);
      EXPECT_EQ(whole.error->message, other.error->message);
    }
    EXPECT_EQ(whole.idle, other.idle);
  }
  return whole;
}

Response one(std::string_view bytes) {
  Parsed p = parse_all_ways(bytes);
  EXPECT_FALSE(p.error) << p.error->message;
  EXPECT_EQ(p.responses.size(), 1u) << bytes;
  EXPECT_TRUE(p.idle);
  return p.responses.empty() ? Response{} : p.responses.front();
}

Response untagged(decltype(Response::data) data) {
  return Response{ResponseKind::kUntagged, "", std::move(data)};
}

StatusResponse status(Condition c, std::optional<ResponseCode> code, std::string text) {
  return StatusResponse{c, std::move(code), std::move(text)};
}

ResponseCode code(std::string name, std::string text = "") {
  return ResponseCode{std::move(name), std::move(text), std::nullopt, {}};
}

// A string literal with embedded NUL bytes.
template <std::size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

// --- Table of RFC 3501 (and extension RFC) examples ---------------------------------------------

struct Example {
  const char* name;
  std::string input;
  Response expected;
};

FetchData fetch_data(std::uint32_t seq, std::function<void(FetchData&)> fill) {
  FetchData f;
  f.seq = SeqNum{seq};
  fill(f);
  return f;
}

std::vector<Example> examples() {
  std::vector<Example> t;
  t.push_back({"greeting", "* OK IMAP4rev1 Service Ready\r\n",
               untagged(status(Condition::kOk, std::nullopt, "IMAP4rev1 Service Ready"))});
  {
    ResponseCode c = code("CAPABILITY", "IMAP4rev1 SASL-IR ID IDLE LITERAL+ STARTTLS AUTH=PLAIN");
    c.items = {"IMAP4rev1", "SASL-IR", "ID", "IDLE", "LITERAL+", "STARTTLS", "AUTH=PLAIN"};
    t.push_back({"dovecot greeting with capability code",
                 "* OK [CAPABILITY IMAP4rev1 SASL-IR ID IDLE LITERAL+ STARTTLS AUTH=PLAIN] "
                 "Dovecot ready.\r\n",
                 untagged(status(Condition::kOk, c, "Dovecot ready."))});
  }
  {
    ResponseCode c = code("UIDVALIDITY", "3857529045");
    c.number = 3857529045u;
    t.push_back({"uidvalidity", "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
                 untagged(status(Condition::kOk, c, "UIDs valid"))});
  }
  {
    ResponseCode c = code("UIDNEXT", "4392");
    c.number = 4392;
    t.push_back({"uidnext", "* OK [UIDNEXT 4392] Predicted next UID\r\n",
                 untagged(status(Condition::kOk, c, "Predicted next UID"))});
  }
  {
    ResponseCode c = code("UNSEEN", "12");
    c.number = 12;
    t.push_back({"unseen", "* OK [UNSEEN 12] Message 12 is first unseen\r\n",
                 untagged(status(Condition::kOk, c, "Message 12 is first unseen"))});
  }
  {
    ResponseCode c = code("PERMANENTFLAGS", "(\\Deleted \\Seen \\*)");
    c.items = {"\\Deleted", "\\Seen", "\\*"};
    t.push_back({"permanentflags", "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
                 untagged(status(Condition::kOk, c, "Limited"))});
  }
  t.push_back({"tagged read-only", "A932 OK [READ-ONLY] EXAMINE completed\r\n",
               Response{ResponseKind::kTagged, "A932",
                        status(Condition::kOk, code("READ-ONLY"), "EXAMINE completed")}});
  t.push_back(
      {"tagged no authenticationfailed",
       "a001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
       Response{ResponseKind::kTagged, "a001",
                status(Condition::kNo, code("AUTHENTICATIONFAILED"), "Authentication failed.")}});
  t.push_back({"tagged bad without text", "A1 BAD\r\n",
               Response{ResponseKind::kTagged, "A1", status(Condition::kBad, std::nullopt, "")}});
  t.push_back({"alert", "* OK [ALERT] System shutdown in 10 minutes\r\n",
               untagged(status(Condition::kOk, code("ALERT"), "System shutdown in 10 minutes"))});
  t.push_back({"unknown code kept as text", "* NO [X-SOMETHING a b c] whatever\r\n",
               untagged(status(Condition::kNo, code("X-SOMETHING", "a b c"), "whatever"))});
  t.push_back({"lower-case code name", "* ok [read-only] x\r\n",
               untagged(status(Condition::kOk, code("READ-ONLY"), "x"))});
  t.push_back({"bye", "* BYE IMAP4rev1 Server logging out\r\n",
               untagged(status(Condition::kBye, std::nullopt, "IMAP4rev1 Server logging out"))});
  t.push_back(
      {"preauth", "* PREAUTH IMAP4rev1 server logged in as Smith\r\n",
       untagged(status(Condition::kPreauth, std::nullopt, "IMAP4rev1 server logged in as Smith"))});
  t.push_back(
      {"capability", "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n",
       untagged(CapabilityData{{"IMAP4rev1", "STARTTLS", "AUTH=GSSAPI", "LOGINDISABLED"}})});
  t.push_back({"list atom name", "* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n",
               untagged(ListData{false, {"\\Noselect"}, '/', "~/Mail/foo"})});
  t.push_back({"list dot delimiter", "* LIST () \".\" #news.comp.mail.misc\r\n",
               untagged(ListData{false, {}, '.', "#news.comp.mail.misc"})});
  t.push_back({"list nil delimiter", "* LIST (\\Noselect) NIL \"\"\r\n",
               untagged(ListData{false, {"\\Noselect"}, '\0', ""})});
  t.push_back({"list quoted with escapes", "* LIST () \"\\\\\" \"a \\\"b\\\" \\\\c\"\r\n",
               untagged(ListData{false, {}, '\\', "a \"b\" \\c"})});
  t.push_back({"list literal name", "* LIST (\\HasNoChildren) \"/\" {11}\r\nPr&APw-fung\r\n",
               untagged(ListData{false, {"\\HasNoChildren"}, '/', "Pr&APw-fung"})});
  t.push_back({"list special-use and extended data",
               "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\" (\"CHILDINFO\" "
               "(\"SUBSCRIBED\"))\r\n",
               untagged(ListData{false, {"\\HasNoChildren", "\\Sent"}, '/', "Sent Items"})});
  t.push_back({"lsub", "* LSUB () \".\" #news.comp.mail.misc\r\n",
               untagged(ListData{true, {}, '.', "#news.comp.mail.misc"})});
  t.push_back({"exists", "* 172 EXISTS\r\n", untagged(ExistsData{172})});
  t.push_back({"recent", "* 1 RECENT\r\n", untagged(RecentData{1})});
  t.push_back({"expunge", "* 22 EXPUNGE\r\n", untagged(ExpungeData{SeqNum{22}})});
  t.push_back({"flags", "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
               untagged(FlagsData{{"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"}})});
  t.push_back({"search", "* SEARCH 2 84 882\r\n", untagged(SearchData{{2, 84, 882}})});
  t.push_back({"empty search", "* SEARCH\r\n", untagged(SearchData{})});
  t.push_back(
      {"search with modseq", "* SEARCH 2 5 (MODSEQ 917162500)\r\n", untagged(SearchData{{2, 5}})});
  t.push_back({"esearch min count", "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n",
               untagged(EsearchData{"A282", false, 2, std::nullopt, 3, {}})});
  t.push_back({"esearch all", "* ESEARCH (TAG \"A283\") ALL 2,10:11\r\n",
               untagged(EsearchData{
                   "A283", false, std::nullopt, std::nullopt, std::nullopt, {{2, 2}, {10, 11}}})});
  t.push_back({"esearch uid", "* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800\r\n",
               untagged(EsearchData{"A285", true, 7, 3800, std::nullopt, {}})});
  t.push_back({"esearch no match", "* ESEARCH (TAG \"A284\")\r\n",
               untagged(EsearchData{"A284", false, std::nullopt, std::nullopt, std::nullopt, {}})});
  t.push_back(
      {"fetch RFC 3501 example with envelope and body structure",
       "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 "
       "ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and "
       "minutes\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL "
       "\"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
       "((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
       "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
       "\"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" "
       "\"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n",
       untagged(fetch_data(12, [](FetchData& f) {
         f.flags = std::vector<std::string>{"\\Seen"};
         f.internal_date = "17-Jul-1996 02:44:25 -0700";
         f.rfc822_size = 4286;
       }))});
  t.push_back({"fetch body literal", "* 1 FETCH (UID 5 BODY[] {11}\r\nhello world)\r\n",
               untagged(fetch_data(1, [](FetchData& f) {
                 f.uid = Uid{5};
                 f.body = "hello world";
               }))});
  t.push_back({"fetch items in any order, literal with CRLF inside",
               "* 3 FETCH (RFC822.SIZE 8 BODY[] {8}\r\na\r\n\r\nb\r\n INTERNALDATE \" 7-Jan-2020 "
               "01:02:03 +0000\" UID 9 FLAGS ())\r\n",
               untagged(fetch_data(3, [](FetchData& f) {
                 f.rfc822_size = 8;
                 f.body = "a\r\n\r\nb\r\n";
                 f.internal_date = " 7-Jan-2020 01:02:03 +0000";
                 f.uid = Uid{9};
                 f.flags = std::vector<std::string>{};
               }))});
  t.push_back({"fetch literal8", bytes("* 2 FETCH (UID 6 BINARY[] ~{3}\r\n\0\1\2)\r\n"),
               untagged(fetch_data(2, [](FetchData& f) {
                 f.uid = Uid{6};
                 f.body = std::string("\0\1\2", 3);
               }))});
  t.push_back({"fetch quoted body", "* 2 FETCH (UID 7 BODY[] \"short\")\r\n",
               untagged(fetch_data(2, [](FetchData& f) {
                 f.uid = Uid{7};
                 f.body = "short";
               }))});
  t.push_back({"fetch nil body", "* 2 FETCH (UID 8 BODY[] NIL)\r\n",
               untagged(fetch_data(2, [](FetchData& f) {
                 f.uid = Uid{8};
                 f.body_nil = true;
               }))});
  t.push_back({"fetch empty literal", "* 2 FETCH (UID 8 BODY[] {0}\r\n)\r\n",
               untagged(fetch_data(2, [](FetchData& f) {
                 f.uid = Uid{8};
                 f.body = "";
               }))});
  t.push_back(
      {"fetch partial origin and header section skipped",
       "* 4 FETCH (BODY[HEADER.FIELDS (FROM TO)] {4}\r\nab\r\n BODY[]<0> {2}\r\nxy UID 1)\r\n",
       untagged(fetch_data(4, [](FetchData& f) {
         f.body = "xy";
         f.uid = Uid{1};
       }))});
  t.push_back({"unsolicited flags update", "* 23 FETCH (FLAGS (\\Seen $Junk) UID 4827313)\r\n",
               untagged(fetch_data(23, [](FetchData& f) {
                 f.flags = std::vector<std::string>{"\\Seen", "$Junk"};
                 f.uid = Uid{4827313};
               }))});
  t.push_back({"fetch modseq", "* 1 FETCH (UID 1 MODSEQ (12345678901))\r\n",
               untagged(fetch_data(1, [](FetchData& f) {
                 f.uid = Uid{1};
                 f.modseq = 12345678901u;
               }))});
  t.push_back({"continuation", "+ idling\r\n",
               Response{ResponseKind::kContinuation, "", ContinuationData{"idling"}}});
  t.push_back({"empty continuation", "+ \r\n",
               Response{ResponseKind::kContinuation, "", ContinuationData{""}}});
  t.push_back({"bare continuation", "+\r\n",
               Response{ResponseKind::kContinuation, "", ContinuationData{""}}});
  t.push_back({"id", "* ID (\"name\" \"Dovecot\")\r\n",
               untagged(OtherData{"ID", "(\"name\" \"Dovecot\")"})});
  t.push_back({"status", "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
               untagged(OtherData{"STATUS", "blurdybloop (MESSAGES 231 UIDNEXT 44292)"})});
  t.push_back({"bare LF line end", "* 3 EXISTS\n", untagged(ExistsData{3})});
  return t;
}

void PrintTo(const Example& e, std::ostream* os) {
  *os << e.name;
}

class IngestImapExampleTest : public ::testing::TestWithParam<Example> {};

TEST_P(IngestImapExampleTest, ParsesTheSameInAnyChunking) {
  const Example& e = GetParam();
  EXPECT_EQ(one(e.input), e.expected) << e.name;
}

INSTANTIATE_TEST_SUITE_P(IngestImapRfc3501, IngestImapExampleTest, ::testing::ValuesIn(examples()),
                         [](const ::testing::TestParamInfo<Example>& param_info) {
                           std::string name;
                           for (char c : std::string(param_info.param.name)) {
                             name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           }
                           return name;
                         });

TEST(IngestImapResponseParserTest, AllExamplesConcatenatedGiveTheSameSequence) {
  std::string all;
  std::vector<Response> expected;
  for (const auto& e : examples()) {
    all += e.input;
    expected.push_back(e.expected);
  }
  Parsed p = parse_all_ways(all);
  ASSERT_FALSE(p.error) << p.error->message;
  EXPECT_EQ(p.responses, expected);
  EXPECT_TRUE(p.idle);
}

TEST(IngestImapResponseParserTest, ExistsInTheMiddleOfAFetch) {
  Parsed p = parse_all_ways(
      "* 1 FETCH (UID 10 BODY[] {3}\r\nabc)\r\n"
      "* 5 EXISTS\r\n"
      "* 4 FETCH (FLAGS (\\Seen))\r\n"
      "* 2 FETCH (UID 11 BODY[] {2}\r\nde)\r\n"
      "A7 OK Fetch completed.\r\n");
  ASSERT_FALSE(p.error);
  ASSERT_EQ(p.responses.size(), 5u);
  EXPECT_EQ(p.responses[1], untagged(ExistsData{5}));
  EXPECT_EQ(p.responses[3].get<FetchData>()->body, "de");
  EXPECT_EQ(p.responses[4].tag, "A7");
}

TEST(IngestImapResponseParserTest, LiteralBytesThatLookLikeResponsesStayInTheBody) {
  const std::string body = "* 99 EXISTS\r\nA1 OK fake\r\n{5}\r\n";
  Response r =
      one("* 1 FETCH (BODY[] {" + std::to_string(body.size()) + "}\r\n" + body + " UID 3)\r\n");
  ASSERT_NE(r.get<FetchData>(), nullptr);
  EXPECT_EQ(r.get<FetchData>()->body, body);
}

TEST(IngestImapResponseParserTest, IncompleteInputIsNotIdle) {
  for (std::string_view partial :
       {"* 1 FETCH (UID 1", "* 1 FETCH (BODY[] {10}\r\nabc", "* 1 FETCH (BODY[] {3}\r\nabc"}) {
    Parsed p = parse_all_ways(partial);
    EXPECT_FALSE(p.error) << partial;
    EXPECT_TRUE(p.responses.empty());
    EXPECT_FALSE(p.idle) << partial;
  }
}

TEST(IngestImapResponseParserTest, AssemblerHandsOutLiteralsForTheCallerToRead) {
  ResponseAssembler assembler;
  auto step = assembler.add_line("* 1 FETCH (UID 4 BODY[] {5}");
  ASSERT_TRUE(step);
  ASSERT_TRUE(std::holds_alternative<ResponseAssembler::NeedLiteral>(*step));
  EXPECT_EQ(std::get<ResponseAssembler::NeedLiteral>(*step).size, 5u);
  EXPECT_EQ(assembler.pending_literal(), 5u);
  EXPECT_FALSE(assembler.add_line("oops"));  // a literal is due
}

TEST(IngestImapResponseParserTest, AssemblerRejectsALiteralOfTheWrongSize) {
  ResponseAssembler assembler;
  ASSERT_TRUE(assembler.add_line("* 1 FETCH (BODY[] {5}"));
  auto s = assembler.add_literal("abc");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kInvalidArgument);
}

TEST(IngestImapResponseParserTest, NumberSets) {
  auto set = parse_number_set("1:3,7,10:8");
  ASSERT_TRUE(set);
  EXPECT_EQ(*set, (std::vector<NumberRange>{{1, 3}, {7, 7}, {10, 8}}));
  EXPECT_FALSE(parse_number_set(""));
  EXPECT_FALSE(parse_number_set("1:*"));
  EXPECT_FALSE(parse_number_set("1,,2"));
  EXPECT_FALSE(parse_number_set("4294967296"));
}

// --- Hostile and broken input --------------------------------------------------------------------

struct Bad {
  const char* name;
  std::string input;
  Code code;
  std::string message_part;  // must appear in the error message
};

std::vector<Bad> bad_inputs() {
  std::vector<Bad> t;
  t.push_back({"huge literal announced", "* 1 FETCH (BODY[] {4000000000}\r\n",
               Code::kResourceExhausted, "literal larger than"});
  t.push_back({"literal size with too many digits",
               "* 1 FETCH (BODY[] {99999999999999999999999}\r\n", Code::kResourceExhausted,
               "literal larger than"});
  t.push_back({"deep nesting", "* 1 FETCH (BODYSTRUCTURE " + std::string(100, '(') + ")\r\n",
               Code::kResourceExhausted, "nested deeper than 32"});
  t.push_back({"line too long", "* OK " + std::string(70 * 1024, 'x') + "\r\n",
               Code::kResourceExhausted, "line longer than 65536"});
  t.push_back({"number too large", "* 4294967296 EXISTS\r\n", Code::kInvalidArgument,
               "number out of range"});
  t.push_back({"letters in a number", "* 12a EXISTS\r\n", Code::kInvalidArgument, "bad number"});
  t.push_back(
      {"negative uid", "* 1 FETCH (UID -5)\r\n", Code::kInvalidArgument, "expected a number"});
  t.push_back({"bad uidvalidity", "* OK [UIDVALIDITY abc] x\r\n", Code::kInvalidArgument,
               "bad number in [UIDVALIDITY]"});
  t.push_back({"rfc822.size overflow", "* 1 FETCH (RFC822.SIZE 99999999999999999999999)\r\n",
               Code::kInvalidArgument, "number out of range"});
  t.push_back({"unterminated fetch list", "* 1 FETCH (UID 5\r\n", Code::kInvalidArgument,
               "unterminated FETCH list"});
  t.push_back({"unterminated quoted string", "* 1 FETCH (INTERNALDATE \"17-Jul\r\n",
               Code::kInvalidArgument, "unterminated quoted string"});
  t.push_back({"garbage", ")))\r\n", Code::kInvalidArgument, "expected '*', '+' or a tag"});
  t.push_back({"empty line", "\r\n", Code::kInvalidArgument, "expected '*', '+' or a tag"});
  t.push_back({"tagged bye", "A1 BYE x\r\n", Code::kInvalidArgument, "expected OK, NO or BAD"});
  t.push_back({"list without delimiter", "* LIST () INBOX\r\n", Code::kInvalidArgument,
               "expected a quoted delimiter or NIL"});
  t.push_back({"data after fetch", "* 1 FETCH (UID 1) junk\r\n", Code::kInvalidArgument,
               "unexpected data after the FETCH list"});
  t.push_back({"literal marker in the middle of a line", "* 1 FETCH (BODY[] {3} UID 1)\r\n",
               Code::kInvalidArgument, "literal marker not at the end of a line"});
  t.push_back({"too many literals",
               [] {
                 std::string s = "* 1 FETCH (";
                 for (int i = 0; i < 70; ++i) {
                   s += "X" + std::to_string(i) + " {1}\r\na ";
                 }
                 return s + "UID 1)\r\n";
               }(),
               Code::kResourceExhausted, "more than 64 literals"});
  return t;
}

void PrintTo(const Bad& b, std::ostream* os) {
  *os << b.name;
}

class IngestImapBadInputTest : public ::testing::TestWithParam<Bad> {};

TEST_P(IngestImapBadInputTest, GivesAClearErrorInAnyChunking) {
  const Bad& b = GetParam();
  Parsed p = parse_all_ways(b.input);
  ASSERT_TRUE(p.error) << b.name;
  EXPECT_EQ(p.error->code, b.code) << p.error->message;
  EXPECT_NE(p.error->message.find(b.message_part), std::string::npos) << p.error->message;
  EXPECT_TRUE(p.responses.empty());
}

INSTANTIATE_TEST_SUITE_P(IngestImapHostile, IngestImapBadInputTest,
                         ::testing::ValuesIn(bad_inputs()),
                         [](const ::testing::TestParamInfo<Bad>& param_info) {
                           std::string name;
                           for (char c : std::string(param_info.param.name)) {
                             name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           }
                           return name;
                         });

TEST(IngestImapResponseParserTest, ErrorsNameTheLinePrefixPrintably) {
  Parsed p = parse_all_ways("* 1 FETCH (UID \x01\x02 " + std::string(100, 'z') + ")\r\n");
  ASSERT_TRUE(p.error);
  EXPECT_NE(p.error->message.find("\"* 1 FETCH (UID ?? zzz"), std::string::npos)
      << p.error->message;
  EXPECT_NE(p.error->message.find("...\""), std::string::npos) << p.error->message;
}

TEST(IngestImapResponseParserTest, StaysFailedAfterAnError) {
  ResponseParser parser;
  EXPECT_FALSE(parser.feed(")))\r\n"));
  auto s = parser.feed("* 1 EXISTS\r\n");
  ASSERT_FALSE(s);
  EXPECT_FALSE(parser.next());
}

TEST(IngestImapResponseParserTest, SmallLimitsAreEnforced) {
  ParserLimits limits;
  limits.max_line = 30;
  limits.max_literal = 4;
  EXPECT_EQ(parse_all_ways("* 1 FETCH (BODY[] {5}\r\nabcde)\r\n", limits).error->code,
            Code::kResourceExhausted);
  EXPECT_FALSE(parse_all_ways("* 1 FETCH (BODY[] {4}\r\nabcd)\r\n", limits).error);
  EXPECT_EQ(parse_all_ways("* OK 1234567890123456789012345678\r\n", limits).error->code,
            Code::kResourceExhausted);
}

}  // namespace
}  // namespace mailvault::ingest::imap
