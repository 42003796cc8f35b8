#include "ingest/imap/client.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "core/base/log.h"
#include "ingest/imap/text.h"

namespace mailvault::ingest::imap {

namespace {

char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

bool has_code(const StatusResponse& status, std::string_view name) {
  return status.code && status.code->name == name;
}

std::string describe(const StatusResponse& status) {
  std::string out = condition_name(status.condition);
  if (status.code) {
    out +=
        " [" + status.code->name + (status.code->text.empty() ? "" : " " + status.code->text) + "]";
  }
  if (!status.text.empty()) {
    out += " " + status.text;
  }
  return out;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return out;
}

constexpr std::string_view kFetchItems = "(UID BODY.PEEK[] INTERNALDATE FLAGS RFC822.SIZE)";

}  // namespace

bool Capabilities::has(std::string_view cap) const {
  return std::any_of(items.begin(), items.end(),
                     [cap](const std::string& item) { return iequals(item, cap); });
}

bool Mailbox::selectable() const {
  return std::none_of(attributes.begin(), attributes.end(), [](const std::string& a) {
    return iequals(a, "\\Noselect") || iequals(a, "\\NonExistent");
  });
}

// --- connection and plumbing --------------------------------------------------------------------

Client::Client(std::unique_ptr<net::Connection> connection, std::string context,
               ClientOptions options)
    : connection_(std::move(connection)),
      context_(std::move(context)),
      options_(std::move(options)),
      assembler_(ParserLimits{.max_line = options_.max_line,
                              .max_literal = options_.max_literal,
                              .max_literals = 64,
                              .max_depth = 32}) {}

Client::~Client() {
  if (connection_) {
    connection_->close();
  }
}

Result<std::unique_ptr<Client>> Client::connect(const net::ConnectOptions& net,
                                                ClientOptions options) {
  const std::string context = "imap " + net.host + ":" + std::to_string(net.port);
  auto connection = net::Connection::open(net);
  if (!connection) {
    return make_error(connection.error().code, context + ": " + connection.error().message);
  }
  return connect(std::move(*connection), net.tls, context, std::move(options));
}

Result<std::unique_ptr<Client>> Client::connect(std::unique_ptr<net::Connection> connection,
                                                net::TlsMode tls, std::string context,
                                                ClientOptions options) {
  std::unique_ptr<Client> client(
      new Client(std::move(connection), std::move(context), std::move(options)));
  if (auto s = client->start(tls); !s) {
    return s.error();
  }
  return client;
}

std::uint64_t Client::bytes_read() const {
  return connection_ ? connection_->bytes_read() : 0;
}

std::string Client::where() const {
  std::string out = context_;
  if (!activity_.empty()) {
    out += " (" + activity_ + ")";
  }
  return out;
}

Error Client::fail(Error error) {
  if (broken_) {
    return *broken_;
  }
  if (bye_ && (error.code == Code::kUnavailable || error.code == Code::kCancelled)) {
    error = make_error(Code::kUnavailable, "server closed the connection (BYE " + *bye_ + ")");
  }
  Error out = make_error(error.code, where() + ": " + error.message);
  spdlog::debug("{}: connection given up: {}", context_, out.message);
  broken_ = out;
  if (connection_) {
    connection_->close();
  }
  return out;
}

Status Client::usable() const {
  if (broken_) {
    return make_error(Code::kUnavailable,
                      "connection unusable after an earlier error: " + broken_->message);
  }
  return {};
}

Error Client::refused(std::string_view what, const StatusResponse& status, Code no_code) const {
  Code code = no_code;
  if (status.condition == Condition::kBad) {
    code = Code::kInternal;
  } else if (has_code(status, "UNAVAILABLE") || has_code(status, "SERVERBUG") ||
             has_code(status, "INUSE") || has_code(status, "LIMIT")) {
    code = Code::kUnavailable;
  } else if (has_code(status, "NONEXISTENT")) {
    code = Code::kNotFound;
  } else if (has_code(status, "NOPERM")) {
    code = Code::kPermissionDenied;
  } else if (has_code(status, "AUTHENTICATIONFAILED") || has_code(status, "AUTHORIZATIONFAILED") ||
             has_code(status, "EXPIRED")) {
    code = Code::kUnauthenticated;
  }
  return make_error(code, where() + ": " + std::string(what) + " refused: " + describe(status));
}

CommandBuilder Client::command(std::string_view name) {
  LiteralMode mode = LiteralMode::kSynchronizing;
  if (capabilities_.has("LITERAL+")) {
    mode = LiteralMode::kLiteralPlus;
  } else if (capabilities_.has("LITERAL-")) {
    mode = LiteralMode::kLiteralMinus;
  }
  return CommandBuilder(tags_.next(), name, mode);
}

void Client::apply_untagged(const Response& response) {
  if (const auto* status = response.get<StatusResponse>()) {
    if (status->condition == Condition::kBye) {
      bye_ = status->text;
      spdlog::debug("{} S: * BYE {}", context_, status->text);
    }
    if (has_code(*status, "ALERT")) {
      spdlog::warn("{}: server alert: {}", context_, status->text);
    }
    if (has_code(*status, "CAPABILITY")) {
      capabilities_.items = {status->code->items.begin(), status->code->items.end()};
    }
  } else if (const auto* caps = response.get<CapabilityData>()) {
    capabilities_.items = {caps->items.begin(), caps->items.end()};
  } else if (const auto* exists = response.get<ExistsData>()) {
    if (mailbox_ && exists->count > exists_) {
      new_exists_ = true;
    }
    exists_ = exists->count;
  } else if (response.get<ExpungeData>() != nullptr) {
    if (exists_ > 0) {
      --exists_;
    }
  }
}

Result<Response> Client::read_response() {
  while (true) {
    auto line = connection_->read_line(options_.max_line);
    if (!line) {
      return fail(std::move(line).error());
    }
    auto step = assembler_.add_line(*line);
    if (!step) {
      return fail(std::move(step).error());
    }
    if (const auto* need = std::get_if<ResponseAssembler::NeedLiteral>(&*step)) {
      std::string literal;
      literal.reserve(need->size);
      if (auto s = connection_->read_exact(need->size, literal); !s) {
        return fail(s.error());
      }
      if (auto s = assembler_.add_literal(std::move(literal)); !s) {
        return fail(s.error());
      }
      continue;
    }
    Response response = std::move(std::get<Response>(*step));
    if (response.kind == ResponseKind::kUntagged) {
      apply_untagged(response);
    }
    return response;
  }
}

Status Client::send(const Command& command, const std::function<Status(Response&)>& on_untagged) {
  spdlog::debug("{} C: {}", context_, command.log_text);
  for (std::size_t i = 0; i < command.parts.size(); ++i) {
    while (i > 0) {  // a synchronizing literal: wait for "+"
      auto response = read_response();
      if (!response) {
        return response.error();
      }
      if (response->kind == ResponseKind::kContinuation) {
        break;
      }
      if (response->kind == ResponseKind::kTagged) {
        if (response->tag != command.tag) {
          return fail(make_error(Code::kInternal, "unexpected tag " + response->tag));
        }
        return refused("literal", *response->get<StatusResponse>(), Code::kInvalidArgument);
      }
      if (on_untagged) {
        if (auto s = on_untagged(*response); !s) {
          return s;
        }
      }
    }
    if (auto s = connection_->write_all(command.parts[i]); !s) {
      return fail(s.error());
    }
  }
  return {};
}

Result<StatusResponse> Client::run(const Command& command,
                                   const std::function<Status(Response&)>& on_untagged) {
  if (auto s = send(command, on_untagged); !s) {
    return s.error();
  }
  while (true) {
    auto response = read_response();
    if (!response) {
      return response.error();
    }
    switch (response->kind) {
      case ResponseKind::kTagged: {
        if (response->tag != command.tag) {
          return fail(make_error(Code::kInternal, "unexpected tag " + response->tag));
        }
        auto& status = *response->get<StatusResponse>();
        spdlog::debug("{} S: {} {}", context_, response->tag, describe(status));
        return std::move(status);
      }
      case ResponseKind::kContinuation:
        return fail(make_error(Code::kInternal, "unexpected continuation request"));
      case ResponseKind::kUntagged:
        if (on_untagged) {
          if (auto s = on_untagged(*response); !s) {
            return s.error();
          }
        }
        break;
    }
  }
}

Status Client::start(net::TlsMode tls) {
  activity_ = "greeting";
  auto greeting = read_response();
  if (!greeting) {
    return greeting.error();
  }
  const auto* status = greeting->get<StatusResponse>();
  if (greeting->kind != ResponseKind::kUntagged || status == nullptr ||
      status->condition == Condition::kNo || status->condition == Condition::kBad) {
    return fail(make_error(Code::kInternal, "unexpected greeting"));
  }
  spdlog::debug("{} S: * {}", context_, describe(*status));
  if (status->condition == Condition::kBye) {
    return fail(make_error(Code::kUnavailable, "server refused the connection: " + status->text));
  }
  authenticated_ = status->condition == Condition::kPreauth;
  if (!has_code(*status, "CAPABILITY")) {
    if (auto s = refresh_capabilities(); !s) {
      return s;
    }
  }
  if (tls == net::TlsMode::kStartTls) {
    activity_ = "STARTTLS";
    if (authenticated_) {
      return fail(make_error(Code::kFailedPrecondition,
                             "server greeted with PREAUTH: STARTTLS is impossible"));
    }
    if (!capabilities_.has("STARTTLS")) {
      return fail(make_error(Code::kFailedPrecondition, "server does not advertise STARTTLS"));
    }
    auto result = run(command("STARTTLS").finish());
    if (!result) {
      return result.error();
    }
    if (result->condition != Condition::kOk) {
      return fail(refused("STARTTLS", *result, Code::kFailedPrecondition));
    }
    if (auto s = connection_->start_tls(); !s) {
      return fail(s.error());
    }
    // Capabilities from before the handshake cannot be trusted (RFC 3501 §6.2.1).
    capabilities_.items.clear();
    if (auto s = refresh_capabilities(); !s) {
      return s;
    }
  }
  if (capabilities_.has("ID")) {
    if (auto s = send_id(); !s) {
      return s;
    }
  }
  activity_.clear();
  return {};
}

Status Client::refresh_capabilities() {
  auto result = run(command("CAPABILITY").finish());
  if (!result) {
    return result.error();
  }
  if (result->condition != Condition::kOk) {
    return fail(refused("CAPABILITY", *result, Code::kUnavailable));
  }
  return {};
}

Status Client::send_id() {
  std::string fields = "(\"name\" " + quote(options_.id_name);
  if (!options_.id_version.empty()) {
    fields += " \"version\" " + quote(options_.id_version);
  }
  fields += ")";
  auto result = run(command("ID").raw(fields).finish());
  if (!result) {
    return result.error();
  }
  return {};  // NO/BAD to ID changes nothing
}

// --- authentication -----------------------------------------------------------------------------

Result<StatusResponse> Client::auth_sasl(std::string_view mechanism,
                                         const std::string& initial_response,
                                         std::string& server_error) {
  const bool sasl_ir = capabilities_.has("SASL-IR");
  CommandBuilder builder = command("AUTHENTICATE");
  builder.raw(mechanism);
  if (sasl_ir) {
    builder.raw(initial_response.empty() ? "=" : initial_response, /*secret=*/true);
  }
  const Command cmd = builder.finish();
  if (auto s = send(cmd); !s) {
    return s.error();
  }
  bool initial_sent = sasl_ir;
  while (true) {
    auto response = read_response();
    if (!response) {
      return response.error();
    }
    if (response->kind == ResponseKind::kTagged) {
      if (response->tag != cmd.tag) {
        return fail(make_error(Code::kInternal, "unexpected tag " + response->tag));
      }
      auto& status = *response->get<StatusResponse>();
      spdlog::debug("{} S: {} {}", context_, response->tag, describe(status));
      return std::move(status);
    }
    if (response->kind != ResponseKind::kContinuation) {
      continue;
    }
    std::string answer;
    if (!initial_sent) {
      answer = initial_response + "\r\n";
      initial_sent = true;
    } else {
      // A challenge after the initial response: for XOAUTH2 the base64 JSON error. Answer with
      // an empty response; the server then fails the command. (For PLAIN, too, an empty
      // response ends the exchange.)
      const auto& text = response->get<ContinuationData>()->text;
      server_error = base64_decode(text).value_or(text);
      answer = "\r\n";
    }
    if (auto s = connection_->write_all(answer); !s) {
      return fail(s.error());
    }
  }
}

Status Client::finish_auth(Result<StatusResponse> result, std::string_view mechanism,
                           const std::string& server_error) {
  if (!result) {
    return result.error();
  }
  if (result->condition != Condition::kOk) {
    Error error =
        refused("authentication (" + std::string(mechanism) + ")", *result, Code::kUnauthenticated);
    if (error.code == Code::kInternal) {
      error.code = Code::kUnauthenticated;  // BAD: e.g. a mechanism the server does not know
    }
    if (!server_error.empty()) {
      error.message += "; server said: " + server_error;
    }
    return error;
  }
  authenticated_ = true;
  spdlog::debug("{}: authenticated with {}", context_, mechanism);
  if (has_code(*result, "CAPABILITY")) {
    capabilities_.items = {result->code->items.begin(), result->code->items.end()};
    return {};
  }
  return refresh_capabilities();
}

Status Client::authenticate(const Credentials& credentials) {
  if (auto s = usable(); !s) {
    return s;
  }
  if (authenticated_) {
    return {};
  }
  activity_ = "authenticating as " + credentials.user;
  AuthMechanism mechanism = credentials.mechanism;
  if (mechanism == AuthMechanism::kAuto) {
    mechanism = credentials.access_token          ? AuthMechanism::kXOAuth2
                : capabilities_.has("AUTH=PLAIN") ? AuthMechanism::kPlain
                                                  : AuthMechanism::kLogin;
  }
  if (!connection_->tls_active() && !credentials.allow_plaintext_password) {
    return make_error(Code::kFailedPrecondition,
                      where() +
                          ": refusing to send credentials over a connection without TLS "
                          "(allow_plaintext_password is not set)");
  }
  const bool has_nul = credentials.user.find('\0') != std::string::npos ||
                       credentials.password.find('\0') != std::string::npos;
  std::string server_error;
  switch (mechanism) {
    case AuthMechanism::kLogin: {
      if (capabilities_.has("LOGINDISABLED")) {
        return make_error(Code::kFailedPrecondition, where() + ": server advertises LOGINDISABLED");
      }
      if (has_nul) {
        return make_error(Code::kInvalidArgument, where() + ": user or password contains NUL");
      }
      const Command cmd = command("LOGIN")
                              .string(credentials.user)
                              .string(credentials.password, /*secret=*/true)
                              .finish();
      return finish_auth(run(cmd), "LOGIN", server_error);
    }
    case AuthMechanism::kPlain: {
      if (has_nul) {
        return make_error(Code::kInvalidArgument, where() + ": user or password contains NUL");
      }
      return finish_auth(
          auth_sasl("PLAIN", sasl_plain_response(credentials.user, credentials.password),
                    server_error),
          "PLAIN", server_error);
    }
    case AuthMechanism::kXOAuth2: {
      if (!credentials.access_token) {
        return make_error(Code::kInvalidArgument, where() + ": XOAUTH2 without a token source");
      }
      Status last;
      for (int attempt = 0; attempt < 2; ++attempt) {
        auto token = credentials.access_token();
        if (!token) {
          return make_error(token.error().code,
                            where() + ": getting an access token: " + token.error().message);
        }
        server_error.clear();
        last = finish_auth(
            auth_sasl("XOAUTH2", sasl_xoauth2_response(credentials.user, *token), server_error),
            "XOAUTH2", server_error);
        if (last || last.error().code != Code::kUnauthenticated) {
          break;
        }
        spdlog::debug("{}: XOAUTH2 refused; retrying once with a fresh token", context_);
      }
      return last;
    }
    case AuthMechanism::kAuto:
      break;
  }
  return make_error(Code::kInternal, "unreachable");
}

// --- mailboxes ----------------------------------------------------------------------------------

Result<std::vector<Mailbox>> Client::list(const std::vector<std::string>& include,
                                          const std::vector<std::string>& exclude) {
  if (auto s = usable(); !s) {
    return s.error();
  }
  activity_ = "LIST";
  CommandBuilder builder = command("LIST");
  builder.raw("\"\" \"*\"");
  if (capabilities_.has("SPECIAL-USE") && capabilities_.has("LIST-EXTENDED")) {
    builder.raw("RETURN (SPECIAL-USE)");
  }
  std::vector<ListData> listed;
  auto result = run(builder.finish(), [&](Response& response) -> Status {
    if (auto* list = response.get<ListData>(); list != nullptr && !list->lsub) {
      listed.push_back(std::move(*list));
    }
    return {};
  });
  if (!result) {
    return result.error();
  }
  if (result->condition != Condition::kOk) {
    return refused("LIST", *result, Code::kUnavailable);
  }
  std::vector<Mailbox> out;
  for (auto& entry : listed) {
    Mailbox box;
    box.name = decode_mailbox_name(entry.name);
    if (iequals(box.name, "INBOX")) {
      box.name = "INBOX";
    }
    box.wire_name = std::move(entry.name);
    box.delimiter = entry.delimiter;
    box.attributes = std::move(entry.attributes);
    auto matches = [&](const std::string& pattern) {
      return glob_match(pattern, box.name, box.delimiter);
    };
    if (!include.empty() && std::none_of(include.begin(), include.end(), matches)) {
      continue;
    }
    if (std::any_of(exclude.begin(), exclude.end(), matches)) {
      continue;
    }
    out.push_back(std::move(box));
  }
  activity_.clear();
  return out;
}

Result<MailboxState> Client::examine(const Mailbox& mailbox) {
  if (auto s = usable(); !s) {
    return s.error();
  }
  if (!authenticated_) {
    return make_error(Code::kFailedPrecondition, where() + ": EXAMINE before authentication");
  }
  activity_ = "EXAMINE \"" + mailbox.name + "\"";
  mailbox_.reset();  // a failed EXAMINE leaves no mailbox selected (RFC 3501 §6.3.1)
  exists_ = 0;
  MailboxState state;
  auto result = run(command("EXAMINE").astring(mailbox.wire_name).finish(),
                    [&](Response& response) -> Status {
                      if (const auto* status = response.get<StatusResponse>()) {
                        if (has_code(*status, "UIDVALIDITY")) {
                          state.uidvalidity = status->code->number.value_or(0);
                        } else if (has_code(*status, "UIDNEXT")) {
                          state.uidnext = status->code->number.value_or(0);
                        }
                      } else if (const auto* exists = response.get<ExistsData>()) {
                        state.exists = exists->count;
                      }
                      return {};
                    });
  if (!result) {
    return result.error();
  }
  if (result->condition != Condition::kOk) {
    return refused("EXAMINE", *result, Code::kNotFound);
  }
  mailbox_ = mailbox.name;
  exists_ = state.exists;
  spdlog::debug("{}: examined \"{}\": UIDVALIDITY {} UIDNEXT {} EXISTS {}", context_, mailbox.name,
                state.uidvalidity, state.uidnext, state.exists);
  activity_.clear();
  return state;
}

Result<std::vector<std::uint32_t>> Client::uids_from(std::uint32_t first_uid) {
  if (auto s = usable(); !s) {
    return s.error();
  }
  if (!mailbox_) {
    return make_error(Code::kFailedPrecondition, where() + ": no mailbox examined");
  }
  first_uid = std::max<std::uint32_t>(first_uid, 1);
  std::vector<std::uint32_t> out;
  if (exists_ == 0) {
    return out;  // "n:*" on an empty mailbox is BAD on some servers
  }
  activity_ = "listing UIDs from " + std::to_string(first_uid) + " in \"" + *mailbox_ + "\"";
  auto result =
      run(command("UID FETCH").raw(std::to_string(first_uid) + ":*").raw("(UID)").finish(),
          [&](Response& response) -> Status {
            if (const auto* fetch = response.get<FetchData>();
                fetch != nullptr && fetch->uid && to_int(*fetch->uid) >= first_uid) {
              out.push_back(to_int(*fetch->uid));
            }
            return {};
          });
  if (!result) {
    return result.error();
  }
  if (result->condition != Condition::kOk) {
    return refused("UID FETCH", *result, Code::kUnavailable);
  }
  if (!std::is_sorted(out.begin(), out.end())) {
    std::sort(out.begin(), out.end());
  }
  out.erase(std::unique(out.begin(), out.end()), out.end());
  activity_.clear();
  return out;
}

// --- fetch --------------------------------------------------------------------------------------

Status Client::fetch(std::span<const std::uint32_t> uids,
                     const std::function<Status(FetchedMessage&&)>& on_message, std::size_t batch,
                     std::size_t pipeline_depth) {
  if (auto s = usable(); !s) {
    return s;
  }
  if (!mailbox_) {
    return make_error(Code::kFailedPrecondition, where() + ": no mailbox examined");
  }
  std::vector<std::uint32_t> sorted(uids.begin(), uids.end());
  if (!std::is_sorted(sorted.begin(), sorted.end())) {
    std::sort(sorted.begin(), sorted.end());
  }
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  sorted.erase(std::remove(sorted.begin(), sorted.end(), 0u), sorted.end());
  if (sorted.empty()) {
    return {};
  }
  batch = std::max<std::size_t>(batch, 1);
  pipeline_depth = std::max<std::size_t>(pipeline_depth, 1);

  struct InFlight {
    std::string tag;
    std::uint32_t first = 0;
    std::uint32_t last = 0;
  };

  std::deque<InFlight> in_flight;
  std::size_t next = 0;       // index into sorted of the next batch to send
  std::optional<Error> stop;  // the caller's (or a NO's) error: drain, then return it
  std::uint32_t last_delivered = 0;
  const std::string& box = *mailbox_;

  auto set_activity = [&] {
    activity_ = in_flight.empty()
                    ? "fetching from \"" + box + "\""
                    : "fetching UIDs " + std::to_string(in_flight.front().first) + ".." +
                          std::to_string(in_flight.front().last) + " from \"" + box + "\"";
  };
  auto send_next = [&]() -> Status {
    const std::size_t end = std::min(sorted.size(), next + batch);
    const std::span<const std::uint32_t> part(sorted.data() + next, end - next);
    const Command cmd = command("UID FETCH").raw(format_uid_set(part)).raw(kFetchItems).finish();
    in_flight.push_back({cmd.tag, part.front(), part.back()});
    next = end;
    set_activity();
    return send(cmd);
  };

  while (!in_flight.empty() || (next < sorted.size() && !stop)) {
    while (!stop && in_flight.size() < pipeline_depth && next < sorted.size()) {
      if (auto s = send_next(); !s) {
        return s;
      }
    }
    auto response = read_response();
    if (!response) {
      return response.error();
    }
    if (response->kind == ResponseKind::kContinuation) {
      return fail(make_error(Code::kInternal, "unexpected continuation request"));
    }
    if (response->kind == ResponseKind::kTagged) {
      if (in_flight.empty() || response->tag != in_flight.front().tag) {
        return fail(make_error(Code::kInternal, "unexpected tag " + response->tag));
      }
      const auto& status = *response->get<StatusResponse>();
      if (status.condition == Condition::kBad) {
        return fail(refused("UID FETCH", status, Code::kInternal));
      }
      if (status.condition == Condition::kNo && !has_code(status, "EXPUNGEISSUED") && !stop) {
        stop = refused("UID FETCH", status, Code::kUnavailable);
      } else if (status.condition != Condition::kOk) {
        spdlog::debug("{}: {}", where(), describe(status));
      }
      in_flight.pop_front();
      set_activity();
      continue;
    }
    auto* data = response->get<FetchData>();
    if (data == nullptr || (!data->body && !data->body_nil) || stop) {
      continue;  // EXISTS, unsolicited FLAGS updates, or draining after an error
    }
    if (!data->uid) {
      return fail(make_error(Code::kInternal, "FETCH with a body but without UID"));
    }
    const std::uint32_t uid = to_int(*data->uid);
    if (!std::binary_search(sorted.begin(), sorted.end(), uid)) {
      spdlog::debug("{}: ignoring FETCH for UID {} (not requested)", where(), uid);
      continue;
    }
    if (uid <= last_delivered) {
      return fail(make_error(Code::kInternal, "server sent UID " + std::to_string(uid) +
                                                  " after UID " + std::to_string(last_delivered)));
    }
    last_delivered = uid;
    if (data->body_nil) {
      spdlog::warn("{}: server sent NIL for the body of UID {}; skipped", where(), uid);
      continue;
    }
    FetchedMessage message;
    message.uid = uid;
    message.body = std::move(*data->body);
    if (data->internal_date) {
      message.internal_date = std::move(*data->internal_date);
      message.internal_date_unix = parse_internal_date(message.internal_date).value_or(0);
    }
    if (data->flags) {
      message.flags = std::move(*data->flags);
    }
    message.rfc822_size = data->rfc822_size.value_or(message.body.size());
    if (auto s = on_message(std::move(message)); !s) {
      if (s.error().code == Code::kCancelled) {
        // Do not wait for what is in flight: drop the connection.
        broken_ = make_error(Code::kCancelled, where() + ": fetch cancelled by the caller");
        connection_->close();
        return s;
      }
      spdlog::debug("{}: caller stopped the fetch at UID {}: {}; draining {} command(s)", where(),
                    uid, s.error().message, in_flight.size());
      stop = s.error();
    }
  }
  activity_.clear();
  if (stop) {
    return *stop;
  }
  return {};
}

// --- IDLE and LOGOUT ----------------------------------------------------------------------------

Result<bool> Client::idle(std::chrono::milliseconds max_wait) {
  if (auto s = usable(); !s) {
    return s.error();
  }
  if (!mailbox_) {
    return make_error(Code::kFailedPrecondition, where() + ": no mailbox examined");
  }
  if (!capabilities_.has("IDLE")) {
    return make_error(Code::kUnimplemented, where() + ": server has no IDLE");
  }
  activity_ = "IDLE on \"" + *mailbox_ + "\"";
  new_exists_ = false;
  const Command cmd = command("IDLE").finish();
  if (auto s = send(cmd); !s) {
    return s.error();
  }
  // Until "+ idling": a NO ends the command here.
  while (true) {
    auto response = read_response();
    if (!response) {
      return response.error();
    }
    if (response->kind == ResponseKind::kContinuation) {
      break;
    }
    if (response->kind == ResponseKind::kTagged) {
      if (response->tag != cmd.tag) {
        return fail(make_error(Code::kInternal, "unexpected tag " + response->tag));
      }
      return refused("IDLE", *response->get<StatusResponse>(), Code::kUnavailable);
    }
  }
  // Waiting with wait_readable() rather than a read: running out of time leaves the stream
  // intact, so DONE can end the command and the client stays usable.
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  std::optional<StatusResponse> ended;  // the server ended IDLE itself
  while (!new_exists_ && !ended) {
    const auto remaining =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) {
      break;
    }
    auto ready = connection_->wait_readable(remaining);
    if (!ready) {
      return fail(std::move(ready).error());
    }
    if (!*ready) {
      break;
    }
    auto response = read_response();
    if (!response) {
      return response.error();
    }
    if (response->kind == ResponseKind::kTagged) {
      if (response->tag != cmd.tag) {
        return fail(make_error(Code::kInternal, "unexpected tag " + response->tag));
      }
      ended = *response->get<StatusResponse>();
    }
  }
  if (ended) {
    if (ended->condition != Condition::kOk) {
      return refused("IDLE", *ended, Code::kUnavailable);
    }
    activity_.clear();
    return new_exists_;
  }
  spdlog::debug("{} C: DONE", context_);
  if (auto s = connection_->write_all("DONE\r\n"); !s) {
    return fail(s.error());
  }
  while (true) {
    auto response = read_response();
    if (!response) {
      return response.error();
    }
    if (response->kind == ResponseKind::kTagged) {
      if (response->tag != cmd.tag) {
        return fail(make_error(Code::kInternal, "unexpected tag " + response->tag));
      }
      break;
    }
  }
  activity_.clear();
  return new_exists_;  // an EXISTS may also arrive between DONE and the tagged OK
}

Status Client::logout() {
  if (broken_ || !connection_) {
    return {};
  }
  activity_ = "LOGOUT";
  auto result = run(command("LOGOUT").finish());
  // Whatever happened (BYE and close, a dead connection), we are done with it.
  if (!broken_) {
    broken_ = make_error(Code::kUnavailable, context_ + ": logged out");
  }
  connection_->close();
  (void)result;
  return {};
}

}  // namespace mailvault::ingest::imap
