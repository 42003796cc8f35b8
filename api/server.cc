#include "api/server.h"

#include <chrono>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "api/account_service.h"
#include "api/admin_service.h"
#include "api/auth.h"
#include "core/archive/tokens.h"
#include "core/base/log.h"
#include "core/base/thread_pool.h"
#include "core/mime/parse.h"
#include "core/search/query_parser.h"
#include "indexer/searcher.h"
#include "mailvault/v1/archive.grpc.pb.h"

namespace mailvault::api {
namespace {

namespace pb = mailvault::v1;

constexpr std::size_t kChunkSize = 1 << 20;
constexpr std::uint32_t kDefaultPageSize = 50;
constexpr std::uint32_t kMaxPageSize = 1000;
constexpr std::size_t kIngestBatchMessages = 64;
constexpr std::size_t kIngestBatchBytes = 32u << 20;

void fill_summary(const MessageRow& row, pb::MessageSummary* out) {
  out->set_id(to_int(row.id));
  out->set_sha256(row.sha256_hex);
  out->set_message_id(row.message_id);
  out->set_subject(row.subject);
  out->set_from(row.from);
  out->set_to(row.to);
  out->set_date(row.date.value_or(0));
  out->set_archived_at(row.archived_at);
  out->set_size(row.size);
  out->set_has_attachments(row.has_attachments);
}

void fill_addresses(const std::vector<mime::Address>& list,
                    google::protobuf::RepeatedPtrField<pb::Address>* out) {
  for (const auto& a : list) {
    auto* p = out->Add();
    p->set_name(a.name);
    p->set_email(a.email);
  }
}

Result<std::uint64_t> parse_page_token(const std::string& token) {
  if (token.empty())
    return std::uint64_t{0};
  if (token.size() > 20 || token.rfind("o", 0) != 0) {
    return make_error(Code::kInvalidArgument, "invalid page_token");
  }
  std::uint64_t v = 0;
  for (std::size_t i = 1; i < token.size(); ++i) {
    if (token[i] < '0' || token[i] > '9')
      return make_error(Code::kInvalidArgument, "invalid page_token");
    v = v * 10 + static_cast<std::uint64_t>(token[i] - '0');
  }
  return v;
}

class ArchiveServiceImpl final : public pb::ArchiveService::CallbackService {
 public:
  ArchiveServiceImpl(const ServerOptions& options, pg::Pool& pool, Archive& archive)
      : options_(options),
        archive_(archive),
        auth_(pool),
        executor_(options.executor_threads, 4096) {}

  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx, const pb::SearchRequest* req,
                                   pb::SearchResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    executor_.submit(
        [this, ctx, req, resp, reactor] { reactor->Finish(do_search(ctx, *req, resp)); });
    return reactor;
  }

