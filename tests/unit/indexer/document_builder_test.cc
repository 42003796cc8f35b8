#include "indexer/document_builder.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <xapian.h>

#include "index_test_support.h"
#include "indexer/schema.h"
#include "indexer/term_generation.h"

namespace mailvault::index {
namespace {

using testing::addr;
using testing::make_item;
using testing::MessageSpec;
using testing::utc;

std::set<std::string> terms_of(const Xapian::Document& doc) {
  std::set<std::string> out;
  for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
    out.insert(*t);
  }
  return out;
}

std::vector<Xapian::termpos> positions(const Xapian::Document& doc, const std::string& term) {
  std::vector<Xapian::termpos> out;
  auto t = doc.termlist_begin();
  t.skip_to(term);
  if (t == doc.termlist_end() || *t != term) {
    return out;
  }
  for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p) {
    out.push_back(*p);
  }
  return out;
}

MessageSpec sample() {
  MessageSpec s;
  s.id = 77;
  s.subject = "Running late";
  s.from = {addr("Alice Smith", "Alice@Example.com")};
  s.sender = {addr("Alice", "alice@example.com"), addr("Secretary", "sec@example.com")};
  s.to = {addr("Bob", "bob@example.org"), addr("Carol", "carol@example.org")};
  s.cc = {addr("", "cc@example.net")};
  s.bcc = {addr("", "hidden@example.net")};
  s.body = "Body words here";
  s.date = utc(2024, 5, 6, 7, 8, 9);
  s.archived_at = utc(2024, 6, 1);
  s.size = 12345;
  s.accounts = {"Work"};
  s.folders = {"INBOX", "Projects/Mail"};
  s.message_id = "<ABC.123@Example.COM>";
  s.list_id = "Dev.Lists.Example.org";
  s.attachment_names = {"Report Q1.pdf", "notes.txt"};
  s.attachment_text = "attachment words";
  return s;
}

TEST(DocumentBuilder, WritesEveryPrefixAndSlot) {
  DocumentBuilder builder("english", 1 << 20);
  const IndexItem item = make_item(sample());
  const Xapian::Document doc = builder.build(item.meta, item.parsed);
  const std::set<std::string> t = terms_of(doc);
  for (const char* expected : {"Q77",  // unique id
                               "Srunning",
                               "Slate",  // subject
                               "XFROMalice",
                               "XFROMsmith",
                               "XFROMexample",
                               "XFROMalice@example.com",
                               "XFROMsecretary",
                               "XFROMsec@example.com",  // Sender joins From
                               "XTObob",
                               "XTObob@example.org",
                               "XTOcarol@example.org",
                               "XCCcc@example.net",
                               "XBCChidden@example.net",
                               "XBCChidden",
                               "body",
                               "words",
                               "here",  // body, unprefixed
                               "XFNreport",
                               "XFNq1",
                               "XFNpdf",
                               "XFNnotes",
                               "XFNtxt",
                               "XATattachment",
                               "XATwords",
                               "XMIDabc.123@example.com",  // brackets gone, lower-cased
                               "XLISTdev.lists.example.org",
                               "XACCOUNTwork",
                               "XFOLDERinbox",
                               "XFOLDERprojects/mail",
                               "XHASattachment"}) {
    EXPECT_TRUE(t.count(expected)) << "missing term " << expected;
  }
  // No stemmed terms (schema.h): stems are classes in the synonym table.
  for (const std::string& term : t) {
    EXPECT_NE(term.front(), 'Z') << term;
  }
  // No unprefixed copies of header words: "anywhere" is expanded at query time.
  EXPECT_FALSE(t.count("running"));
  EXPECT_FALSE(t.count("alice"));
  // Sender equal to a From address adds no second exact term (it is the same address).
  EXPECT_EQ(doc.get_data(), "");

  EXPECT_EQ(Xapian::sortable_unserialise(doc.get_value(slot_number(Slot::kDate))),
            static_cast<double>(utc(2024, 5, 6, 7, 8, 9)));
  EXPECT_EQ(Xapian::sortable_unserialise(doc.get_value(slot_number(Slot::kArchived))),
            static_cast<double>(utc(2024, 6, 1)));
  EXPECT_EQ(Xapian::sortable_unserialise(doc.get_value(slot_number(Slot::kSize))), 12345.0);
  EXPECT_EQ(doc.get_value(slot_number(Slot::kSortKey)),
            encode_sort_key(utc(2024, 5, 6, 7, 8, 9), MessageId{77}));
  EXPECT_FALSE(doc.get_value(slot_number(Slot::kPhrasePairs)).empty());
}

