#include "indexer/query_compiler.h"

#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <xapian.h>

#include "index_test_support.h"
#include "indexer/schema.h"

namespace mailvault::index {
namespace {

using testing::parse;

std::string compiled(std::string_view text, const std::string& language = "english") {
  QueryCompiler compiler(language);
  return compiler.compile(parse(text)).get_description();
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(QueryCompiler, WordsMatchTheirStemClassInEveryTextField) {
  // Without an index there is no stem class to read: the word and its stem (its own stem).
  const std::string d = compiled("running");
  for (const char* term : {"running", "run", "Srunning", "Srun", "XFROMrunning", "XFROMrun",
                           "XTOrunning", "XCCrunning", "XBCCrunning", "XFNrunning", "XATrunning"}) {
    EXPECT_TRUE(contains(d, term)) << term << " in " << d;
  }
  EXPECT_FALSE(contains(d, "Zrun")) << d;  // schema 3 has no stemmed terms
  // Only the requested field when one is given.
  const std::string s = compiled("subject:running");
  EXPECT_TRUE(contains(s, "Srun")) << s;
  EXPECT_FALSE(contains(s, "XFROM")) << s;
  // No stem class for a quoted word, or with stemming off.
  EXPECT_FALSE(contains(compiled("\"running\""), "Srun "));
  EXPECT_FALSE(contains(compiled("subject:\"running\""), "Srun)"));
  EXPECT_FALSE(contains(compiled("subject:running", "none"), "Srun)"));
}

// The stem classes come from the index's synonym table (schema.h): every indexed word of the
// class, in each field.
TEST(QueryCompiler, StemClassesAreReadFromTheIndex) {
  testing::TempDir dir;  // the in-memory back end has no synonym table
  Xapian::WritableDatabase db((dir.path() / "index").string(), Xapian::DB_CREATE);
  db.add_synonym(stem_class_key("run"), "runs");
  db.add_synonym(stem_class_key("run"), "running");
  db.add_synonym(stem_class_key("configur"), "configuration");
  QueryCompiler compiler("english");
  const std::string d = compiler.compile(parse("subject:runs"), {}, &db).get_description();
  for (const char* term : {"Sruns", "Srun", "Srunning"}) {
    EXPECT_TRUE(contains(d, term)) << term << " in " << d;
  }
  EXPECT_FALSE(contains(d, "configuration")) << d;
  const std::string c = compiler.compile(parse("body:configure"), {}, &db).get_description();
  EXPECT_TRUE(contains(c, "configuration")) << c;
  EXPECT_TRUE(contains(c, "configure")) << c;
}

// The index has no positions (schema.h): a phrase is all of its exact terms, plus a
// PhraseCheck leaf per field when there is text to verify against.
TEST(QueryCompiler, PhrasesAreTermsPlusAVerifyingLeaf) {
  const std::string d = compiled("body:foo-bar");
  EXPECT_FALSE(contains(d, "PHRASE ")) << d;
  EXPECT_TRUE(contains(d, "(foo AND bar)")) << d;
  const std::string cjk = compiled("body:日本語");
  EXPECT_TRUE(contains(cjk, "(日 AND 本 AND 語)")) << cjk;

  QueryCompiler compiler("english");
  const TextLoader loader = [](MessageId) {
    return std::optional<mime::ParsedMessage>();
  };
  const std::string checked =
      compiler.compile(parse("subject:\"Quarterly Report\""), loader).get_description();
  EXPECT_TRUE(contains(checked,
                       "Squarterly AND Sreport AND PostingSource(PhraseCheck(S: "
                       "quarterly report))"))
      << checked;
  // Unfielded: one check per field, each AND-ed with that field's terms.
  const std::string any = compiler.compile(parse("\"foo bar\""), loader).get_description();
  for (const char* leaf : {"PhraseCheck(body: foo bar)", "PhraseCheck(S: foo bar)",
                           "PhraseCheck(XFROM: foo bar)", "PhraseCheck(XAT: foo bar)"}) {
    EXPECT_TRUE(contains(any, leaf)) << leaf << " in " << any;
  }
  // One word needs no check; without a loader there is none.
  EXPECT_FALSE(
      contains(compiler.compile(parse("\"foo\""), loader).get_description(), "PhraseCheck"));
  EXPECT_FALSE(contains(compiled("\"foo bar\""), "PhraseCheck"));
}

TEST(QueryCompiler, AddressesAreExactInAddressFields) {
  const std::string d = compiled("from:Alice@Example.com");
  EXPECT_EQ(d, "Query(XFROMalice@example.com)") << d;  // wdf 0: no weight of its own
  // Anywhere: exact in address fields, a phrase in the other text fields.
  const std::string any = compiled("alice@example.com");
  EXPECT_TRUE(contains(any, "XTOalice@example.com")) << any;
  EXPECT_TRUE(contains(any, "(alice AND example AND com)")) << any;
}

TEST(QueryCompiler, BooleanConditionsAreUnweightedFilters) {
  const std::string d = compiled("lunch has:attachment account:Work");
  EXPECT_TRUE(contains(d, "FILTER")) << d;
  EXPECT_TRUE(contains(d, "XHASattachment")) << d;
  EXPECT_TRUE(contains(d, "XACCOUNTwork")) << d;
  // Only filters: every match weighs 0.
  EXPECT_TRUE(contains(compiled("folder:INBOX"), "0 * XFOLDERinbox"));
}

TEST(QueryCompiler, NegationUsesAndNotOverMatchAll) {
  const std::string d = compiled("lunch -dinner");
  EXPECT_TRUE(contains(d, "AND_NOT")) << d;
  EXPECT_FALSE(contains(d, "<alldocuments>")) << d;  // a sibling supplies the positive side
  const std::string alone = compiled("NOT dinner");
  EXPECT_TRUE(contains(alone, "<alldocuments> AND_NOT")) << alone;
}

TEST(QueryCompiler, RangesUseValueSlots) {
  const std::string d = compiled("date:2024-01-01..2024-03-31");
  EXPECT_TRUE(contains(d, "VALUE_RANGE 0")) << d;
  EXPECT_TRUE(contains(compiled("before:2024-01-01"), "VALUE_LE 0"));
  EXPECT_TRUE(contains(compiled("after:2024-01-01"), "VALUE_GE 0"));
  EXPECT_TRUE(contains(compiled("larger:1M"), "VALUE_GE 2"));
  EXPECT_TRUE(contains(compiled("smaller:1M"), "VALUE_LE 2"));
}

TEST(QueryCompiler, PrefixesAreWildcards) {
  const std::string d = compiled("subject:quart*");
  EXPECT_TRUE(contains(d, "WILDCARD")) << d;
  EXPECT_TRUE(contains(d, "Squart")) << d;
}

TEST(QueryCompiler, EmptyAndPunctuationOnlyTextMatchEverything) {
  EXPECT_EQ(compiled(""), "Query(0 * <alldocuments>)");
  EXPECT_EQ(compiled("\"...\""), "Query(0 * <alldocuments>)");
}

TEST(QueryCompiler, AstShapesTheParserNeverMakes) {
  QueryCompiler compiler("english");
  search::Query empty_and{search::And{}};
  EXPECT_EQ(compiler.compile(empty_and).get_description(), "Query(0 * <alldocuments>)");
  search::Query empty_or{search::Or{}};
  EXPECT_TRUE(compiler.compile(empty_or).empty());
  search::DateRange inverted{search::DateRange::Of::kArchived, 100, 50};
  EXPECT_TRUE(compiler.compile(search::Query{inverted}).empty());  // matches nothing
  search::SizeRange open;
  EXPECT_EQ(compiler.compile(search::Query{open}).get_description(), "Query(0 * <alldocuments>)");
  search::Text multi{search::Field::kBody, "hello wide world", search::Text::Kind::kWords};
  const std::string d = compiler.compile(search::Query{multi}).get_description();
  EXPECT_TRUE(contains(d, "hello")) << d;
  EXPECT_TRUE(contains(d, "world")) << d;
  EXPECT_FALSE(contains(d, "PHRASE")) << d;
}

}  // namespace
}  // namespace mailvault::index
