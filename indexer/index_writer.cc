#include "indexer/index_writer.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <xapian.h>

#include "core/base/thread_pool.h"
#include "indexer/document_builder.h"
#include "indexer/schema.h"
#include "indexer/term_generation.h"
#include "indexer/xapian_error.h"

namespace mailvault::index {
namespace {

// The canonical name of a stemming language ("en" and "english" are the same stemmer).
std::string canonical_language(const Xapian::Stem& stem) {
  if (stem.is_none()) {
    return "none";
  }
  std::string d = stem.get_description();  // "Xapian::Stem(english)"
  const std::size_t open = d.find('(');
  const std::size_t close = d.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close <= open) {
    return d;
  }
  return d.substr(open + 1, close - open - 1);
}

// Cancels an open Xapian transaction unless it was committed.
class TransactionGuard {
 public:
  explicit TransactionGuard(Xapian::WritableDatabase& db) : db_(db) { db_.begin_transaction(); }

  TransactionGuard(const TransactionGuard&) = delete;
  TransactionGuard& operator=(const TransactionGuard&) = delete;
  TransactionGuard(TransactionGuard&&) = delete;
  TransactionGuard& operator=(TransactionGuard&&) = delete;

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
  std::unique_ptr<ThreadPool> pool;  // builders.size() threads; none for a single builder

  // Writes one message's document and the stem classes its builder reported (schema.h).
  void put(MessageId id, const Xapian::Document& doc, const std::vector<StemLink>& stems) {
    db.replace_document(unique_term(id), doc);
    for (const StemLink& link : stems) {
      db.add_synonym(stem_class_key(link.stem), link.word);
    }
  }

  // The stem classes reported since the last commit were not written: every builder must
  // report its words again. Only while no document is being built.
  void forget_words() {
    for (const auto& builder : builders) {
      builder->forget_words();
    }
  }
};

IndexWriter::IndexWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

IndexWriter::IndexWriter(IndexWriter&&) noexcept = default;
IndexWriter& IndexWriter::operator=(IndexWriter&&) noexcept = default;
IndexWriter::~IndexWriter() = default;

const std::string& IndexWriter::language() const {
  return impl_->options.language;
}

const std::filesystem::path& IndexWriter::dir() const {
  return impl_->dir;
}

Result<IndexWriter> IndexWriter::open(const std::filesystem::path& dir, IndexOptions options) {
  const std::string context = "index at " + dir.string();
  return xapian_try(context, [&]() -> Result<IndexWriter> {
    // Before touching the disk: an unknown language throws InvalidArgumentError.
    std::string language;
    if (!options.language.empty())
      language = canonical_language(make_stemmer(options.language));

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
    if (language.empty()) {
      // No language asked for: keep the index's own, or English for a new index.
      options.language = stored_language.empty() ? "english" : stored_language;
      impl->options.language = options.language;
      language = canonical_language(make_stemmer(options.language));
    }
    if (schema.empty()) {
      if (impl->db.get_doccount() != 0) {
        return Error{Code::kFailedPrecondition,
                     context +
                         " has no mailvault schema version: run `mailvault reindex` to "
                         "rebuild it"};
      }
      impl->db.set_metadata(std::string(kSchemaVersionKey), want_schema);
      impl->db.set_metadata(std::string(kStemLanguageKey), language);
      impl->db.commit();
    } else if (schema != want_schema) {
      return Error{Code::kFailedPrecondition, context + " has schema version " + schema +
                                                  " but this mailvault uses " + want_schema +
                                                  ": run `mailvault reindex` to rebuild it"};
    } else if (stored_language != language) {
      return Error{Code::kFailedPrecondition, context + " was built with stemming language \"" +
                                                  stored_language + "\", not \"" + language +
                                                  "\": run `mailvault reindex` to rebuild it"};
    }

    std::size_t threads = options.threads;
    if (threads == 0) {
      threads = std::max(1U, std::thread::hardware_concurrency());
    }
    for (std::size_t i = 0; i < threads; ++i) {
      impl->builders.push_back(
          std::make_unique<DocumentBuilder>(options.language, options.max_text_bytes));
    }
    if (threads > 1) {
      // Building documents yields the CPU to the archive path (indexing catches up behind the
      // commit point; an archived message is safe before it is searchable).
      impl->pool = std::make_unique<ThreadPool>(threads, threads, kIndexNice);
    }
    return IndexWriter(std::move(impl));
  });
}

Status IndexWriter::write(std::vector<IndexItem> items) {
  if (items.empty()) {
    return ok_status();
  }
  Impl& impl = *impl_;
  const std::size_t n = items.size();
  const std::size_t workers = impl.pool ? std::min(impl.builders.size(), n) : 1;

  if (workers == 1) {
    // One builder: build and replace in turn on this thread.
    DocumentBuilder& builder = *impl.builders.front();
    Status written = xapian_try(impl.context, [&]() -> Status {
      TransactionGuard transaction(impl.db);
      std::vector<StemLink> stems;
      for (const IndexItem& item : items) {
        stems.clear();
        Xapian::Document doc = builder.build(item.meta, item.parsed, &stems);
        impl.put(item.meta.id, doc, stems);
      }
      transaction.commit();
      return {};
    });
    if (!written) {
      impl.forget_words();
    }
    return written;
  }

  // A pipeline: `workers` pool threads build documents (each with its own DocumentBuilder:
  // Stem, TermGenerator), while this thread, the only one touching the WritableDatabase,
  // replaces them in input order as they become ready and finally commits. Building the next
  // documents thus overlaps Xapian's serial work.
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;

    struct Built {
      Xapian::Document doc;
      std::vector<StemLink> stems;
    };

    std::vector<std::optional<Built>> docs;  // guarded by mu
    std::optional<Error> error;              // first build failure; guarded by mu
    std::size_t running = 0;                 // worker tasks alive; guarded by mu
    std::atomic<std::size_t> next{0};        // next item to build
    std::atomic<bool> stop{false};           // the writer gave up
  } shared;