  grpc::ServerUnaryReactor* GetMessage(grpc::CallbackServerContext* ctx,
                                       const pb::GetMessageRequest* req,
                                       pb::Message* resp) override {
    auto* reactor = ctx->DefaultReactor();
    executor_.submit(
        [this, ctx, req, resp, reactor] { reactor->Finish(do_get_message(ctx, *req, resp)); });
    return reactor;
  }

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const pb::GetStatusRequest* /*req*/,
                                      pb::Status* resp) override {
    auto* reactor = ctx->DefaultReactor();
    executor_.submit([this, ctx, resp, reactor] {
      auto who = auth_.check(ctx);
      if (!who) {
        reactor->Finish(to_status(who.error()));
        return;
      }
      auto stats = archive_.stats();
      if (!stats) {
        reactor->Finish(to_status(stats.error()));
        return;
      }
      resp->set_messages(stats->messages);
      resp->set_bytes_raw(stats->bytes_raw);
      resp->set_bytes_stored(stats->bytes_stored);
      resp->set_index_backlog(stats->index_backlog);
      auto indexed = thread_searcher().doc_count();
      if (!indexed) {
        reactor->Finish(to_status(indexed.error()));
        return;
      }
      resp->set_indexed(*indexed);
      resp->set_version(MAILVAULT_VERSION);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerWriteReactor<pb::RawChunk>* GetRawMessage(
      grpc::CallbackServerContext* ctx, const pb::GetRawMessageRequest* req) override {
    class Writer final : public grpc::ServerWriteReactor<pb::RawChunk> {
     public:
      Writer(ArchiveServiceImpl* svc, grpc::CallbackServerContext* ctx,
             const pb::GetRawMessageRequest* req) {
        svc->executor_.submit([this, svc, ctx, req] {
          auto raw = svc->load_raw(ctx, *req);
          if (!raw) {
            Finish(to_status(raw.error()));
            return;
          }
          body_ = std::move(*raw);
          data_ = *body_;
          next();
        });
      }

      void OnWriteDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
          return;
        }
        next();
      }

      void OnDone() override { delete this; }

     private:
      void next() {
        if (offset_ >= data_.size() && offset_ > 0) {
          Finish(grpc::Status::OK);
          return;
        }
        chunk_.Clear();
        if (offset_ == 0)
          chunk_.set_total_size(data_.size());
        const std::size_t n = std::min(kChunkSize, data_.size() - offset_);
        chunk_.set_data(data_.data() + offset_, n);
        offset_ += n;
        if (n == 0)
          offset_ = 1;  // empty message: one empty chunk, then finish
        StartWrite(&chunk_);
      }

      Archive::Body body_;     // keeps data_ alive
      std::string_view data_;  // the message
      std::size_t offset_ = 0;
      pb::RawChunk chunk_;
    };

    return new Writer(this, ctx, req);
  }

  grpc::ServerReadReactor<pb::IngestRequest>* Ingest(grpc::CallbackServerContext* ctx,
                                                     pb::IngestResponse* resp) override {
    class Reader final : public grpc::ServerReadReactor<pb::IngestRequest> {
     public:
      Reader(ArchiveServiceImpl* svc, grpc::CallbackServerContext* ctx, pb::IngestResponse* resp)
          : svc_(svc), resp_(resp) {
        auto who = svc_->auth_.check(ctx);
        if (!who) {
          Finish(to_status(who.error()));
          return;
        }
        if (who->role != "admin") {
          Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "Ingest needs an admin token"));
          return;
        }
        StartRead(&req_);
      }

      void OnReadDone(bool ok) override {
        if (ok) {
          batch_bytes_ += req_.raw().size();
          batch_.push_back(std::move(req_));
          req_.Clear();
          if (batch_.size() < kIngestBatchMessages && batch_bytes_ < kIngestBatchBytes) {
            StartRead(&req_);
            return;
          }
        }
        const bool last = !ok;
        svc_->executor_.submit([this, last] {
          auto st = store_batch();
          if (!st.ok()) {
            Finish(st);
            return;
          }
          if (last) {
            Finish(grpc::Status::OK);
          } else {
            StartRead(&req_);
          }
        });
      }

      void OnDone() override { delete this; }

     private:
      grpc::Status store_batch() {
        if (batch_.empty())
          return grpc::Status::OK;
        std::vector<StoreItem> items;
        items.reserve(batch_.size());
        for (const auto& r : batch_) {
          Placement p;
          p.source = r.source().empty() ? "import" : r.source();
          p.folder = r.folder();
          p.location = r.location();
          if (r.internal_date() != 0)
            p.internal_date = r.internal_date();
          for (const auto& f : r.flags()) {
            // Flags are atoms: anything else (spaces, controls, brackets) is not an IMAP flag.
            if (f.empty() || f.size() > 64 ||
                f.find_first_of(" \t\r\n(){]%*\"") != std::string::npos)
              continue;
            if (!p.flags.empty())
              p.flags += ' ';
            p.flags += f;
          }
          items.push_back(StoreItem{r.raw(), std::move(p)});
        }
        auto outcomes = svc_->archive_.store_batch(items);
        if (!outcomes)
          return to_status(outcomes.error());
        for (auto& o : *outcomes) {
          auto* out = resp_->add_outcomes();
          if (!o) {
            out->set_kind(pb::IngestOutcome::REJECTED);
            out->set_reason(o.error().message);
            continue;
          }
          out->set_kind(o->kind == StoreOutcome::Kind::kStored ? pb::IngestOutcome::STORED
                                                               : pb::IngestOutcome::DUPLICATE);
          out->set_id(to_int(o->id));
          out->set_sha256(o->sha256_hex);
          out->set_message_id(o->message_id);
          std::string problems;
          for (const auto& p : o->problems)
            problems += (problems.empty() ? "" : "; ") + p;
          out->set_reason(problems);
        }
        batch_.clear();
        batch_bytes_ = 0;
        return grpc::Status::OK;
      }

      ArchiveServiceImpl* svc_;
      pb::IngestResponse* resp_;
      pb::IngestRequest req_;
      std::vector<pb::IngestRequest> batch_;
      std::size_t batch_bytes_ = 0;
    };

