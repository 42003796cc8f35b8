#include "server-imap/session/text_match.h"

#include <gtest/gtest.h>

#include "server-imap/session/search_eval.h"

namespace mailvault::imapd {
namespace {

mime::ParsedMessage sample() {
  mime::ParsedMessage m;
  m.headers = {{"From", "Ålice Müller <Alice.Mueller@Example.ORG>"},
               {"To", "bob@example.com, Carol <carol@example.net>"},
               {"Subject", "Quarterly REPORT: Überblick"},
               {"X-Mailer", "FooMail 3.1"},
               {"X-Empty", ""},
               {"Cc", "dave@example.com"},
               {"Cc", "erin@example.com"}};
  m.body_text = "Hello World,\nthe résumé is attached.\nΣΊΣΥΦΟΣ";
  m.attachment_text = "notes.txt says HI";
  return m;
}

bool hit(const SearchKey& key, const mime::ParsedMessage& m) {
  const auto text = make_searchable(m);
  Snapshot s;
  s.messages.push_back(MessageEntry{});
  const TextPredicate pred = [&](const MessageEntry&, const TextKey& k) -> Result<bool> {
    return matches(k, text);
  };
  auto r = evaluate_search(key, s, 0, pred);
  EXPECT_TRUE(r.has_value());
  return r && !r->empty();
}

bool search(const std::string& program, const mime::ParsedMessage& m = sample()) {
  auto parsed = parse_search(program, false);
  if (auto* e = std::get_if<SearchParseError>(&parsed)) {
    ADD_FAILURE() << program << ": " << e->message;
    return false;
  }
  return hit(std::get<SearchProgram>(parsed).key, m);
}

TEST(Fold, AsciiAndUnicodeLowerCase) {
  EXPECT_EQ(fold("Hello WORLD 123 !@#"), "hello world 123 !@#");
  EXPECT_EQ(fold("ÅLICE MÜLLER"), "ålice müller");
  EXPECT_EQ(fold("ΣΊΣΥΦΟΣ"), "σίσυφοσ");  // simple mapping: no final sigma
  EXPECT_EQ(fold("ПРИВЕТ"), "привет");
  EXPECT_EQ(fold("straße"), "straße");  // no full folding
}

TEST(Fold, InvalidUtf8IsKeptByteForByte) {
  EXPECT_EQ(fold(std::string("A\xff"
                             "B\xc3",
                             4)),
            std::string("a\xff"
                        "b\xc3",
                        4));
  EXPECT_EQ(fold(std::string("\xed\xa0\x80X", 4)), std::string("\xed\xa0\x80x", 4));  // surrogate
}

TEST(Contains, Substrings) {
  EXPECT_TRUE(contains("hello", ""));
  EXPECT_TRUE(contains("", ""));
  EXPECT_FALSE(contains("", "a"));
  EXPECT_TRUE(contains("hello", "ell"));
  EXPECT_FALSE(contains("hel", "hello"));
}

TEST(TextKeys, TableOfKeys) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"FROM alice", true},
      {"FROM \"mueller@example\"", true},
      {"FROM ller", true},     // inside a word
      {"FROM \"e M\"", true},  // across words
      {"FROM bob", false},     // only in To
      {"TO carol", true},
      {"TO \"m, c\"", true},        // punctuation
      {"CC erin", true},            // second occurrence of the field
      {"CC \"dave erin\"", false},  // never across two fields
      {"BCC x", false},             // absent field
      {"BCC \"\"", false},          // empty string: field must be present
      {"SUBJECT report", true},
      {"SUBJECT \"rly r\"", true},
      {"SUBJECT world", false},
      {"HEADER X-MAILER foomail", true},
      {"HEADER x-mailer \"3.1\"", true},
      {"HEADER X-Empty \"\"", true},  // present with an empty value
      {"HEADER X-Absent \"\"", false},
      {"HEADER Subject \"\"", true},
      {"BODY world", true},
      {"BODY {6}\r\nd,\nthe", true},  // a literal may hold LF; the body is one text
      {"BODY \"o w\"", true},
      {"BODY hi", true},       // attachment text counts as body
      {"BODY report", false},  // header only
      {"TEXT report", true},
      {"TEXT \"x-mailer: foo\"", true},  // TEXT sees field names
      {"TEXT résumé", true},
      {"TEXT world", true},
      {"TEXT nothing-like-this", false},
      {"NOT BODY world", false},
      {"OR BODY nothing SUBJECT quarterly", true},
      {"BODY world NOT FROM alice", false},
      {"(FROM alice TO bob) BODY hello", true},
  };
  for (const auto& [program, want] : cases)
    EXPECT_EQ(search(program), want) << program;
}

TEST(TextKeys, Utf8NeedlesAreCaseFolded) {
  EXPECT_TRUE(search("CHARSET UTF-8 FROM {6}\r\nÅLICE"));
  EXPECT_TRUE(search("CHARSET UTF-8 SUBJECT {7}\r\nüBERBL"));
  EXPECT_TRUE(search("CHARSET UTF-8 BODY {10}\r\nσίσυφ"));
  EXPECT_TRUE(search("CHARSET UTF-8 BODY {8}\r\nRÉSUMÉ"));
}

