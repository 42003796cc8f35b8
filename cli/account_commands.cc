// `mailvault account add|list|remove|sync|history`: AccountService over gRPC.
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "cli/client_commands.h"
#include "mailvault/v1/accounts.grpc.pb.h"

#include <nlohmann/json.hpp>

namespace mailvault::cli {
namespace {

namespace pb = mailvault::v1;

int rpc_fail(const grpc::Status& status) {
  return fail(status.error_message());
}

std::string when(std::int64_t t) {
  if (t == 0)
    return "never";
  const std::time_t tt = t;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string tls_name(pb::TlsMode t) {
  switch (t) {
    case pb::TLS_MODE_STARTTLS:
      return "starttls";
    case pb::TLS_MODE_NONE:
      return "none";
    default:
      return "implicit";
  }
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json event_json(const pb::SyncEvent& e) {
  return {{"at", e.at()},         {"kind", e.kind()},       {"folder", e.folder()},
          {"worker", e.worker()}, {"fetched", e.fetched()}, {"stored", e.stored()},
          {"detail", e.detail()}};
}

nlohmann::json account_json(const pb::Account& a) {
  nlohmann::json folders = nlohmann::json::array();
  for (const auto& f : a.folders()) {
    folders.push_back({{"name", f.name()},
                       {"uidvalidity", f.uidvalidity()},
                       {"last_uid", f.last_uid()},
                       {"messages_archived", f.messages_archived()},
                       {"last_synced_at", f.last_synced_at()},
                       {"gone", f.gone()}});
  }
  return {{"name", a.name()},
          {"protocol", a.protocol() == pb::PROTOCOL_POP3 ? "pop3" : "imap"},
          {"host", a.host()},
          {"port", a.port()},
          {"tls", tls_name(a.tls())},
          {"verify_tls", a.verify_tls()},
          {"user", a.username()},
          {"auth", a.auth()},
          {"interval_seconds", a.interval_seconds()},
          {"owner", a.owner()},
          {"last_success_at", a.last_success_at()},
          {"last_attempt_at", a.last_attempt_at()},
          {"next_sync_at", a.next_sync_at()},
          {"lag_seconds", a.lag_seconds()},
          {"failures", a.failures()},
          {"last_error", a.last_error()},
          {"leased_by", a.leased_by()},
          {"idle", a.idle()},
          {"idle_watched_by", a.idle_watched_by()},
          {"messages_archived", a.messages_archived()},
          {"folders", folders}};
}

Result<std::string> read_secret_line(std::istream& in, const std::string& what) {
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.pop_back();
  if (line.empty())
    return make_error(Code::kInvalidArgument, what + " is empty");
  return line;
}

}  // namespace

Result<std::uint32_t> parse_interval(std::string_view text) {
  if (text.empty())
    return make_error(Code::kInvalidArgument, "--interval is empty");
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (n > 10'000'000)
      break;
  }
  std::string_view unit = text.substr(i);
  std::uint64_t mult = 0;
  if (unit.empty() || unit == "s")
    mult = 1;
  else if (unit == "m")
    mult = 60;
  else if (unit == "h")
    mult = 3600;
  else if (unit == "d")
    mult = 86400;
  if (i == 0 || mult == 0 || n * mult == 0 || n * mult > 86400ull * 365) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("--interval '{}': use a positive number of seconds, or "
                                  "30s, 5m, 1h, 1d (at most a year)",
                                  text));
  }
  return static_cast<std::uint32_t>(n * mult);
}