  shared.docs.resize(n);
  shared.running = workers;

  auto worker = [&impl, &items, &shared, n](std::size_t w) {
    DocumentBuilder& builder = *impl.builders[w];
    for (std::size_t i = shared.next.fetch_add(1); i < n && !shared.stop.load();
         i = shared.next.fetch_add(1)) {
      std::optional<Error> failed;
      std::optional<Shared::Built> doc;
      // A pool task must not throw: its exception would be dropped and this write() would wait
      // for it forever.
      try {
        Status st = xapian_try(impl.context, [&]() -> Status {
          doc.emplace();
          doc->doc = builder.build(items[i].meta, items[i].parsed, &doc->stems);
          return {};
        });
        if (!st) {
          failed = st.error();
        }
      } catch (const std::exception& e) {
        failed = Error{Code::kInternal, impl.context + ": building a document: " + e.what()};
      }
      const bool built = !failed.has_value();
      const std::lock_guard lock(shared.mu);
      if (built) {
        shared.docs[i] = std::move(doc);
      } else {
        if (!shared.error) {
          shared.error = std::move(failed);
        }
        shared.stop.store(true);
      }
      shared.cv.notify_all();
      if (!built) {
        break;
      }
    }
    const std::lock_guard lock(shared.mu);
    --shared.running;
    shared.cv.notify_all();
  };
  for (std::size_t w = 0; w < workers; ++w) {
    impl.pool->submit([&worker, w] { worker(w); });
  }

  Status written = xapian_try(impl.context, [&]() -> Status {
    TransactionGuard transaction(impl.db);
    for (std::size_t i = 0; i < n; ++i) {
      std::optional<Shared::Built> doc;
      {
        std::unique_lock lock(shared.mu);
        shared.cv.wait(lock, [&] { return shared.docs[i].has_value() || shared.error; });
        if (shared.error) {
          return *shared.error;
        }
        doc = std::move(shared.docs[i]);
        shared.docs[i].reset();
      }
      impl.put(items[i].meta.id, doc->doc, doc->stems);
    }
    transaction.commit();
    return {};
  });

  // The workers refer to this frame: stop them and wait until they are gone.
  shared.stop.store(true);
  std::unique_lock lock(shared.mu);
  shared.cv.wait(lock, [&] { return shared.running == 0; });
  if (!written) {
    impl.forget_words();
  }
  return written;
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
    return Error{Code::kAlreadyExists,
                 impl_->context + ": cannot compact into " + dest.string() + ": it already exists"};
  }
  return xapian_try(impl_->context, [&]() -> Status {
    impl_->db.compact(dest.string());
    return {};
  });
}

std::uint64_t IndexWriter::doc_count() const {
  return xapian_try(
             impl_->context,
             [&]() -> Result<std::uint64_t> { return std::uint64_t{impl_->db.get_doccount()}; })
      .value_or(0);
}

}  // namespace mailvault::index
