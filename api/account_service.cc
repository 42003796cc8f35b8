#include "api/account_service.h"

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "api/auth.h"
#include "mailvault/v1/accounts.grpc.pb.h"

namespace mailvault::api {
namespace {

namespace pb = mailvault::v1;

pb::TlsMode to_pb(accounts::Tls t) {
  switch (t) {
    case accounts::Tls::kImplicit:
      return pb::TLS_MODE_IMPLICIT;
    case accounts::Tls::kStartTls:
      return pb::TLS_MODE_STARTTLS;
    case accounts::Tls::kNone:
      return pb::TLS_MODE_NONE;
  }
  return pb::TLS_MODE_IMPLICIT;
}

void fill_event(const accounts::SyncEvent& e, pb::SyncEvent* out) {
  out->set_id(e.id);
  out->set_at(e.at);
  out->set_kind(e.kind);
  out->set_folder(e.folder);
  out->set_worker(e.worker);
  out->set_fetched(e.fetched);
  out->set_stored(e.stored);
  out->set_detail(e.detail);
}

void fill_account(const accounts::Account& a, pb::Account* out) {
  const auto& s = a.spec;
  out->set_id(a.id);
  out->set_name(s.name);
  out->set_protocol(s.protocol == accounts::Protocol::kPop3 ? pb::PROTOCOL_POP3
                                                            : pb::PROTOCOL_IMAP);
  out->set_host(s.host);
  out->set_port(s.port);
  out->set_tls(to_pb(s.tls));
  out->set_verify_tls(s.verify_tls);
  out->set_username(s.username);
  out->set_auth(s.auth);
  for (const auto& f : s.include_folders)
    out->add_include_folders(f);
  for (const auto& f : s.exclude_folders)
    out->add_exclude_folders(f);
  out->set_interval_seconds(static_cast<std::uint32_t>(s.interval_seconds));
  out->set_owner(s.owner);
  out->set_delete_after_archive(s.delete_after_archive);
  out->set_idle(s.protocol == accounts::Protocol::kImap && s.idle);
  out->set_idle_watched_by(a.idle_owner);
  out->set_last_success_at(a.last_success_at.value_or(0));
  out->set_last_attempt_at(a.last_attempt_at.value_or(0) / 1000000);
  out->set_next_sync_at(a.next_sync_at);
  out->set_failures(a.failures);
  out->set_last_error(a.last_error);
  out->set_leased_by(a.lease_owner);
  out->set_messages_archived(a.messages_archived);
  if (a.last_success_at) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    out->set_lag_seconds(std::max<std::int64_t>(0, now - *a.last_success_at));
  }
  for (const auto& f : a.folders) {
    auto* p = out->add_folders();
    p->set_name(f.name);
    p->set_uidvalidity(f.uidvalidity);
    p->set_last_uid(f.last_uid);
    p->set_messages_archived(f.messages_archived);
    p->set_last_synced_at(f.last_synced_at.value_or(0));
    p->set_gone(f.gone);
  }
}

Result<accounts::AccountSpec> to_spec(const pb::CreateAccountRequest& r) {
  accounts::AccountSpec s;
  s.name = r.name();
  switch (r.protocol()) {
    case pb::PROTOCOL_IMAP:
      s.protocol = accounts::Protocol::kImap;
      break;
    case pb::PROTOCOL_POP3:
      s.protocol = accounts::Protocol::kPop3;
      break;
    default:
      return make_error(Code::kInvalidArgument, "protocol must be IMAP or POP3");
  }
  s.host = r.host();
  if (r.port() > 65535)
    return make_error(Code::kInvalidArgument, fmt::format("port {} is out of range", r.port()));
  s.port = static_cast<std::uint16_t>(r.port());
  switch (r.tls()) {
    case pb::TLS_MODE_STARTTLS:
      s.tls = accounts::Tls::kStartTls;
      break;
    case pb::TLS_MODE_NONE:
      s.tls = accounts::Tls::kNone;
      break;
    default:
      s.tls = accounts::Tls::kImplicit;
      break;
  }
  s.verify_tls = !r.insecure_skip_verify();
  s.ca_file = r.ca_file();
  s.username = r.username();
  s.auth = r.auth().empty() ? "auto" : r.auth();
  s.secret.password = r.password();
  s.secret.token_command = r.token_command();
  s.secret.token_file = r.token_file();
  s.include_folders.assign(r.include_folders().begin(), r.include_folders().end());
  s.exclude_folders.assign(r.exclude_folders().begin(), r.exclude_folders().end());
  if (r.interval_seconds() > 0) {
    if (r.interval_seconds() > 86400u * 365)
      return make_error(Code::kInvalidArgument, "interval is longer than a year");
    s.interval_seconds = static_cast<std::int32_t>(r.interval_seconds());
  }
  s.owner = r.owner();
  s.delete_after_archive = r.delete_after_archive();
  s.idle = !r.no_idle();
  return s;
}

class AccountServiceImpl final : public pb::AccountService::CallbackService {
 public:
  AccountServiceImpl(accounts::AccountStore& store, Authenticator& auth, ThreadPool& executor,
                     std::function<void()> on_change)
      : store_(store), auth_(auth), executor_(executor), on_change_(std::move(on_change)) {}