int run_account_add(const ClientOptions& client_options, const AccountAddOptions& o) {
  pb::CreateAccountRequest req;
  req.set_name(o.name);
  if (o.protocol == "imap") {
    req.set_protocol(pb::PROTOCOL_IMAP);
  } else if (o.protocol == "pop3") {
    req.set_protocol(pb::PROTOCOL_POP3);
  } else {
    return fail(fmt::format("--protocol must be imap or pop3, not '{}'", o.protocol));
  }
  req.set_host(o.host);
  req.set_port(o.port);
  if (o.tls == "implicit") {
    req.set_tls(pb::TLS_MODE_IMPLICIT);
  } else if (o.tls == "starttls") {
    req.set_tls(pb::TLS_MODE_STARTTLS);
  } else if (o.tls == "none") {
    req.set_tls(pb::TLS_MODE_NONE);
  } else {
    return fail(fmt::format("--tls must be implicit, starttls or none, not '{}'", o.tls));
  }
  req.set_insecure_skip_verify(o.insecure_skip_verify);
  if (!o.ca_file.empty()) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(o.ca_file, ec);
    if (!std::filesystem::is_regular_file(abs, ec))
      return fail(fmt::format("--ca-file {}: no such file", o.ca_file));
    req.set_ca_file(abs.string());
  }
  req.set_username(o.user);
  req.set_auth(o.auth);
  int sources = (o.password_stdin ? 1 : 0) + (o.password_file.empty() ? 0 : 1) +
                (o.token_command.empty() ? 0 : 1) + (o.token_file.empty() ? 0 : 1);
  if (sources != 1) {
    return fail(
        "give exactly one of --password-stdin, --password-file, --token-command, "
        "--token-file");
  }
  if (o.password_stdin) {
    auto pw = read_secret_line(std::cin, "the password on stdin");
    if (!pw)
      return fail(pw.error());
    req.set_password(*pw);
  } else if (!o.password_file.empty()) {
    std::ifstream in{o.password_file};
    if (!in)
      return fail(fmt::format("--password-file {}: cannot read it", o.password_file));
    auto pw = read_secret_line(in, "--password-file " + o.password_file);
    if (!pw)
      return fail(pw.error());
    req.set_password(*pw);
  } else if (!o.token_command.empty()) {
    req.set_token_command(o.token_command);
    if (o.auth == "auto")
      req.set_auth("xoauth2");
  } else {
    std::error_code ec;
    req.set_token_file(std::filesystem::absolute(o.token_file, ec).string());
    if (o.auth == "auto")
      req.set_auth("xoauth2");
  }
  for (const auto& f : o.folders)
    req.add_include_folders(f);
  for (const auto& f : o.exclude)
    req.add_exclude_folders(f);
  if (!o.interval.empty()) {
    auto secs = parse_interval(o.interval);
    if (!secs)
      return fail(secs.error());
    req.set_interval_seconds(*secs);
  }
  req.set_owner(o.owner);
  req.set_delete_after_archive(o.delete_after_archive);
  req.set_no_idle(o.no_idle);

  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::AccountService::NewStub(client->channel());
  grpc::ClientContext ctx;
  client->prepare(ctx, 60);
  pb::Account resp;
  auto status = stub->CreateAccount(&ctx, req, &resp);
  if (!status.ok())
    return rpc_fail(status);
  if (o.json) {
    std::cout << dump(account_json(resp)) << "\n";
  } else {
    std::cout << fmt::format("account {} added: {} {}:{} (tls {}{}), user {}, every {} s{}\n",
                             resp.name(), resp.protocol() == pb::PROTOCOL_POP3 ? "pop3" : "imap",
                             resp.host(), resp.port(), tls_name(resp.tls()),
                             resp.verify_tls() ? "" : ", NOT verified", resp.username(),
                             resp.interval_seconds(), resp.idle() ? " and by IDLE" : "");
  }
  return 0;
}

