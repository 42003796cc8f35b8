#include "indexer/document_builder.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "indexer/pair_filter.h"
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

bool ascii_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Calls f(run) for every maximal run of ASCII letters and digits of `text`, as written.
template <typename F>
void for_each_ascii_run(std::string_view text, F&& f) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (!ascii_alnum(text[i])) {
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    while (end < text.size() && ascii_alnum(text[end])) {
      ++end;
    }
    f(text.substr(i, end - i));
    i = end;
  }
}

std::string ascii_lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = ascii_lower(c);
  }
  return out;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

}  // namespace

// Sees every word the TermGenerator indexes, in text order, right after its exact term was
// added: with STOP_STEMMED the TermGenerator asks the stopper before stemming a word, and this
// one always answers "stop", so no stemmed term is ever written (schema.h) and the stemmer is
// never called by the TermGenerator.
class DocumentBuilder::WordRecorder : public Xapian::Stopper {
 public:
  explicit WordRecorder(DocumentBuilder& builder) : builder_(builder) {}

  bool operator()(const std::string& word) const override {
    builder_.on_word(word);
    return true;
  }

 private:
  DocumentBuilder& builder_;
};

namespace {

// Bounds each builder's memory for words already reported (about 100 bytes each).
constexpr std::size_t kMaxKnownWords = 200000;

}  // namespace

DocumentBuilder::DocumentBuilder(const std::string& language, std::size_t max_text_bytes)
    : stem_(make_stemmer(language)),
      recorder_(std::make_unique<WordRecorder>(*this)),
      max_text_bytes_(max_text_bytes) {
  configure_term_generator(tg_, Xapian::Stem());
  // The stopper is only consulted under STEM_SOME with a stemmer; it stops every word before
  // that stemmer runs, so any language will do (and "none" indexes the same way).
  tg_.set_stemmer(stem_.is_none() ? Xapian::Stem("english") : stem_);
  tg_.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
  tg_.set_stopper(recorder_.get());  // not released: the builder owns it and outlives tg_
  tg_.set_stopper_strategy(Xapian::TermGenerator::STOP_STEMMED);
}

DocumentBuilder::~DocumentBuilder() = default;

void DocumentBuilder::forget_words() {
  known_.clear();
}

void DocumentBuilder::on_word(const std::string& word) {
  next_pair(word);
  check_known(word);
}

void DocumentBuilder::next_pair(std::string_view word) {
  if (PairFilter::excluded(word)) {
    has_previous_ = false;
    return;
  }
  const std::uint64_t hash = PairFilter::word_hash(word);
  if (has_previous_) {
    pairs_.push_back(PairFilter::pair_hash(previous_, hash));
  }
  previous_ = hash;
  has_previous_ = true;
}

void DocumentBuilder::check_known(std::string_view word) {
  if (new_stems_ == nullptr) {
    return;
  }
  const std::uint64_t hash = PairFilter::word_hash(word);
  const auto it = known_.find(hash);
  if (it != known_.end() && it->second == word) {
    return;
  }
  if (known_.size() >= kMaxKnownWords) {
    known_.clear();
  }
  std::string w(word);
  std::string stem = word_stem(stem_, w);
  known_.insert_or_assign(hash, w);
  if (!stem.empty() && stem != w) {
    new_stems_->push_back(StemLink{std::move(stem), std::move(w)});
  }
}

