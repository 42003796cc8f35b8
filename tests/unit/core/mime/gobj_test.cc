#include "core/mime/gobj.h"

#include <utility>

#include <gtest/gtest.h>

#include "core/mime/library.h"

namespace mailvault::mime::gobj {
namespace {

guint refcount(GMimeStream* s) {
  return G_OBJECT(s)->ref_count;
}

TEST(GobjPtr, AdoptTakesOverTheReference) {
  ensure_gmime_initialized();
  auto stream = Ptr<GMimeStream>::adopt(g_mime_stream_mem_new());
  ASSERT_TRUE(stream);
  EXPECT_EQ(refcount(stream.get()), 1U);
}

TEST(GobjPtr, RetainAddsAReference) {
  ensure_gmime_initialized();
  auto owner = Ptr<GMimeStream>::adopt(g_mime_stream_mem_new());
  {
    const auto shared = Ptr<GMimeStream>::retain(owner.get());
    EXPECT_EQ(refcount(owner.get()), 2U);
  }
  EXPECT_EQ(refcount(owner.get()), 1U);
}

TEST(GobjPtr, CopyMoveSwapAndRelease) {
  ensure_gmime_initialized();
  auto a = Ptr<GMimeStream>::adopt(g_mime_stream_mem_new());
  GMimeStream* raw = a.get();
  auto b = a;  // copy: +1
  EXPECT_EQ(refcount(raw), 2U);
  auto c = std::move(b);  // move: unchanged
  EXPECT_FALSE(b);        // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(refcount(raw), 2U);
  c = a;  // self-equivalent assignment keeps counts right
  EXPECT_EQ(refcount(raw), 2U);
  Ptr<GMimeStream> d;
  d.swap(c);
  EXPECT_FALSE(c);
  EXPECT_EQ(d.get(), raw);
  GMimeStream* released = d.release();
  EXPECT_EQ(refcount(raw), 2U);
  auto e = Ptr<GMimeStream>::adopt(released);  // hand the reference back
  EXPECT_EQ(refcount(raw), 2U);
}

TEST(GobjPtr, NullIsHarmless) {
  const auto a = Ptr<GMimeStream>::retain(nullptr);
  const auto b = Ptr<GMimeStream>::adopt(nullptr);
  EXPECT_FALSE(a);
  EXPECT_FALSE(b);
}

TEST(GobjDeleters, FreeWhatTheyOwn) {
  ensure_gmime_initialized();
  const GCharPtr text{g_strdup("owned")};
  EXPECT_STREQ(text.get(), "owned");
  const ParserOptionsPtr options{g_mime_parser_options_new()};
  EXPECT_NE(options.get(), nullptr);
  const DateTimePtr date{g_mime_utils_header_decode_date("Tue, 1 Jul 2003 10:52:37 +0200")};
  ASSERT_NE(date.get(), nullptr);
  EXPECT_EQ(g_date_time_to_unix(date.get()), 1057049557);
}

}  // namespace
}  // namespace mailvault::mime::gobj
