#include "indexer/document_builder.h"

#include <string>
#include <vector>

#include "indexer/term_generation.h"

namespace mailvault::index {
namespace {

std::vector<const mime::Address*> pointers(const std::vector<mime::Address>& list) {
  std::vector<const mime::Address*> out;
  out.reserve(list.size());
  for (const mime::Address& a : list) out.push_back(&a);
  return out;
}

bool same_email(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

DocumentBuilder::DocumentBuilder(const std::string& language, std::size_t max_text_bytes)
    : stem_(make_stemmer(language)), max_text_bytes_(max_text_bytes) {
  configure_term_generator(tg_, stem_);
}

void DocumentBuilder::end_field() { tg_.increase_termpos(kFieldPositionGap); }

void DocumentBuilder::text(IndexField field, std::string_view value) {
  if (value.empty()) return;
  const std::string_view clipped = clip_utf8(value, max_text_bytes_);
  tg_.index_text(Xapian::Utf8Iterator(clipped.data(), clipped.size()), 1,
                 std::string(prefix_of(field)));
}

// Names and addresses as words, plus one exact term per full address. A one-position gap after
// each name and each address keeps phrases inside one of them ("Smith Alice" does not match
// "Alice Smith <alice@...>", nor "bob carol" two recipients).
void DocumentBuilder::addresses(IndexField field, const std::vector<const mime::Address*>& list) {
  const std::string prefix(prefix_of(field));
  for (const mime::Address* a : list) {
    text(field, a->name);
    tg_.increase_termpos(1);
    text(field, a->email);
    tg_.increase_termpos(1);
    if (!a->email.empty()) doc_->add_boolean_term(exact_term(prefix, a->email));
  }
  end_field();
}

void DocumentBuilder::boolean(Xapian::Document& doc, IndexField field, std::string_view value) {
  if (value.empty()) return;
  doc.add_boolean_term(exact_term(prefix_of(field), value));
}

Xapian::Document DocumentBuilder::build(const MessageMeta& meta, const mime::ParsedMessage& parsed) {
  Xapian::Document doc;
  doc_ = &doc;
  tg_.set_document(doc);
  tg_.set_termpos(0);

  doc.add_boolean_term(unique_term(meta.id));

  text(IndexField::kSubject, parsed.subject);
  end_field();

  // From and Sender share the from field; a Sender equal to a From address adds nothing.
  std::vector<const mime::Address*> from = pointers(parsed.from);
  for (const mime::Address& s : parsed.sender) {
    bool duplicate = false;
    for (const mime::Address& f : parsed.from) duplicate = duplicate || same_email(f.email, s.email);
    if (!duplicate) from.push_back(&s);
  }
  addresses(IndexField::kFrom, from);
  addresses(IndexField::kTo, pointers(parsed.to));
  addresses(IndexField::kCc, pointers(parsed.cc));
  addresses(IndexField::kBcc, pointers(parsed.bcc));

  for (const mime::Attachment& a : parsed.attachments) {
    text(IndexField::kFilename, a.filename);
    tg_.increase_termpos(1);
  }
  end_field();

  text(IndexField::kBody, parsed.body_text);
  end_field();
  text(IndexField::kAttachmentText, parsed.attachment_text);

  std::string message_id = parsed.message_id;
  if (message_id.size() >= 2 && message_id.front() == '<' && message_id.back() == '>') {
    message_id = message_id.substr(1, message_id.size() - 2);
  }
  boolean(doc, IndexField::kMessageId, message_id);
  boolean(doc, IndexField::kListId, parsed.list_id);
  for (const std::string& account : meta.accounts) boolean(doc, IndexField::kAccount, account);
  for (const std::string& folder : meta.folders) boolean(doc, IndexField::kFolder, folder);
  if (parsed.has_attachments || !parsed.attachments.empty()) {
    boolean(doc, IndexField::kHas, kHasAttachmentValue);
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