// Most pieces of mail text are plain ASCII words: those are counted here (for_each_piece gives
// exactly the TermGenerator's words) and added once per distinct term at the end of build();
// only the other runs go through the TermGenerator, whose Unicode machinery and per-occurrence
// term insertion were most of the time spent building a document.
void DocumentBuilder::text(IndexField field, std::string_view value) {
  if (value.empty()) {
    return;
  }
  const std::string_view clipped = clip_utf8(value, max_text_bytes_);
  if (has_substring_candidates(field) && !unindexed_text_ &&
      (clipped.size() < value.size() || may_skip_words(clipped))) {
    unindexed_text_ = true;
    doc_->add_boolean_term(std::string(kUnindexedTextTerm));
  }
  const std::string prefix(prefix_of(field));
  has_previous_ = false;  // a phrase never spans two pieces
  for_each_piece(
      clipped,
      [&](std::string_view word) {
        term_.assign(prefix);
        for (const char c : word) {
          term_ += ascii_lower(c);
        }
        const std::string_view lower = std::string_view(term_).substr(prefix.size());
        next_pair(lower);
        auto [it, added] = wdf_.try_emplace(term_, 0);
        ++it->second;
        if (added) {
          check_known(lower);
        }
      },
      [&](std::string_view run) {
        // No positions (schema.h): phrases are verified on the message text instead.
        tg_.index_text_without_positions(Xapian::Utf8Iterator(run.data(), run.size()), 1, prefix);
        // The whole ASCII runs the TermGenerator saw, for check_literal().
        auto* runs = field == IndexField::kSubject ? &subject_runs_
                     : (field == IndexField::kBody || field == IndexField::kAttachmentText)
                         ? &body_runs_
                         : nullptr;
        if (runs != nullptr) {
          for_each_ascii_run(run, [&](std::string_view r) { runs->insert(ascii_lowered(r)); });
        }
      });
}

// Every occurrence of the Subject and address header fields, as decoded text, in its field (the
// words the fields above already hold only add to their counts): IMAP's SUBJECT, FROM, TO, CC
// and BCC keys search these values, and the substring candidates (schema.h) need every ASCII
// letter and digit of them in a term, comments and group names included.
void DocumentBuilder::header_values(const mime::ParsedMessage& parsed) {
  bool first_subject = true;
  for (const mime::Header& h : parsed.headers) {
    const std::optional<IndexField> field = header_field(h.name);
    if (!field) {
      continue;
    }
    if (*field == IndexField::kSubject && first_subject && h.value == parsed.subject) {
      first_subject = false;
      continue;  // already indexed
    }
    text(*field, h.value);
  }
}

std::optional<IndexField> DocumentBuilder::header_field(std::string_view name) {
  struct Entry {
    std::string_view name;
    IndexField field;
  };

  static constexpr std::array<Entry, 6> kHeaderFields = {{
      {"subject", IndexField::kSubject},
      {"from", IndexField::kFrom},
      {"sender", IndexField::kFrom},
      {"to", IndexField::kTo},
      {"cc", IndexField::kCc},
      {"bcc", IndexField::kBcc},
  }};
  for (const Entry& e : kHeaderFields) {
    if (e.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), e.name.begin(),
                   [](char a, char b) { return ascii_lower(a) == b; })) {
      return e.field;
    }
  }
  return std::nullopt;
}

// Definite matches (schema.h): the words of simple pieces (in wdf_) are literal by
// construction; every other body, XAT and S term (made by the TermGenerator, and in the
// document already) must consist of whole ASCII runs of the text it was made from, or the
// document is marked. The Subject terms of parsed.subject count as literal only when it is the
// value of a Subject field (what IMAP SUBJECT searches).
void DocumentBuilder::check_literal(const mime::ParsedMessage& parsed) {
  bool body_literal = true;
  bool subject_literal = parsed.subject.empty();
  for (const mime::Header& h : parsed.headers) {
    subject_literal =
        subject_literal || (iequals_ascii(h.name, "subject") && h.value == parsed.subject);
  }
  const std::string_view attachment_prefix = prefix_of(IndexField::kAttachmentText);
  const std::string_view subject_prefix = prefix_of(IndexField::kSubject);
  for (auto t = doc_->termlist_begin(); t != doc_->termlist_end(); ++t) {
    const std::string term = *t;
    if (term.empty()) {
      continue;
    }
    const std::unordered_set<std::string>* runs = nullptr;
    std::string_view word = term;
    bool* literal = nullptr;
    if (term.front() < 'A' || term.front() > 'Z') {
      runs = &body_runs_;
      literal = &body_literal;
    } else if (word.starts_with(attachment_prefix)) {
      word.remove_prefix(attachment_prefix.size());
      runs = &body_runs_;
      literal = &body_literal;
    } else if (word.starts_with(subject_prefix)) {
      word.remove_prefix(subject_prefix.size());
      runs = &subject_runs_;
      literal = &subject_literal;
    } else {
      continue;
    }
    if (!*literal || wdf_.contains(term)) {
      continue;
    }
    for_each_ascii_run(word, [&](std::string_view r) {
      if (!runs->contains(std::string(r))) {
        *literal = false;
      }
    });
  }
  if (!body_literal) {
    doc_->add_boolean_term(std::string(kNonLiteralBodyTerm));
  }
  if (!subject_literal) {
    doc_->add_boolean_term(std::string(kNonLiteralSubjectTerm));
  }
}

