#include "indexer/document_builder.h"

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "indexer/term_generation.h"

namespace mailvault::index {
namespace {

std::vector<const mime::Address*> pointers(const std::vector<mime::Address>& list) {
  std::vector<const mime::Address*> out;
  out.reserve(list.size());
  for (const mime::Address& a : list) {
    out.push_back(&a);
  }
  return out;
}

bool same_email(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
    };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

void add_boolean(Xapian::Document& doc, IndexField field, std::string_view value) {
  if (!value.empty()) {
    doc.add_boolean_term(exact_term(prefix_of(field), value));
  }
}

}  // namespace

DocumentBuilder::DocumentBuilder(const std::string& language, std::size_t max_text_bytes)
    : stem_(make_caching_stemmer(language)), max_text_bytes_(max_text_bytes) {
  configure_term_generator(tg_, stem_);
}

void DocumentBuilder::text(IndexField field, std::string_view value) {
  if (value.empty()) {
    return;
  }
  const std::string_view clipped = clip_utf8(value, max_text_bytes_);
  const Xapian::Utf8Iterator it(clipped.data(), clipped.size());
  // No positions (schema.h): phrases are verified on the message text instead.
  tg_.index_text_without_positions(it, 1, std::string(prefix_of(field)));
}

bool DocumentBuilder::is_own_stem(const std::string& stem) {
  return stem_(stem) == stem;  // stem_ caches
}

// Z<prefix><s> adds nothing when <prefix><s> is in the document and s stems to itself: the
// query compiler asks for both (schema.h). About 60% of stemmed terms go.
void DocumentBuilder::drop_duplicate_stems(Xapian::Document& doc) {
  std::vector<std::string> terms;  // sorted: termlists are in byte order
  terms.reserve(doc.termlist_count());
  for (auto it = doc.termlist_begin(); it != doc.termlist_end(); ++it) {
    terms.push_back(*it);
  }
  std::vector<std::string> drop;
  for (auto it = std::lower_bound(terms.begin(), terms.end(), std::string_view("Z"));
       it != terms.end() && !it->empty() && it->front() == 'Z'; ++it) {
    const std::string& z = *it;
    std::size_t stem_at = 1;
    while (stem_at < z.size() && z[stem_at] >= 'A' && z[stem_at] <= 'Z') {
      ++stem_at;
    }
    if (stem_at == z.size()) {
      continue;
    }
    const std::string_view exact = std::string_view{z}.substr(1);
    if (std::binary_search(terms.begin(), terms.end(), exact, std::less<>()) &&
        is_own_stem(z.substr(stem_at))) {
      drop.push_back(z);
    }
  }
  for (const std::string& z : drop) {
    doc.remove_term(z);
  }
}

// Names and addresses as words, plus one exact term per full address.
void DocumentBuilder::addresses(IndexField field, const std::vector<const mime::Address*>& list) {
  const std::string prefix(prefix_of(field));
  for (const mime::Address* a : list) {
    text(field, a->name);
    text(field, a->email);
    std::string_view email = a->email;  // as the query side trims it (query_compiler.cc)
    while (!email.empty() && (email.front() == ' ' || email.front() == '<')) {
      email.remove_prefix(1);
    }
    while (!email.empty() && (email.back() == ' ' || email.back() == '>')) {
      email.remove_suffix(1);
    }
    if (!email.empty()) {
      doc_->add_boolean_term(exact_term(prefix, email));
    }
  }
}

Xapian::Document DocumentBuilder::build(const MessageMeta& meta,
                                        const mime::ParsedMessage& parsed) {
  Xapian::Document doc;
  doc_ = &doc;
  tg_.set_document(doc);

  doc.add_boolean_term(unique_term(meta.id));

  text(IndexField::kSubject, parsed.subject);

  // From and Sender share the from field; a Sender equal to a From address adds nothing.
  std::vector<const mime::Address*> from = pointers(parsed.from);
  for (const mime::Address& s : parsed.sender) {
    bool duplicate = false;
    for (const mime::Address& f : parsed.from) {
      duplicate = duplicate || same_email(f.email, s.email);
    }
    if (!duplicate) {
      from.push_back(&s);
    }
  }
  addresses(IndexField::kFrom, from);
  addresses(IndexField::kTo, pointers(parsed.to));
  addresses(IndexField::kCc, pointers(parsed.cc));
  addresses(IndexField::kBcc, pointers(parsed.bcc));

  for (const mime::Attachment& a : parsed.attachments) {
    text(IndexField::kFilename, a.filename);
  }
  text(IndexField::kBody, parsed.body_text);
  text(IndexField::kAttachmentText, parsed.attachment_text);
  if (!stem_.is_none()) {
    drop_duplicate_stems(doc);
  }

  std::string message_id = parsed.message_id;
  if (message_id.size() >= 2 && message_id.front() == '<' && message_id.back() == '>') {
    message_id = message_id.substr(1, message_id.size() - 2);
  }
  add_boolean(doc, IndexField::kMessageId, message_id);
  add_boolean(doc, IndexField::kListId, parsed.list_id);
  for (const std::string& account : meta.accounts) {
    add_boolean(doc, IndexField::kAccount, account);
  }
  for (const std::string& folder : meta.folders) {
    add_boolean(doc, IndexField::kFolder, folder);
  }
  if (parsed.has_attachments || !parsed.attachments.empty()) {
    add_boolean(doc, IndexField::kHas, kHasAttachmentValue);
  }

  if (parsed.date) {
    doc.add_value(slot_number(Slot::kDate),
                  Xapian::sortable_serialise(static_cast<double>(*parsed.date)));
  }
  doc.add_value(slot_number(Slot::kArchived),
                Xapian::sortable_serialise(static_cast<double>(meta.archived_at)));
  doc.add_value(slot_number(Slot::kSize),
                Xapian::sortable_serialise(static_cast<double>(meta.size)));
  doc.add_value(slot_number(Slot::kSortKey),
                encode_sort_key(parsed.date.value_or(meta.archived_at), meta.id));

  // Detach the TermGenerator from the document so that nothing refers to it afterwards.
  tg_.set_document(Xapian::Document());
  doc_ = nullptr;
  return doc;
}

}  // namespace mailvault::index
