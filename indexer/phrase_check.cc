#include "indexer/phrase_check.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "indexer/index_writer.h"
#include "indexer/pair_filter.h"

namespace mailvault::index {
namespace {

// The writer indexes each field up to IndexOptions::max_text_bytes; words past that were never
// indexed, so looking further would only cost time (a phrase there is still found as all of
// its words when they also occur earlier: the default limit keeps that rare).
const std::size_t kMaxCheckedBytes = IndexOptions{}.max_text_bytes;

void add_addresses(WordSplitter& splitter, const std::vector<mime::Address>& list,
                   PhraseTexts::Pieces& out) {
  for (const mime::Address& a : list) {
    out.push_back(splitter.words(clip_utf8(a.name, kMaxCheckedBytes)));
    out.push_back(splitter.words(clip_utf8(a.email, kMaxCheckedBytes)));
  }
}

PhraseTexts::Pieces split_field(WordSplitter& splitter, const mime::ParsedMessage& m,
                                IndexField field) {
  PhraseTexts::Pieces out;
  auto one = [&](const std::string& text) {
    out.push_back(splitter.words(clip_utf8(text, kMaxCheckedBytes)));
  };
  switch (field) {
    case IndexField::kBody:
      one(m.body_text);
      one(m.other_text);
      break;
    case IndexField::kSubject:
      one(m.subject);
      break;
    case IndexField::kFrom:
      add_addresses(splitter, m.from, out);
      add_addresses(splitter, m.sender, out);
      break;
    case IndexField::kTo:
      add_addresses(splitter, m.to, out);
      break;
    case IndexField::kCc:
      add_addresses(splitter, m.cc, out);
      break;
    case IndexField::kBcc:
      add_addresses(splitter, m.bcc, out);
      break;
    case IndexField::kFilename:
      for (const mime::Attachment& a : m.attachments) {
        one(a.filename);
      }
      break;
    case IndexField::kAttachmentText:
      one(m.attachment_text);
      break;
    default:
      break;  // boolean fields have no text
  }
  return out;
}

}  // namespace

PhraseTexts::PhraseTexts(TextLoader loader) : loader_(std::move(loader)) {}

const PhraseTexts::Pieces* PhraseTexts::pieces(MessageId id, IndexField field) {
  if (id_ != id) {
    id_ = id;
    message_ = loader_(id);
    for (std::optional<Pieces>& s : split_) {
      s.reset();
    }
  }
  if (!message_) {
    return nullptr;
  }
  std::optional<Pieces>& split = split_[static_cast<std::size_t>(field)];
  if (!split) {
    split = split_field(splitter_, *message_, field);
  }
  return &*split;
}

bool contains_phrase(const std::vector<std::string>& words,
                     const std::vector<std::string>& phrase) {
  return std::search(words.begin(), words.end(), phrase.begin(), phrase.end()) != words.end();
}

PhraseCheck::PhraseCheck(std::shared_ptr<PhraseTexts> texts, IndexField field,
                         std::vector<std::string> phrase)
    : texts_(std::move(texts)), field_(field), phrase_(std::move(phrase)) {
  const bool filterable = std::none_of(
      phrase_.begin(), phrase_.end(), [](const std::string& w) { return PairFilter::excluded(w); });
  if (filterable) {
    for (std::size_t i = 0; i + 1 < phrase_.size(); ++i) {
      pairs_.push_back(PairFilter::pair_hash(PairFilter::word_hash(phrase_[i]),
                                             PairFilter::word_hash(phrase_[i + 1])));
    }
  }
}

PhraseCheck* PhraseCheck::clone() const {
  return new PhraseCheck(texts_, field_, phrase_);  // Xapian owns clones
}

void PhraseCheck::init(const Xapian::Database& db) {
  db_ = db;
  pairs_cursor_ = ValueCursor{};
  pairs_cursor_.slot = slot_number(Slot::kPhrasePairs);
  sort_cursor_ = ValueCursor{};
  sort_cursor_.slot = slot_number(Slot::kSortKey);
  docs_ = db.get_doccount();
  all_ = db.postlist_begin(std::string());
  current_ = 0;
  started_ = false;
  at_end_ = false;
}

std::string PhraseCheck::get_description() const {
  std::string out = "PhraseCheck(";
  out += prefix_of(field_).empty() ? std::string_view("body") : prefix_of(field_);
  out += ':';
  for (const std::string& w : phrase_) {
    out += ' ';
    out += w;
  }
  out += ')';
  return out;
}

// The value of `did` in a slot's stream, or empty. Candidates come in increasing docid order
// (Xapian's contract for check() and skip_to()), so the stream only moves forward and reads
// each value chunk once, instead of one B-tree lookup per document and slot.
std::string PhraseCheck::value_of(ValueCursor& cursor, Xapian::docid did) {
  const Xapian::ValueIterator end = db_.valuestream_end(cursor.slot);
  if (!cursor.started || cursor.last > did) {
    cursor.it = db_.valuestream_begin(cursor.slot);
    cursor.started = true;
  }
  cursor.last = did;
  if (cursor.it != end && cursor.it.get_docid() < did) {
    cursor.it.skip_to(did);
  }
  if (cursor.it == end || cursor.it.get_docid() != did) {
    return {};
  }
  return *cursor.it;
}

bool PhraseCheck::matches(Xapian::docid did) {
  if (!pairs_.empty()) {
    // Most candidates fail here, without loading their text.
    const std::string filter = value_of(pairs_cursor_, did);
    for (const std::uint64_t pair : pairs_) {
      if (!PairFilter::may_contain(filter, pair)) {
        return false;
      }
    }
  }
  const std::optional<MessageId> id = decode_sort_key_id(value_of(sort_cursor_, did));
  if (!id) {
    return false;  // not one of our documents
  }
  const PhraseTexts::Pieces* pieces = texts_->pieces(*id, field_);
  if (pieces == nullptr) {
    return true;  // no text to verify against: all of the words is the best we know
  }
  return std::any_of(pieces->begin(), pieces->end(), [&](const std::vector<std::string>& words) {
    return contains_phrase(words, phrase_);
  });
}

// The first matching document at or after `did` (the document iterator only moves forward;
// Xapian asks for increasing docids).
void PhraseCheck::advance_from(Xapian::docid did) {
  started_ = true;
  const Xapian::PostingIterator end = db_.postlist_end(std::string());
  if (all_ != end && *all_ < did) {
    all_.skip_to(did);
  }
  while (all_ != end && !matches(*all_)) {
    ++all_;
  }
  at_end_ = all_ == end;
  current_ = at_end_ ? 0 : *all_;
}

void PhraseCheck::next(double /*min_wt*/) {
  advance_from(started_ ? current_ + 1 : 1);
}

void PhraseCheck::skip_to(Xapian::docid did, double /*min_wt*/) {
  if (started_ && !at_end_ && did <= current_) {
    return;
  }
  advance_from(did);
}

bool PhraseCheck::check(Xapian::docid did, double /*min_wt*/) {
  started_ = true;
  current_ = did;
  at_end_ = false;
  // false leaves an indeterminate position: next() continues after did.
  return matches(did);
}

}  // namespace mailvault::index