// Substring candidates for HEADER Message-ID (schema.h): every ASCII run of every Message-ID
// field must be inside the XMID term's value, or the document is marked.
void DocumentBuilder::check_message_id(const mime::ParsedMessage& parsed,
                                       std::string_view message_id) {
  const std::string_view prefix = prefix_of(IndexField::kMessageId);
  const std::string term = message_id.empty() ? std::string() : exact_term(prefix, message_id);
  const std::string_view value = term.size() > prefix.size()
                                     ? std::string_view(term).substr(prefix.size())
                                     : std::string_view();
  const bool bounded = !message_id.empty() && prefix.size() + message_id.size() > kMaxTermBytes;
  bool inside = !bounded;
  for (const mime::Header& h : parsed.headers) {
    if (!inside || !iequals_ascii(h.name, "message-id")) {
      continue;
    }
    if (std::any_of(h.value.begin(), h.value.end(),
                    [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
      inside = false;  // folding non-ASCII may make ASCII letters (U+212A KELVIN SIGN)
      break;
    }
    for_each_ascii_run(h.value, [&](std::string_view r) {
      if (value.find(ascii_lowered(r)) == std::string_view::npos) {
        inside = false;
      }
    });
  }
  if (!inside) {
    doc_->add_boolean_term(std::string(kUnindexedMessageIdTerm));
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

Xapian::Document DocumentBuilder::build(const MessageMeta& meta, const mime::ParsedMessage& parsed,
                                        std::vector<StemLink>* new_stems) {
  Xapian::Document doc;
  doc_ = &doc;
  new_stems_ = new_stems;
  pairs_.clear();
  wdf_.clear();
  body_runs_.clear();
  subject_runs_.clear();
  unindexed_text_ = false;
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
  header_values(parsed);

  for (const mime::Attachment& a : parsed.attachments) {
    text(IndexField::kFilename, a.filename);
  }
  text(IndexField::kBody, parsed.body_text);
  text(IndexField::kBody, parsed.other_text);
  text(IndexField::kAttachmentText, parsed.attachment_text);
  check_literal(parsed);
  for (const auto& [term, wdf] : wdf_) {
    doc.add_term(term, wdf);
  }
  wdf_.clear();

  std::string message_id = parsed.message_id;
  if (message_id.size() >= 2 && message_id.front() == '<' && message_id.back() == '>') {
    message_id = message_id.substr(1, message_id.size() - 2);
  }
  add_boolean(doc, IndexField::kMessageId, message_id);
  check_message_id(parsed, message_id);
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
  doc.add_value(slot_number(Slot::kPhrasePairs), PairFilter::encode(pairs_));

  // Detach the TermGenerator from the document so that nothing refers to it afterwards.
  tg_.set_document(Xapian::Document());
  doc_ = nullptr;
  new_stems_ = nullptr;
  return doc;
}

}  // namespace mailvault::index