int run_account_list(const ClientOptions& client_options, bool json) {
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::AccountService::NewStub(client->channel());
  grpc::ClientContext ctx;
  client->prepare(ctx, 60);
  pb::ListAccountsResponse resp;
  auto status = stub->ListAccounts(&ctx, pb::ListAccountsRequest{}, &resp);
  if (!status.ok())
    return rpc_fail(status);
  if (json) {
    for (const auto& a : resp.accounts())
      std::cout << dump(account_json(a)) << "\n";
    return 0;
  }
  if (resp.accounts().empty()) {
    std::cout << "no accounts (add one with: mailvault account add NAME --protocol imap --host "
                 "HOST --user USER --password-stdin)\n";
    return 0;
  }
  for (const auto& a : resp.accounts()) {
    std::cout << fmt::format(
        "{}  {} {}@{}:{} (tls {})  messages {}  last success {}{}  {}\n", a.name(),
        a.protocol() == pb::PROTOCOL_POP3 ? "pop3" : "imap", a.username(), a.host(), a.port(),
        tls_name(a.tls()), a.messages_archived(), when(a.last_success_at()),
        a.last_success_at() != 0 ? fmt::format(" (lag {} s)", a.lag_seconds()) : "",
        !a.leased_by().empty() ? "syncing now"
                               : fmt::format("next sync {}", when(a.next_sync_at())));
    if (!a.idle_watched_by().empty())
      std::cout << fmt::format("    watched by IDLE ({})\n", a.idle_watched_by());
    if (!a.last_error().empty())
      std::cout << fmt::format("    last error ({} failure(s) in a row): {}\n", a.failures(),
                               a.last_error());
    for (const auto& f : a.folders()) {
      std::cout << fmt::format("    {}  uidvalidity {}  last uid {}  messages {}{}\n", f.name(),
                               f.uidvalidity(), f.last_uid(), f.messages_archived(),
                               f.gone() ? "  (gone from the server)" : "");
    }
  }
  return 0;
}

int run_account_remove(const ClientOptions& client_options, const std::string& name) {
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::AccountService::NewStub(client->channel());
  grpc::ClientContext ctx;
  client->prepare(ctx, 60);
  pb::DeleteAccountRequest req;
  req.set_name(name);
  pb::DeleteAccountResponse resp;
  auto status = stub->DeleteAccount(&ctx, req, &resp);
  if (!status.ok())
    return rpc_fail(status);
  std::cout << fmt::format("account {} removed (its archived mail stays)\n", name);
  return 0;
}

int run_account_sync(const ClientOptions& client_options, const std::string& name, bool wait,
                     std::uint32_t timeout_s, bool json) {
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::AccountService::NewStub(client->channel());
  grpc::ClientContext ctx;
  client->prepare(ctx, wait ? static_cast<int>(timeout_s) + 30 : 60);
  pb::SyncNowRequest req;
  req.set_name(name);
  req.set_wait(wait);
  req.set_timeout_seconds(timeout_s);
  pb::SyncNowResponse resp;
  auto status = stub->SyncNow(&ctx, req, &resp);
  if (!status.ok())
    return rpc_fail(status);
  if (json) {
    std::cout << dump({{"name", name},
                       {"finished", resp.finished()},
                       {"ok", resp.ok()},
                       {"error", resp.error()},
                       {"event", event_json(resp.event())}})
              << "\n";
  }
  if (!wait) {
    if (!json)
      std::cout << fmt::format("sync of {} requested\n", name);
    return 0;
  }
  if (!resp.finished())
    return fail(fmt::format("sync of {} did not finish within {} s", name, timeout_s));
  if (!resp.ok())
    return fail(fmt::format("sync of {} failed: {}", name, resp.error()));
  if (!json)
    std::cout << fmt::format("account {} synced: {}\n", name, resp.event().detail());
  return 0;
}

int run_account_history(const ClientOptions& client_options, const std::string& name,
                        std::uint32_t limit, bool json) {
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::AccountService::NewStub(client->channel());
  grpc::ClientContext ctx;
  client->prepare(ctx, 60);
  pb::ListSyncEventsRequest req;
  req.set_name(name);
  req.set_limit(limit);
  pb::ListSyncEventsResponse resp;
  auto status = stub->ListSyncEvents(&ctx, req, &resp);
  if (!status.ok())
    return rpc_fail(status);
  for (const auto& e : resp.events()) {
    if (json) {
      std::cout << dump(event_json(e)) << "\n";
    } else {
      std::cout << fmt::format("{}  {:<19} {}{}\n", when(e.at()), e.kind(),
                               e.folder().empty() ? "" : e.folder() + ": ", e.detail());
    }
  }
  return 0;
}

}  // namespace mailvault::cli
