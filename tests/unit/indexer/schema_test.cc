#include "indexer/schema.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::index {
namespace {

TEST(Schema, TableIsConsistent) {
  EXPECT_TRUE(validate_fields());  // also a static_assert; here for coverage
  EXPECT_EQ(prefix_of(IndexField::kId), "Q");
  EXPECT_EQ(prefix_of(IndexField::kBody), "");
  EXPECT_EQ(prefix_of(IndexField::kSubject), "S");
  EXPECT_EQ(unique_term(MessageId{12345}), "Q12345");
}

TEST(Schema, EveryQueryFieldHasIndexFields) {
  using search::Field;
  for (const Field f : {Field::kAll, Field::kFrom, Field::kTo, Field::kCc, Field::kBcc,
                        Field::kSubject, Field::kBody, Field::kAttachment, Field::kFilename,
                        Field::kMessageId, Field::kListId, Field::kAccount, Field::kFolder}) {
    EXPECT_FALSE(fields_for(f).empty()) << static_cast<int>(f);
  }
  // "Anywhere" is every free-text field.
  std::size_t free_text = 0;
  for (const FieldSpec& s : kFields) {
    free_text += (s.flags & kFreeText) != 0 ? 1 : 0;
  }
  EXPECT_EQ(fields_for(Field::kAll).size(), free_text);
  EXPECT_EQ(fields_for(Field::kAttachment).size(), 2U);
}

TEST(Schema, BoundedTermsStayUnderXapiansLimit) {
  EXPECT_EQ(bounded_term("XMID", "abc@example.com"), "XMIDabc@example.com");
  const std::string long_value(1000, 'x');
  const std::string t = bounded_term("XMID", long_value);
  EXPECT_LE(t.size(), kMaxTermBytes);
  EXPECT_EQ(t.rfind("XMIDxxx", 0), 0U);
  EXPECT_EQ(t, bounded_term("XMID", long_value));        // deterministic
  EXPECT_NE(t, bounded_term("XMID", long_value + "y"));  // distinct values stay distinct
  EXPECT_EQ(t.substr(0, t.find('#')),
            bounded_term("XMID", long_value + "y").substr(0, t.find('#')));

  // Never cut inside a UTF-8 sequence.
  std::string cjk;
  for (int i = 0; i < 200; ++i) {
    cjk += "日";
  }
  const std::string c = bounded_term("XFOLDER", cjk);
  EXPECT_LE(c.size(), kMaxTermBytes);
  const std::string kept = c.substr(7, c.find('#') - 7);
  EXPECT_EQ(kept.size() % 3, 0U);
}

TEST(Schema, SortKeyOrdersByDateThenId) {
  struct Key {
    std::int64_t date;
    std::int64_t id;
  };

  const std::vector<Key> keys = {{-86400, 5},
                                 {0, 1},
                                 {0, 2},
                                 {1704067200, 1},
                                 {1704067200, 9},
                                 {1704067201, 0},
                                 {std::numeric_limits<std::int64_t>::max(), 3}};
  std::vector<std::string> encoded;
  for (const Key& k : keys) {
    encoded.push_back(encode_sort_key(k.date, MessageId{k.id}));
    EXPECT_EQ(encoded.back().size(), 16U);
    EXPECT_EQ(decode_sort_key_id(encoded.back()), MessageId{k.id});
  }
  EXPECT_TRUE(std::is_sorted(encoded.begin(), encoded.end()));
  EXPECT_FALSE(decode_sort_key_id("short").has_value());
}

}  // namespace
}  // namespace mailvault::index
