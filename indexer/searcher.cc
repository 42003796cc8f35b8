#include "indexer/searcher.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <xapian.h>

#include "indexer/phrase_check.h"
#include "indexer/query_compiler.h"
#include "indexer/read_handle.h"
#include "indexer/schema.h"
#include "indexer/term_generation.h"
#include "indexer/xapian_error.h"

namespace mailvault::index {
namespace {

// Snippets look at no more than this much of a message's text, to bound their cost.
constexpr std::size_t kSnippetSourceBytes = std::size_t{64} * 1024;

}  // namespace

struct Searcher::Impl {
  explicit Impl(std::filesystem::path dir) : handle(std::move(dir)) {}

  ReadHandle handle;
  std::optional<QueryCompiler> compiler;  // stems like the index (its stored language)
  std::uint64_t compiler_generation = 0;  // handle.generation() the compiler was made for
  TextLoader loader;                      // set_text_loader()

  // Runs `attempt` on the freshly reopened database, with `compiler` made for it.
  template <typename T, typename F>
  Result<T> with_database(F&& attempt, T empty) {
    return handle.with_database(
        [&](Xapian::Database& db) -> Result<T> {
          if (!compiler || compiler_generation != handle.generation()) {
            compiler.emplace(db.get_metadata(std::string(kStemLanguageKey)));
            compiler_generation = handle.generation();
          }
          return attempt(db);
        },
        std::move(empty));
  }
};

Searcher::Searcher(std::filesystem::path dir) : impl_(std::make_unique<Impl>(std::move(dir))) {}

void Searcher::set_text_loader(TextLoader loader) {
  impl_->loader = std::move(loader);
}

Searcher::Searcher(Searcher&&) noexcept = default;
Searcher& Searcher::operator=(Searcher&&) noexcept = default;
Searcher::~Searcher() = default;

Result<SearchPage> Searcher::search(const SearchRequest& request) {
  Impl& impl = *impl_;
  return impl.with_database<SearchPage>(
      [&](Xapian::Database& db) -> Result<SearchPage> {
        Xapian::Enquire enquire(db);
        enquire.set_query(impl.compiler->compile(
            request.query, request.load_text ? request.load_text : impl.loader, &db));
        switch (request.sort) {
          case SearchRequest::Sort::kRelevance:
            break;  // BM25, ties by docid
          case SearchRequest::Sort::kDateDesc:
          case SearchRequest::Sort::kDateAsc:
            enquire.set_weighting_scheme(Xapian::BoolWeight());
            enquire.set_sort_by_value(slot_number(Slot::kSortKey),
                                      request.sort == SearchRequest::Sort::kDateDesc);
            break;
        }
        const Xapian::doccount docs = db.get_doccount();
        const auto first =
            static_cast<Xapian::doccount>(std::min<std::uint64_t>(request.offset, docs));
        const Xapian::doccount limit = std::min(request.limit, kMaxSearchLimit);
        // Relevance: one more than the page, so that has_more is exact (the total is Xapian's
        // estimate). Date sorts visit every match anyway, so counting them all costs nothing
        // and makes the total exact.
        const Xapian::doccount check_at_least =
            request.sort == SearchRequest::Sort::kRelevance
                ? static_cast<Xapian::doccount>(
                      std::min<std::uint64_t>(std::uint64_t{first} + limit + 1, docs))
                : docs;
        const Xapian::MSet mset = enquire.get_mset(first, limit, check_at_least);

        SearchPage page;
        page.hits.reserve(mset.size());
        for (auto it = mset.begin(); it != mset.end(); ++it) {
          const Xapian::Document doc = it.get_document();
          const std::optional<MessageId> id =
              decode_sort_key_id(doc.get_value(slot_number(Slot::kSortKey)));
          if (!id) {
            return Error{Code::kDataLoss, impl.handle.context() + ": document " +
                                              std::to_string(*it) + " has no sort key"};
          }
          SearchHit hit;
          hit.id = *id;
          if (request.sort == SearchRequest::Sort::kRelevance) {
            hit.relevance = it.get_weight();
          }
          if (request.snippet_text) {
            const std::string text = request.snippet_text(hit.id);
            if (!text.empty()) {
              hit.snippet = mset.snippet(
                  std::string(clip_utf8(text, kSnippetSourceBytes)), kSnippetBytes,
                  impl.compiler->stemmer(),
                  // No SNIPPET_BACKGROUND_MODEL: it costs a term lookup per word of the text and,
                  // measured on the bench corpus, picks windows without the match half the time.
                  Xapian::MSet::SNIPPET_CJK_NGRAM, "<b>", "</b>", "...");
            }
          }
          page.hits.push_back(std::move(hit));
        }
        page.total_estimate = std::max<std::uint64_t>(mset.get_matches_estimated(),
                                                      std::uint64_t{first} + page.hits.size());
        page.has_more = mset.get_matches_lower_bound() > std::uint64_t{first} + page.hits.size();
        return page;
      },
      SearchPage{});
}

Result<std::vector<MessageId>> Searcher::all_matches(const search::Query& query) {
  Impl& impl = *impl_;
  return impl.with_database<std::vector<MessageId>>(
      [&](Xapian::Database& db) -> Result<std::vector<MessageId>> {
        Xapian::Enquire enquire(db);
        enquire.set_query(impl.compiler->compile(query, impl.loader, &db));
        enquire.set_weighting_scheme(Xapian::BoolWeight());
        enquire.set_docid_order(Xapian::Enquire::DONT_CARE);
        const Xapian::doccount docs = db.get_doccount();
        const Xapian::MSet mset = enquire.get_mset(0, docs, docs);
        std::vector<MessageId> ids;
        ids.reserve(mset.size());
        for (auto it = mset.begin(); it != mset.end(); ++it) {
          const std::optional<MessageId> id =
              decode_sort_key_id(it.get_document().get_value(slot_number(Slot::kSortKey)));
          if (!id) {
            return Error{Code::kDataLoss, impl.handle.context() + ": document " +
                                              std::to_string(*it) + " has no sort key"};
          }
          ids.push_back(*id);
        }
        return ids;
      },
      std::vector<MessageId>{});
}

Result<std::uint64_t> Searcher::doc_count() {
  return impl_->with_database<std::uint64_t>(
      [](Xapian::Database& db) -> Result<std::uint64_t> {
        return std::uint64_t{db.get_doccount()};
      },
      std::uint64_t{0});
}

}  // namespace mailvault::index