// Each word's stem class is reported once per builder (the writer adds it to the synonym
// table), only when the stem differs from the word.
TEST(DocumentBuilder, ReportsStemClassesOfNewWords) {
  DocumentBuilder builder("english", 1 << 20);
  const IndexItem item = make_item(sample());
  std::vector<StemLink> stems;
  (void)builder.build(item.meta, item.parsed, &stems);
  const std::set<std::pair<std::string, std::string>> got = [&] {
    std::set<std::pair<std::string, std::string>> out;
    for (const StemLink& l : stems) {
      out.emplace(l.stem, l.word);
    }
    return out;
  }();
  EXPECT_TRUE(got.count({"run", "running"}));
  EXPECT_TRUE(got.count({"bodi", "body"}));
  EXPECT_TRUE(got.count({"word", "words"}));
  EXPECT_FALSE(got.count({"late", "late"}));  // its own stem: no class entry
  for (const StemLink& l : stems) {
    EXPECT_NE(l.stem, l.word);
    EXPECT_FALSE(l.word.empty() || (l.word[0] >= '0' && l.word[0] <= '9')) << l.word;
  }
  EXPECT_EQ(got.size(), stems.size());  // each word once

  // Known words are not reported again, until forgotten.
  std::vector<StemLink> again;
  (void)builder.build(item.meta, item.parsed, &again);
  EXPECT_TRUE(again.empty());
  builder.forget_words();
  (void)builder.build(item.meta, item.parsed, &again);
  EXPECT_EQ(again.size(), stems.size());

  // Stemming off: no classes at all.
  DocumentBuilder plain("none", 1 << 20);
  std::vector<StemLink> none;
  const Xapian::Document doc = plain.build(item.meta, item.parsed, &none);
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(terms_of(doc).count("Srunning"));
}

// Schema version 2: no positions at all (phrases are verified on the text, phrase_check.h).
TEST(DocumentBuilder, NoTermHasPositions) {
  DocumentBuilder builder("english", 1 << 20);
  MessageSpec s = sample();
  s.body = "Body words here, and 日本語のテスト too";
  const IndexItem item = make_item(s);
  const Xapian::Document doc = builder.build(item.meta, item.parsed);
  std::size_t terms = 0;
  for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
    ++terms;
    EXPECT_EQ(t.positionlist_count(), 0U) << *t;
  }
  EXPECT_GT(terms, 30U);
  EXPECT_TRUE(positions(doc, "Slate").empty());
}

TEST(DocumentBuilder, NoDateFallsBackToArchiveTimeForSorting) {
  DocumentBuilder builder("english", 1 << 20);
  MessageSpec s = sample();
  s.date.reset();
  s.attachment_names.clear();
  const IndexItem item = make_item(s);
  const Xapian::Document doc = builder.build(item.meta, item.parsed);
  EXPECT_EQ(doc.get_value(slot_number(Slot::kDate)), "");
  EXPECT_EQ(doc.get_value(slot_number(Slot::kSortKey)),
            encode_sort_key(utc(2024, 6, 1), MessageId{77}));
  EXPECT_FALSE(terms_of(doc).count("XHASattachment"));
}

TEST(DocumentBuilder, LongValuesAreBoundedAndLongTextClipped) {
  DocumentBuilder builder("english", 64);
  MessageSpec s = sample();
  s.message_id = std::string(500, 'm') + "@example.com";
  s.folders = {std::string(400, 'f')};
  s.body = std::string(60, 'a') + " visible tail-beyond-the-limit invisible";
  s.from = {addr("", std::string(300, 'x') + "@example.com")};
  const IndexItem item = make_item(s);
  const Xapian::Document doc = builder.build(item.meta, item.parsed);
  for (const std::string& term : terms_of(doc)) {
    EXPECT_LE(term.size(), kMaxTermBytes) << term;
  }
  const std::set<std::string> t = terms_of(doc);
  EXPECT_TRUE(t.count(exact_term("XMID", s.message_id)));
  EXPECT_TRUE(t.count(std::string(60, 'a')));
  EXPECT_FALSE(t.count("tail"));  // past max_text_bytes
  EXPECT_FALSE(t.count("invisible"));
}