  grpc::ServerUnaryReactor* CreateAccount(grpc::CallbackServerContext* ctx,
                                          const pb::CreateAccountRequest* req,
                                          pb::Account* resp) override {
    return run(ctx, [this, req, resp]() -> Status {
      auto spec = to_spec(*req);
      if (!spec)
        return spec.error();
      auto id = store_.add(*spec);
      if (!id)
        return id.error();
      auto got = store_.get(spec->name);
      if (!got)
        return got.error();
      fill_account(*got, resp);
      if (on_change_)
        on_change_();
      return ok_status();
    });
  }

  grpc::ServerUnaryReactor* ListAccounts(grpc::CallbackServerContext* ctx,
                                         const pb::ListAccountsRequest* /*req*/,
                                         pb::ListAccountsResponse* resp) override {
    return run(ctx, [this, resp]() -> Status {
      auto list = store_.list();
      if (!list)
        return list.error();
      for (const auto& a : *list)
        fill_account(a, resp->add_accounts());
      return ok_status();
    });
  }

  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* ctx,
                                       const pb::GetAccountRequest* req,
                                       pb::Account* resp) override {
    return run(ctx, [this, req, resp]() -> Status {
      auto got = store_.get(req->name());
      if (!got)
        return got.error();
      fill_account(*got, resp);
      return ok_status();
    });
  }

  grpc::ServerUnaryReactor* DeleteAccount(grpc::CallbackServerContext* ctx,
                                          const pb::DeleteAccountRequest* req,
                                          pb::DeleteAccountResponse* /*resp*/) override {
    return run(ctx, [this, req]() -> Status { return store_.remove(req->name()); });
  }

  grpc::ServerUnaryReactor* ListSyncEvents(grpc::CallbackServerContext* ctx,
                                           const pb::ListSyncEventsRequest* req,
                                           pb::ListSyncEventsResponse* resp) override {
    return run(ctx, [this, req, resp]() -> Status {
      auto got = store_.get(req->name());
      if (!got)
        return got.error();
      auto events = store_.events(got->id, req->limit() == 0 ? 50 : req->limit());
      if (!events)
        return events.error();
      for (const auto& e : *events)
        fill_event(e, resp->add_events());
      return ok_status();
    });
  }

  grpc::ServerUnaryReactor* SyncNow(grpc::CallbackServerContext* ctx, const pb::SyncNowRequest* req,
                                    pb::SyncNowResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    auto who = auth_.check(ctx);
    if (!who || who->role != "admin") {
      reactor->Finish(to_status(who ? make_error(Code::kPermissionDenied,
                                                 "account management needs an admin "
                                                 "token")
                                    : who.error()));
      return reactor;
    }
    // The wait polls PostgreSQL on its own thread so that a long sync never holds an executor
    // thread.
    std::thread{[this, ctx, req, resp, reactor] {
      reactor->Finish(to_grpc(sync_now(ctx, *req, resp)));
    }}.detach();
    return reactor;
  }

 private:
  static grpc::Status to_grpc(const Status& st) {
    return st ? grpc::Status::OK : to_status(st.error());
  }

  template <typename F>
  grpc::ServerUnaryReactor* run(grpc::CallbackServerContext* ctx, F&& body) {
    auto* reactor = ctx->DefaultReactor();
    executor_.submit([this, ctx, reactor, body = std::forward<F>(body)]() mutable {
      auto who = auth_.check(ctx);
      if (!who) {
        reactor->Finish(to_status(who.error()));
        return;
      }
      if (who->role != "admin") {
        reactor->Finish(to_status(
            make_error(Code::kPermissionDenied, "account management needs an admin token")));
        return;
      }
      reactor->Finish(to_grpc(body()));
    });
    return reactor;
  }

  Status sync_now(grpc::CallbackServerContext* ctx, const pb::SyncNowRequest& req,
                  pb::SyncNowResponse* resp) {
    auto requested = store_.request_sync(req.name());
    if (!requested)
      return requested.error();
    if (on_change_)
      on_change_();
    if (!req.wait())
      return ok_status();
    const auto timeout =
        std::chrono::seconds(req.timeout_seconds() == 0 ? 3600 : req.timeout_seconds());
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto delay = std::chrono::milliseconds(50);
    while (std::chrono::steady_clock::now() < deadline && !ctx->IsCancelled()) {
      auto a = store_.get(req.name());
      if (!a)
        return a.error();
      // Finished: an attempt that started after the request, and ended.
      if (a->last_attempt_at && *a->last_attempt_at >= *requested && a->last_finished_at &&
          *a->last_finished_at >= *a->last_attempt_at && a->lease_owner.empty()) {
        resp->set_finished(true);
        resp->set_ok(a->failures == 0);
        resp->set_error(a->last_error);
        auto events = store_.events(a->id, 20);
        if (events) {
          for (const auto& e : *events) {
            if (e.kind == "sync" || e.kind == "error") {
              fill_event(e, resp->mutable_event());
              break;
            }
          }
        }
        return ok_status();
      }
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(500));
    }
    return ok_status();
  }

  accounts::AccountStore& store_;
  Authenticator& auth_;
  ThreadPool& executor_;
  std::function<void()> on_change_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_account_service(accounts::AccountStore& store,
                                                    Authenticator& auth, ThreadPool& executor,
                                                    std::function<void()> on_change) {
  return std::make_unique<AccountServiceImpl>(store, auth, executor, std::move(on_change));
}

}  // namespace mailvault::api
