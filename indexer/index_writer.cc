#include "indexer/index_writer.h"

#include <xapian.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "core/base/thread_pool.h"
#include "indexer/document_builder.h"
#include "indexer/schema.h"
#include "indexer/term_generation.h"
#include "indexer/xapian_error.h"

namespace mailvault::index {
namespace {

// The canonical name of a stemming language ("en" and "english" are the same stemmer).
std::string canonical_language(const Xapian::Stem& stem) {
  if (stem.is_none()) return "none";
  const std::string d = stem.get_description();  // "Xapian::Stem(english)"
  const std::size_t open = d.find('(');
  const std::size_t close = d.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close <= open) return d;
  return d.substr(open + 1, close - open - 1);
}

// Cancels an open Xapian transaction unless it was committed.
class TransactionGuard {
 public:
  explicit TransactionGuard(Xapian::WritableDatabase& db) : db_(db) { db_.begin_transaction(); }
  TransactionGuard(const TransactionGuard&) = delete;
  TransactionGuard& operator=(const TransactionGuard&) = delete;
  ~TransactionGuard() {
    if (open_) {
      try {
        db_.cancel_transaction();
      } catch (const Xapian::Error&) {  // NOLINT(bugprone-empty-catch): already failing
      }
    }
  }
  void commit() {
    db_.commit_transaction();
    open_ = false;
  }

 private:
  Xapian::WritableDatabase& db_;
  bool open_ = true;
};

}  // namespace

struct IndexWriter::Impl {
  std::filesystem::path dir;
  std::string context;  // "index at DIR", the start of every error message
  IndexOptions options;
  Xapian::WritableDatabase db;
  std::vector<std::unique_ptr<DocumentBuilder>> builders;  // one per document-building thread
  std::unique_ptr<ThreadPool> pool;                        // builders.size() - 1 helpers
};

IndexWriter::IndexWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IndexWriter::IndexWriter(IndexWriter&&) noexcept = default;
IndexWriter& IndexWriter::operator=(IndexWriter&&) noexcept = default;
IndexWriter::~IndexWriter() = default;

const std::filesystem::path& IndexWriter::dir() const { return impl_->dir; }

Result<IndexWriter> IndexWriter::open(const std::filesystem::path& dir, IndexOptions options) {
  const std::string context = "index at " + dir.string();
  return xapian_try(context, [&]() -> Result<IndexWriter> {
    // Before touching the disk: an unknown language throws InvalidArgumentError.
    const std::string language = canonical_language(make_stemmer(options.language));

    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return Error{Code::kFailedPrecondition,
                   context + ": cannot create the directory: " + ec.message()};
    }
    auto impl = std::make_unique<Impl>();
    impl->dir = dir;
    impl->context = context;
    impl->options = options;
    impl->db = Xapian::WritableDatabase(dir.string(), Xapian::DB_CREATE_OR_OPEN);

    const std::string want_schema = std::to_string(kSchemaVersion);
    const std::string schema = impl->db.get_metadata(std::string(kSchemaVersionKey));
    const std::string stored_language = impl->db.get_metadata(std::string(kStemLanguageKey));
    if (schema.empty()) {
      if (impl->db.get_doccount() != 0) {
        return Error{Code::kFailedPrecondition,
                     context + " has no mailvault schema version: run `mailvault reindex` to "
                               "rebuild it"};
      }
      impl->db.set_metadata(std::string(kSchemaVersionKey), want_schema);
      impl->db.set_metadata(std::string(kStemLanguageKey), language);
      impl->db.commit();
    } else if (schema != want_schema) {
      return Error{Code::kFailedPrecondition,
                   context + " has schema version " + schema + " but this mailvault uses " +
                       want_schema + ": run `mailvault reindex` to rebuild it"};
    } else if (stored_language != language) {
      return Error{Code::kFailedPrecondition,
                   context + " was built with stemming language \"" + stored_language +
                       "\", not \"" + language + "\": run `mailvault reindex` to rebuild it"};
    }

    std::size_t threads = options.threads;
    if (threads == 0) threads = std::max(1U, std::thread::hardware_concurrency());
    for (std::size_t i = 0; i < threads; ++i) {
      impl->builders.push_back(
          std::make_unique<DocumentBuilder>(options.language, options.max_text_bytes));
    }
    if (threads > 1) impl->pool = std::make_unique<ThreadPool>(threads - 1, threads);
    return IndexWriter(std::move(impl));
  });
}

Status IndexWriter::write(std::vector<IndexItem> items) {
  if (items.empty()) return ok_status();
  Impl& impl = *impl_;
  const std::size_t n = items.size();
  std::vector<Xapian::Document> docs(n);

  // 1. Build the documents, each thread with its own DocumentBuilder (Stem, TermGenerator).
  std::atomic<std::size_t> next{0};
  std::mutex error_mu;
  std::optional<Error> first_error;
  auto record = [&](Error e) {
    const std::lock_guard lock(error_mu);
    if (!first_error) first_error = std::move(e);
    next.store(n);  // the others stop at their next item
  };
  auto work = [&](std::size_t worker) {
    DocumentBuilder& builder = *impl.builders[worker];
    for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      // A thread-pool task must not throw (its caller would wait forever).
      try {
        Status st = xapian_try(impl.context, [&]() -> Status {
          docs[i] = builder.build(items[i].meta, items[i].parsed);
          return {};
        });
        if (!st) return record(st.error());
      } catch (const std::exception& e) {
        return record(Error{Code::kInternal, impl.context + ": building a document: " + e.what()});
      }
    }
  };
  const std::size_t workers = std::min(impl.builders.size(), n);
  if (workers <= 1 || !impl.pool) {
    work(0);
  } else {
    impl.pool->parallel_for(workers, work);
  }
  if (first_error) return std::move(*first_error);

  // 2. Replace serially, in input order, and commit: one transaction for the batch.
  return xapian_try(impl.context, [&]() -> Status {
    TransactionGuard transaction(impl.db);
    for (std::size_t i = 0; i < n; ++i) {
      impl.db.replace_document(unique_term(items[i].meta.id), docs[i]);
    }
    transaction.commit();
    return {};
  });
}

Status IndexWriter::remove(MessageId id) {
  return xapian_try(impl_->context, [&]() -> Status {
    impl_->db.delete_document(unique_term(id));
    impl_->db.commit();
    return {};
  });
}

Status IndexWriter::compact_to(const std::filesystem::path& dest) const {
  std::error_code ec;
  if (std::filesystem::exists(dest, ec)) {
    return Error{Code::kAlreadyExists, impl_->context + ": cannot compact into " + dest.string() +
                                           ": it already exists"};
  }
  return xapian_try(impl_->context, [&]() -> Status {
    impl_->db.compact(dest.string());
    return {};
  });
}

std::uint64_t IndexWriter::doc_count() const {
  return xapian_try(impl_->context, [&]() -> Result<std::uint64_t> {
           return std::uint64_t{impl_->db.get_doccount()};
         })
      .value_or(0);
}

}  // namespace mailvault::index