// The query side tokenises exactly as the index side: for any text, the terms a query
// tokenizer reports (exact + stemmed) are exactly the body terms the builder writes.
TEST(DocumentBuilder, QueryTokenizerAgreesWithIndexedTerms) {
  const std::vector<std::string> texts = {
      "Hello, World!",
      "running runs ran",
      "foo-bar baz_qux",
      "日本語のテスト",
      "Grüße aus Köln",
      "2nd place O'Reilly C++",
      "ÉCOLE école",
      "alice@example.com",
      "ＡＢＣ full-width",
      "naïve café déjà-vu",
      "Ελληνικά κείμενα",
      "한국어 텍스트 中文",
      "x" + std::string(80, 'y') + " short",
      "tab\tnew\nline",
  };
  for (const std::string& language : {std::string("english"), std::string("none")}) {
    QueryTokenizer tokenizer(make_stemmer(language));
    for (const std::string& text : texts) {
      DocumentBuilder builder(language, 1 << 20);  // fresh: reports every word's class
      MessageSpec s;
      s.id = 1;
      s.body = text;
      const IndexItem item = make_item(s);
      std::vector<StemLink> links;
      std::set<std::string> body_terms;
      for (const std::string& term : terms_of(builder.build(item.meta, item.parsed, &links))) {
        EXPECT_NE(term.front(), 'Z') << term;
        const bool prefixed = term[0] >= 'A' && term[0] <= 'Z';
        if (prefixed) {
          continue;
        }
        // CJK bigrams are indexed but never asked for by queries.
        Xapian::Utf8Iterator it(term);
        std::size_t chars = 0;
        for (; it != Xapian::Utf8Iterator(); ++it) {
          ++chars;
        }
        if (!(chars == 2 && static_cast<unsigned char>(term[0]) >= 0xe0)) {
          body_terms.insert(term);
        }
      }
      std::set<std::string> from_query;
      std::set<std::pair<std::string, std::string>> classes_from_query;
      for (const QueryTerm& qt : tokenizer.terms(text)) {
        from_query.insert(qt.exact);
        if (!qt.stem.empty() && qt.stem != qt.exact) {
          classes_from_query.emplace(qt.stem, qt.exact);
        }
      }
      EXPECT_EQ(from_query, body_terms) << language << ": " << text;
      // The builder puts each word in the class of the stem the query side computes (words of
      // other fields, and bigrams, may add more).
      std::set<std::pair<std::string, std::string>> reported;
      for (const StemLink& l : links) {
        if (from_query.contains(l.word)) {
          reported.emplace(l.stem, l.word);
        }
      }
      EXPECT_EQ(reported, classes_from_query) << language << ": " << text;
    }
  }
}

// Phrases are verified by splitting the message text with WordSplitter and the query with
// QueryTokenizer: both must give the same words in the same order.
TEST(DocumentBuilder, WordSplitterAgreesWithQueryTokenizer) {
  const std::vector<std::string> texts = {
      "Hello, World!",
      "logging, output",
      "foo-bar baz_qux",
      "日本語のテスト",
      "Grüße aus Köln",
      "2nd place O'Reilly C++ AT&T",
      "ÉCOLE école",
      "alice@example.com",
      "ＡＢＣ full-width",
      "naïve café déjà-vu",
      "한국어 텍스트 中文",
      "tab\tnew\nline",
      "x" + std::string(80, 'y') + " short",
      "v1.2.3 and 3.14 and $5,000",
  };
  QueryTokenizer tokenizer(make_stemmer("english"));
  WordSplitter splitter;
  for (const std::string& text : texts) {
    std::vector<std::string> from_query;
    for (const QueryTerm& qt : tokenizer.terms(text)) {
      from_query.push_back(qt.exact);
    }
    EXPECT_EQ(splitter.words(text), from_query) << text;
    EXPECT_EQ(splitter.generator_words(text), from_query) << text;
  }
  EXPECT_EQ(splitter.words("Logging, OUTPUT."), (std::vector<std::string>{"logging", "output"}));
  EXPECT_TRUE(splitter.words("").empty());
}

}  // namespace
}  // namespace mailvault::index
