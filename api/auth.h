// Bearer-token authentication shared by the gRPC services: the token in the `authorization`
// metadata is looked up (SHA-256) in PostgreSQL, with a one-minute cache. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "core/archive/tokens.h"
#include "core/base/result.h"

namespace mailvault::api {

inline grpc::Status to_status(const Error& e) {
  return {static_cast<grpc::StatusCode>(static_cast<int>(e.code)), e.message};
}

// Bearer-token check with a small cache (tokens are long random strings; the cache maps the
// token to its principal for a minute).
class Authenticator {
 public:
  explicit Authenticator(pg::Pool& pool) : pool_(pool) {}

  // kUnauthenticated with the reason when the call carries no valid token.
  Result<Principal> check(const grpc::CallbackServerContext* ctx) {
    const auto& md = ctx->client_metadata();
    auto it = md.find("authorization");
    if (it == md.end()) {
      return make_error(Code::kUnauthenticated,
                        "missing bearer token (metadata 'authorization: Bearer <token>')");
    }
    std::string value(it->second.data(), it->second.size());
    constexpr std::string_view kBearer = "Bearer ";
    if (value.rfind(kBearer, 0) != 0) {
      return make_error(Code::kUnauthenticated, "authorization metadata must be 'Bearer <token>'");
    }
    const std::string token = value.substr(kBearer.size());
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      auto c = cache_.find(token);
      if (c != cache_.end() && now - c->second.second < std::chrono::seconds(60)) {
        return c->second.first;
      }
    }
    auto who = authenticate_token(pool_, token);
    if (!who)
      return who.error();
    if (!*who)
      return make_error(Code::kUnauthenticated, "unknown or revoked token");
    std::lock_guard lock(mu_);
    if (cache_.size() > 10000)
      cache_.clear();
    cache_[token] = {**who, now};
    return **who;
  }

 private:
  pg::Pool& pool_;
  std::mutex mu_;
  std::unordered_map<std::string, std::pair<Principal, std::chrono::steady_clock::time_point>>
      cache_;
};

}  // namespace mailvault::api