    return new Reader(this, ctx, resp);
  }

 private:
  index::Searcher& thread_searcher() {
    thread_local std::unique_ptr<index::Searcher> searcher;
    if (!searcher) {
      searcher = std::make_unique<index::Searcher>(options_.index_dir);
      // Phrases are verified against the decoded text sidecar (the index keeps no positions).
      searcher->set_text_loader([this](MessageId id) -> std::optional<mime::ParsedMessage> {
        auto text = archive_.search_text(id);
        if (!text)
          return std::nullopt;
        return std::move(*text);
      });
    }
    return *searcher;
  }

  grpc::Status do_search(grpc::CallbackServerContext* ctx, const pb::SearchRequest& req,
                         pb::SearchResponse* resp) {
    auto who = auth_.check(ctx);
    if (!who)
      return to_status(who.error());
    auto query = search::parse_query(req.query());
    if (!query)
      return to_status(query.error());
    auto offset = parse_page_token(req.page_token());
    if (!offset)
      return to_status(offset.error());
    index::SearchRequest sr;
    sr.query = std::move(*query);
    switch (req.sort()) {
      case pb::SORT_ORDER_DATE_ASC:
        sr.sort = index::SearchRequest::Sort::kDateAsc;
        break;
      case pb::SORT_ORDER_RELEVANCE:
        sr.sort = index::SearchRequest::Sort::kRelevance;
        break;
      default:
        sr.sort = index::SearchRequest::Sort::kDateDesc;
        break;
    }
    sr.offset = *offset;
    sr.limit = req.page_size() == 0 ? kDefaultPageSize : std::min(req.page_size(), kMaxPageSize);
    sr.snippet_text = [this](MessageId id) -> std::string {
      auto text = archive_.search_text(id);
      return text ? std::move(text->body_text) : std::string{};
    };
    auto page = thread_searcher().search(sr);
    if (!page)
      return to_status(page.error());
    std::vector<MessageId> ids;
    ids.reserve(page->hits.size());
    for (const auto& h : page->hits)
      ids.push_back(h.id);
    auto rows = archive_.rows(ids);
    if (!rows)
      return to_status(rows.error());
    for (const auto& h : page->hits) {
      for (const auto& row : *rows) {
        if (row.id != h.id)
          continue;
        auto* s = resp->add_results();
        fill_summary(row, s);
        s->set_snippet(h.snippet);
        s->set_relevance(h.relevance);
      }
    }
    resp->set_total_estimate(page->total_estimate);
    if (page->has_more)
      resp->set_next_page_token(fmt::format("o{}", *offset + page->hits.size()));
    (void)archive_.audit(who->name, "search", std::nullopt, req.query());
    return grpc::Status::OK;
  }

  grpc::Status do_get_message(grpc::CallbackServerContext* ctx, const pb::GetMessageRequest& req,
                              pb::Message* resp) {
    auto who = auth_.check(ctx);
    if (!who)
      return to_status(who.error());
    const MessageId id{req.id()};
    auto rows = archive_.rows({id});
    if (!rows)
      return to_status(rows.error());
    if (rows->empty()) {
      return {grpc::StatusCode::NOT_FOUND, fmt::format("no message with id {}", req.id())};
    }
    auto raw = archive_.read_body(id);
    if (!raw)
      return to_status(raw.error());
    if (auto st = archive_.audit(who->name, "get_message", id); !st)
      return to_status(st.error());
    const auto parsed = mime::parse_message(**raw);
    fill_summary(rows->front(), resp->mutable_summary());
    for (const auto& h : parsed.headers) {
      auto* out = resp->add_headers();
      out->set_name(h.name);
      out->set_value(h.value);
    }
    resp->set_text(parsed.body_text);
    resp->set_html(parsed.body_html);
    for (const auto& a : parsed.attachments) {
      auto* out = resp->add_attachments();
      out->set_filename(a.filename);
      out->set_content_type(a.content_type);
      out->set_size(a.size);
    }
    for (const auto& p : parsed.problems)
      resp->add_parse_problems(p);
    fill_addresses(parsed.from, resp->mutable_from());
    fill_addresses(parsed.to, resp->mutable_to());
    fill_addresses(parsed.cc, resp->mutable_cc());
    if (auto pls = archive_.placements(id); pls) {
      for (const auto& p : *pls) {
        auto* out = resp->add_placements();
        out->set_source(p.source);
        out->set_folder(p.folder);
        out->set_location(p.location);
        out->set_first_seen(p.internal_date.value_or(0));
      }
    }
    return grpc::Status::OK;
  }

  Result<Archive::Body> load_raw(grpc::CallbackServerContext* ctx,
                                 const pb::GetRawMessageRequest& req) {
    auto who = auth_.check(ctx);
    if (!who)
      return who.error();
    MessageId id{req.id()};
    if (!req.sha256().empty()) {
      auto found = archive_.find_by_sha256(req.sha256());
      if (!found)
        return found.error();
      if (!*found)
        return make_error(Code::kNotFound, fmt::format("no message with sha256 {}", req.sha256()));
      id = **found;
    }
    auto raw = archive_.read_body(id);
    if (!raw)
      return raw.error();
    if (auto st = archive_.audit(who->name, "get_raw_message", id); !st)
      return st.error();
    return raw;
  }

  ServerOptions options_;
  Archive& archive_;
  Authenticator auth_;
  ThreadPool executor_;

 public:
  Authenticator& auth() { return auth_; }

  ThreadPool& executor() { return executor_; }
};

