// `mailvault search`, `show` and `status`.
#include <unistd.h>

#include <ctime>
#include <iostream>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "cli/client_commands.h"
#include "mailvault/v1/archive.grpc.pb.h"

#include <nlohmann/json.hpp>

namespace mailvault::cli {
namespace {

namespace pb = mailvault::v1;

std::string iso_date(std::int64_t t) {
  if (t == 0)
    return "-";
  const std::time_t tt = t;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string clip(std::string s, std::size_t n) {
  if (s.size() <= n)
    return s;
  s.resize(n);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80)
    s.pop_back();
  if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80) != 0)
    s.pop_back();
  return s + "…";
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int rpc_fail(const grpc::Status& status) {
  const char* what = status.error_code() == grpc::StatusCode::UNAUTHENTICATED ? "not authorised: "
                     : status.error_code() == grpc::StatusCode::NOT_FOUND     ? ""
                                                                              : "";
  return fail(std::string(what) + status.error_message());
}

}  // namespace

int run_search(const ClientOptions& client_options, const SearchOptions& options) {
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::ArchiveService::NewStub(client->channel());
  pb::SearchRequest req;
  req.set_query(options.query);
  if (options.sort == "date" || options.sort == "newest") {
    req.set_sort(pb::SORT_ORDER_DATE_DESC);
  } else if (options.sort == "oldest") {
    req.set_sort(pb::SORT_ORDER_DATE_ASC);
  } else if (options.sort == "relevance") {
    req.set_sort(pb::SORT_ORDER_RELEVANCE);
  } else {
    return fail(fmt::format("--sort: unknown order '{}' (date, oldest, relevance)", options.sort));
  }
  std::uint64_t shown = 0;
  std::uint64_t total = 0;
  for (;;) {
    const std::uint64_t want =
        options.limit == 0 ? 1000 : std::min<std::uint64_t>(1000, options.limit - shown);
    req.set_page_size(static_cast<std::uint32_t>(want));
    grpc::ClientContext ctx;
    client->prepare(ctx, 60);
    pb::SearchResponse resp;
    auto status = stub->Search(&ctx, req, &resp);
    if (!status.ok())
      return rpc_fail(status);
    total = resp.total_estimate();
    for (const auto& r : resp.results()) {
      if (options.json) {
        std::cout << dump({{"id", r.id()},
                           {"sha256", r.sha256()},
                           {"message_id", r.message_id()},
                           {"date", r.date()},
                           {"from", r.from()},
                           {"to", r.to()},
                           {"subject", r.subject()},
                           {"size", r.size()},
                           {"has_attachments", r.has_attachments()},
                           {"snippet", r.snippet()}})
                  << '\n';
      } else {
        std::cout << fmt::format("{:>8}  {}  {:<28}  {}\n", r.id(), iso_date(r.date()),
                                 clip(r.from(), 28), clip(r.subject(), 80));
      }
      ++shown;
    }
    if (resp.next_page_token().empty() || (options.limit != 0 && shown >= options.limit))
      break;
    req.set_page_token(resp.next_page_token());
  }
  if (!options.json)
    std::cerr << fmt::format("{} shown of about {} matches\n", shown, total);
  return 0;
}

int run_show(const ClientOptions& client_options, std::int64_t id, bool raw, bool json) {
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::ArchiveService::NewStub(client->channel());
  if (raw) {
    grpc::ClientContext ctx;
    client->prepare(ctx);
    pb::GetRawMessageRequest req;
    req.set_id(id);
    auto reader = stub->GetRawMessage(&ctx, req);
    pb::RawChunk chunk;
    while (reader->Read(&chunk)) {
      std::cout.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    }
    auto status = reader->Finish();
    std::cout.flush();
    return status.ok() ? 0 : rpc_fail(status);
  }
  grpc::ClientContext ctx;
  client->prepare(ctx, 60);
  pb::GetMessageRequest req;
  req.set_id(id);
  pb::Message m;
  auto status = stub->GetMessage(&ctx, req, &m);
  if (!status.ok())
    return rpc_fail(status);
  const auto& s = m.summary();
  if (json) {
    nlohmann::json attachments = nlohmann::json::array();
    for (const auto& a : m.attachments()) {
      attachments.push_back(
          {{"filename", a.filename()}, {"content_type", a.content_type()}, {"size", a.size()}});
    }
    nlohmann::json headers = nlohmann::json::array();
    for (const auto& h : m.headers())
      headers.push_back({{"name", h.name()}, {"value", h.value()}});
    std::cout << dump({{"id", s.id()},
                       {"sha256", s.sha256()},
                       {"message_id", s.message_id()},
                       {"subject", s.subject()},
                       {"from", s.from()},
                       {"to", s.to()},
                       {"date", s.date()},
                       {"size", s.size()},
                       {"headers", headers},
                       {"text", m.text()},
                       {"attachments", attachments},
                       {"parse_problems", m.parse_problems()}})
              << '\n';
    return 0;
  }
  std::cout << "Message-Id: " << s.message_id() << "\nFrom: " << s.from() << "\nTo: " << s.to()
            << "\nDate: " << iso_date(s.date()) << "\nSubject: " << s.subject()
            << "\nSHA-256: " << s.sha256() << "\nSize: " << s.size() << "\n";
  for (const auto& a : m.attachments()) {
    std::cout << fmt::format("Attachment: {} ({}, {} bytes)\n", a.filename(), a.content_type(),
                             a.size());
  }
  for (const auto& p : m.parse_problems())
    std::cout << "Parse problem: " << p << '\n';
  std::cout << '\n' << m.text() << '\n';
  return 0;
}

int run_status(const ClientOptions& client_options, bool json) {
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::ArchiveService::NewStub(client->channel());
  grpc::ClientContext ctx;
  client->prepare(ctx, 30);
  pb::Status s;
  auto status = stub->GetStatus(&ctx, pb::GetStatusRequest{}, &s);
  if (!status.ok())
    return rpc_fail(status);
  if (json) {
    std::cout << dump({{"messages", s.messages()},
                       {"bytes_raw", s.bytes_raw()},
                       {"bytes_stored", s.bytes_stored()},
                       {"index_backlog", s.index_backlog()},
                       {"indexed", s.indexed()},
                       {"version", s.version()},
                       {"server", client->address()}})
              << '\n';
  } else {
    std::cout << fmt::format(
        "server:        {} (mailvault {})\nmessages:      {}\nbytes (raw):   {}\nbytes stored:  "
        "{}\n"
        "indexed:       {}\nindex backlog: {}\n",
        client->address(), s.version(), s.messages(), s.bytes_raw(), s.bytes_stored(), s.indexed(),
        s.index_backlog());
  }
  return 0;
}

}  // namespace mailvault::cli
