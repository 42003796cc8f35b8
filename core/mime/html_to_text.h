// HTML to plain text, for search and snippets of HTML-only mail.
#pragma once

#include <string>
#include <string_view>

namespace mailvault::mime {

// Converts an HTML document or fragment (UTF-8) to readable plain text:
//  - tags are removed; comments, <!DOCTYPE>, <?...?> and the contents of <script>, <style>
//    and <title> are dropped;
//  - character references are decoded: the HTML 4 named set plus &apos;, decimal and hex
//    numeric ones (0x80..0x9F read as windows-1252, as browsers do; invalid ones -> U+FFFD);
//    an '&' that starts no known reference is kept;
//  - runs of whitespace (including &nbsp;) collapse to one space; block elements (<p>, <div>,
//    <br>, <li>, <tr>, headings, ...) become line breaks, at most one blank line in a row;
//    the result has no leading or trailing whitespace.
// One left-to-right pass, linear in the input whatever it contains. Unlike a browser, it never
// hides the rest of a document behind a construct that is not closed: an unterminated comment
// or quoted attribute ends at the next '>', an unclosed <script>/<style>/<title> drops nothing.
// Invalid UTF-8 in the input becomes U+FFFD, so the result is always valid UTF-8 without NUL. Pure
// function: thread-safe, never throws except std::bad_alloc.
[[nodiscard]] std::string html_to_text(std::string_view html);

}  // namespace mailvault::mime
