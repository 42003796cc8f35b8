#include "core/mime/casemap.h"

#include <gtest/gtest.h>

namespace mailvault::mime {
namespace {

TEST(UnicodeCasemap, TitlecaseAndDecomposition) {
  EXPECT_EQ(unicode_casemap_key("Hello, world_"), "HELLO, WORLD_");
  EXPECT_EQ(unicode_casemap_key("é"), unicode_casemap_key("E\xcc\x81"));
  EXPECT_EQ(unicode_casemap_key("É"), "E\xcc\x81");
  EXPECT_EQ(unicode_casemap_key("über"), unicode_casemap_key("ÜBER"));
  EXPECT_EQ(unicode_casemap_key("ǆ"), unicode_casemap_key("ǅ"));  // titlecase, not upper
  EXPECT_EQ(unicode_casemap_key("ﬁ"), "FI");                      // compatibility decomposition
  EXPECT_LT(unicode_casemap_key("Tájékoztatás"), unicode_casemap_key("Tb"));
}

TEST(UnicodeCasemap, InvalidBytesAreKept) {
  EXPECT_EQ(unicode_casemap_key("a\xff"
                                "b"),
            "A\xff"
            "B");
  EXPECT_EQ(unicode_casemap_key("\xc3"), "\xc3");
  EXPECT_EQ(unicode_casemap_key(""), "");
}

}  // namespace
}  // namespace mailvault::mime