TEST(TextKeys, NonTextKeysNarrowTheDomainFirst) {
  // Three messages; the predicate records which ones it was asked about.
  Snapshot s;
  for (std::uint32_t i = 1; i <= 3; ++i) {
    MessageEntry e;
    e.uid = Uid{i};
    e.id = MessageId{i};
    e.size = i * 100;
    s.messages.push_back(e);
  }
  std::vector<std::int64_t> asked;
  const TextPredicate pred = [&](const MessageEntry& m, const TextKey&) -> Result<bool> {
    asked.push_back(to_int(m.id));
    return to_int(m.id) != 2;
  };
  auto key = std::get<SearchProgram>(parse_search("BODY x LARGER 150", false)).key;
  auto r = evaluate_search(key, s, 0, pred);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (std::vector<std::size_t>{2}));
  EXPECT_EQ(asked, (std::vector<std::int64_t>{2, 3}));

  asked.clear();
  key = std::get<SearchProgram>(parse_search("OR SMALLER 150 BODY x", false)).key;
  r = evaluate_search(key, s, 0, pred);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(asked, (std::vector<std::int64_t>{2, 3}));

  asked.clear();
  key = std::get<SearchProgram>(parse_search("NOT BODY x", false)).key;
  r = evaluate_search(key, s, 0, pred);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (std::vector<std::size_t>{1}));
}

TEST(TextKeys, PredicateErrorsAbortTheSearch) {
  Snapshot s;
  s.messages.resize(2);
  const TextPredicate pred = [](const MessageEntry&, const TextKey&) -> Result<bool> {
    return make_error(Code::kDataLoss, "sidecar corrupt");
  };
  auto key = std::get<SearchProgram>(parse_search("OR ALL BODY x", false)).key;
  auto r = evaluate_search(key, s, 0, pred);
  EXPECT_TRUE(r.has_value());  // ALL decided everything: no text was read
  key = std::get<SearchProgram>(parse_search("BODY x", false)).key;
  r = evaluate_search(key, s, 0, pred);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kDataLoss);
  EXPECT_TRUE(contains_text_keys(key));
  EXPECT_FALSE(contains_saved_set(key));
}

// The compact header half answers every field key and TEXT's header half exactly as the full
// text does, for every substring of every field (and names that are absent or only prefixes).
TEST(SearchableHeaderTest, SameAnswersAsTheFullText) {
  mime::ParsedMessage m = sample();
  m.headers.push_back({"X-Multi", "line one\nline two"});  // a decoded value with a newline
  m.headers.push_back({"Subject", "second subject"});
  m.nested_header_text = "Nested-Header: Zanzibar";
  const SearchableMessage full = make_searchable(m);
  const SearchableHeader header = make_searchable_header(full);
  EXPECT_EQ(header.text, full.header_text);
  EXPECT_LE(header.bytes(), full.bytes());
  std::size_t checked = 0;
  const std::vector<std::string> names = {"from", "to",  "subject", "x-mailer", "x-empty",
                                          "cc",   "bcc", "x-multi", "x",        "nested-header"};
  for (const auto& f : full.fields) {
    const std::string& v = f.value;
    for (std::size_t len = 0; len <= 5; ++len) {
      for (std::size_t at = 0; at + len <= v.size(); ++at) {
        const std::string needle = v.substr(at, len);
        for (const std::string& name : names) {
          const TextKey key{TextKey::Where::kField, name, needle};
          EXPECT_EQ(matches_field(key, header), matches(key, full)) << name << " " << needle;
          ++checked;
        }
        const TextKey text{TextKey::Where::kText, "", needle};
        EXPECT_EQ(matches_header_text(text, header), matches_header_text(text, full)) << needle;
      }
    }
  }
  for (const std::string needle : {"zanzibar", "e\nl", "one\nline", "hello", "mailer: foo"}) {
    const TextKey text{TextKey::Where::kText, "", needle};
    EXPECT_EQ(matches_header_text(text, header), matches_header_text(text, full)) << needle;
  }
  EXPECT_TRUE(matches_header_text(TextKey{TextKey::Where::kText, "", "zanzibar"}, header));
  EXPECT_TRUE(matches_field(TextKey{TextKey::Where::kField, "x-empty", ""}, header));
  EXPECT_FALSE(matches_field(TextKey{TextKey::Where::kField, "x-absent", ""}, header));
  EXPECT_GT(checked, 1000U);
}

TEST(ParseHeaderBlock, UnfoldsAndDecodes) {
  const auto fields = parse_header_block(
      "From: =?UTF-8?B?w4VsaWNl?= <a@example.org>\r\n"
      "Subject: one\r\n two\r\n"
      "not a field line\r\n"
      "X-Empty:\r\n"
      "\r\n"
      "Body: not a header\r\n");
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].name, "From");
  EXPECT_EQ(fields[0].value, "Ålice <a@example.org>");
  EXPECT_EQ(fields[1].value, "one two");
  EXPECT_EQ(fields[2].name, "X-Empty");
  EXPECT_EQ(fields[2].value, "");
}

}  // namespace
}  // namespace mailvault::imapd
