// Internal to indexer/ (includes <xapian.h>): ParsedMessage + MessageMeta -> Xapian::Document,
// following the schema in indexer/schema.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "core/archive/message_meta.h"
#include "core/mime/parsed_message.h"
#include "indexer/schema.h"

namespace mailvault::index {

// Not thread-safe: one builder per thread (it owns its Stem and TermGenerator).
class DocumentBuilder {
 public:
  // Throws Xapian::InvalidArgumentError for an unknown language. Each free-text field is indexed
  // up to `max_text_bytes` (cut at a character boundary).
  DocumentBuilder(const std::string& language, std::size_t max_text_bytes);

  // The complete document for one message. Throws only Xapian::Error / std::bad_alloc.
  Xapian::Document build(const MessageMeta& meta, const mime::ParsedMessage& parsed);

 private:
  void text(IndexField field, std::string_view value);
  void addresses(IndexField field, const std::vector<const mime::Address*>& list);
  void drop_duplicate_stems(Xapian::Document& doc);
  bool is_own_stem(const std::string& stem);

  Xapian::Stem stem_;  // make_caching_stemmer: owned by this builder's thread
  Xapian::TermGenerator tg_;
  std::size_t max_text_bytes_;
  Xapian::Document* doc_ = nullptr;
};

}  // namespace mailvault::index