class GrpcServer final : public Server {
 public:
  GrpcServer(std::unique_ptr<ArchiveServiceImpl> service,
             std::unique_ptr<grpc::Service> account_service,
             std::unique_ptr<grpc::Service> admin_service, std::unique_ptr<grpc::Server> server,
             std::string address)
      : service_(std::move(service)),
        account_service_(std::move(account_service)),
        admin_service_(std::move(admin_service)),
        server_(std::move(server)),
        address_(std::move(address)) {}

  ~GrpcServer() override { GrpcServer::shutdown(); }

  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;
  GrpcServer(GrpcServer&&) = delete;
  GrpcServer& operator=(GrpcServer&&) = delete;

  std::string address() const override { return address_; }

  void shutdown() override {
    std::lock_guard lock(mu_);
    if (!server_)
      return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
    server_->Wait();
    server_.reset();
    account_service_.reset();
    admin_service_.reset();
    service_.reset();
  }

 private:
  std::mutex mu_;
  std::unique_ptr<ArchiveServiceImpl> service_;
  std::unique_ptr<grpc::Service> account_service_;
  std::unique_ptr<grpc::Service> admin_service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace

Result<std::unique_ptr<Server>> start_server(const ServerOptions& options, pg::Pool& pool,
                                             Archive& archive) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto service = std::make_unique<ArchiveServiceImpl>(options, pool, archive);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Service> account_service;
  if (options.accounts != nullptr) {
    account_service = make_account_service(*options.accounts, service->auth(), service->executor(),
                                           options.on_accounts_changed);
    builder.RegisterService(account_service.get());
  }
  std::unique_ptr<grpc::Service> admin_service;
  if (options.users != nullptr) {
    admin_service = make_admin_service(*options.users, service->auth(), service->executor());
    builder.RegisterService(admin_service.get());
  }
  const auto max =
      static_cast<int>(std::min<std::uint64_t>(options.max_message_size + (1u << 20), INT32_MAX));
  builder.SetMaxReceiveMessageSize(max);
  builder.SetMaxSendMessageSize(64 << 20);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    return make_error(
        Code::kUnavailable,
        fmt::format("cannot listen for gRPC on {} (address in use or invalid)", options.listen));
  }
  std::string address = options.listen;
  if (auto colon = address.rfind(':'); colon != std::string::npos) {
    address = address.substr(0, colon + 1) + std::to_string(port);
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  spdlog::info("gRPC API listening on {}", address);
  return std::unique_ptr<Server>(
      std::make_unique<GrpcServer>(std::move(service), std::move(account_service),
                                   std::move(admin_service), std::move(server), address));
}

}  // namespace mailvault::api
