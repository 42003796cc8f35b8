#include "ingest/pop3/client.h"

#include <algorithm>
#include <utility>

namespace mailvault::ingest::pop3 {
namespace {

using namespace std::string_view_literals;

std::string endpoint_of(const net::ConnectOptions& o) {
  if (o.host.find(':') != std::string::npos) {
    return "[" + o.host + "]:" + std::to_string(o.port);
  }
  return o.host + ":" + std::to_string(o.port);
}

std::string number_text(MessageNumber n) {
  return std::to_string(to_int(n));
}

}  // namespace

Client::Client(std::unique_ptr<net::Connection> connection, ConnectOptions options)
    : connection_(std::move(connection)),
      options_(std::move(options)),
      endpoint_(endpoint_of(options_.connection)) {}

Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::connect(const ConnectOptions& options) {
  auto connection = net::Connection::open(options.connection);
  if (!connection) {
    return std::move(connection).error();
  }
  return start(std::move(*connection), options);
}

Result<std::unique_ptr<Client>> Client::start(std::unique_ptr<net::Connection> connection,
                                              const ConnectOptions& options) {
  std::unique_ptr<Client> client(new Client(std::move(connection), options));
  if (auto st = client->handshake(); !st) {
    return st.error();
  }
  return client;
}

bool Client::tls_active() const {
  return connection_ && connection_->tls_active();
}

std::uint64_t Client::bytes_read() const {
  return connection_ ? connection_->bytes_read() : 0;
}

void Client::abort() noexcept {
  if (connection_) {
    connection_->close();
  }
}

Error Client::broken(std::string_view name, const Error& error) {
  state_ = State::kClosed;
  if (connection_) {
    connection_->close();
  }
  // Connection errors already name host:port; protocol errors do not.
  const bool named = error.message.find(endpoint_) != std::string::npos;
  return make_error(error.code, "POP3 " + std::string(name) + (named ? "" : " at " + endpoint_) +
                                    ": " + error.message);
}

Result<Reply> Client::read_reply(std::string_view name) {
  auto line = connection_->read_line(options_.max_line_bytes);
  if (!line) {
    return broken(name, line.error());
  }
  auto reply = parse_reply(*line);
  if (!reply) {
    return broken(name, reply.error());
  }
  return reply;
}

Result<Reply> Client::command(std::string_view line, std::string_view name) {
  if (state_ == State::kClosed) {
    return make_error(Code::kFailedPrecondition, "POP3 " + std::string(name) +
                                                     ": the session with " + endpoint_ +
                                                     " is over (after QUIT or an earlier error)");
  }
  std::string bytes(line);
  bytes += "\r\n";
  if (auto st = connection_->write_all(bytes); !st) {
    return broken(name, st.error());
  }
  return read_reply(name);
}

Status Client::read_multiline(std::string& out, std::size_t limit, std::string_view name) {
  const std::size_t start = out.size();
  bool over = false;
  // Lines straight from the connection's buffer (no string per line): a message is hundreds
  // of lines. A single line may use the whole budget (plus CRLF); the total is checked per line.
  auto st = connection_->read_lines(
      [&](std::string_view line) {
        if (append_multiline(line, out)) {
          return true;
        }
        over = out.size() - start > limit;
        return over;
      },
      limit);
  if (!st) {
    return broken(name, st.error());
  }
  if (over) {
    return broken(name, make_error(Code::kResourceExhausted,
                                   "response larger than " + std::to_string(limit) + " bytes"));
  }
  return ok_status();
}

Result<std::vector<std::string>> Client::read_lines(std::string_view name) {
  std::vector<std::string> lines;
  while (true) {
    auto line = connection_->read_line(options_.max_line_bytes);
    if (!line) {
      return broken(name, line.error());
    }
    if (*line == ".") {
      return lines;
    }
    if (!line->empty() && line->front() == '.') {
      line->erase(0, 1);
    }
    lines.push_back(std::move(*line));
    if (lines.size() > 10'000'000) {
      return broken(name, make_error(Code::kResourceExhausted, "more than 10,000,000 lines"));
    }
  }
}

Status Client::refresh_capabilities() {
  auto reply = command("CAPA", "CAPA");
  if (!reply) {
    return reply.error();
  }
  if (!reply->ok) {
    capabilities_ = Capabilities{};  // a pre-RFC 2449 server: everything unknown
    return ok_status();
  }
  auto lines = read_lines("CAPA");
  if (!lines) {
    return lines.error();
  }
  capabilities_ = parse_capabilities(*lines);
  return ok_status();
}

Status Client::handshake() {
  auto greeting = read_reply("greeting");
  if (!greeting) {
    return greeting.error();
  }
  if (!greeting->ok) {
    auto error = error_from_reply(*greeting, "server refused the connection", Code::kUnavailable);
    return broken("greeting", error);
  }
  greeting_ = greeting->text;
  apop_timestamp_ = apop_timestamp(greeting_);
  if (auto st = refresh_capabilities(); !st) {
    return st;
  }
  if (options_.connection.tls != net::TlsMode::kStartTls) {
    return ok_status();
  }
  if (!capabilities_.stls) {
    return broken("STLS",
                  make_error(Code::kFailedPrecondition,
                             "TLS was required (STLS) but the server does not offer it" +
                                 std::string(capabilities_.known ? " in CAPA" : " (no CAPA)")));
  }
  auto reply = command("STLS", "STLS");
  if (!reply) {
    return reply.error();
  }
  if (!reply->ok) {
    return broken("STLS", error_from_reply(*reply, "STLS refused", Code::kFailedPrecondition));
  }
  if (auto st = connection_->start_tls(); !st) {
    return broken("STLS", st.error());
  }
  // RFC 2595 §4: forget the capabilities learnt before TLS (a man in the middle may have
  // stripped or added some). The greeting's APOP timestamp is kept: a forged one only makes
  // APOP fail.
  capabilities_ = Capabilities{};
  return refresh_capabilities();
}

Status Client::authenticate(std::string_view user, std::string_view password,
                            AuthMechanism mechanism) {
  if (state_ != State::kAuthorization) {
    return make_error(
        Code::kFailedPrecondition,
        "POP3 authenticate at " + endpoint_ +
            (state_ == State::kTransaction ? ": already authenticated" : ": the session is over"));
  }
  // A CR or LF would end the command early and smuggle in another one.
  auto unsafe = [](std::string_view s) {
    return s.find_first_of("\r\n\0"sv) != std::string_view::npos;
  };
  if (unsafe(user) || unsafe(password)) {
    return make_error(Code::kInvalidArgument, "POP3 authenticate at " + endpoint_ +
                                                  ": user name or password contains CR, LF or NUL");
  }
  const bool secure = connection_->tls_active() || options_.allow_plaintext_password;
  if (mechanism == AuthMechanism::kAuto) {
    if (!secure) {
      if (!apop_timestamp_) {
        return make_error(Code::kFailedPrecondition,
                          "POP3 authenticate at " + endpoint_ +
                              ": refusing to send the password of '" + std::string(user) +
                              "' over a connection without TLS (use TLS, or allow plaintext "
                              "passwords for this account explicitly)");
      }
      mechanism = AuthMechanism::kApop;
    } else if (capabilities_.has_sasl("PLAIN")) {
      mechanism = AuthMechanism::kPlain;
    } else {
      mechanism = AuthMechanism::kUserPass;
    }
  }
  if ((mechanism == AuthMechanism::kUserPass || mechanism == AuthMechanism::kPlain) && !secure) {
    return make_error(Code::kFailedPrecondition,
                      "POP3 authenticate at " + endpoint_ + ": refusing to send the password of '" +
                          std::string(user) +
                          "' in clear text over a connection without TLS (use TLS, or allow "
                          "plaintext passwords for this account explicitly)");
  }
  Status st;
  switch (mechanism) {
    case AuthMechanism::kUserPass:
      st = auth_user_pass(user, password);
      break;
    case AuthMechanism::kApop:
      st = auth_apop(user, password);
      break;
    case AuthMechanism::kPlain:
    case AuthMechanism::kAuto:
      st = auth_plain(user, password);
      break;
  }
  if (!st) {
    return st;
  }
  state_ = State::kTransaction;
  if (capabilities_.known) {
    return refresh_capabilities();
  }
  return ok_status();
}

Status Client::auth_user_pass(std::string_view user, std::string_view password) {
  const std::string what = "POP3 USER/PASS login as '" + std::string(user) + "' at " + endpoint_;
  auto reply = command("USER " + std::string(user), "USER");
  if (!reply) {
    return reply.error();
  }
  if (!reply->ok) {
    return error_from_reply(*reply, what + " (USER)", Code::kUnauthenticated);
  }
  reply = command("PASS " + std::string(password), "PASS");
  if (!reply) {
    return reply.error();
  }
  if (!reply->ok) {
    return error_from_reply(*reply, what, Code::kUnauthenticated);
  }
  return ok_status();
}

Status Client::auth_apop(std::string_view user, std::string_view password) {
  if (!apop_timestamp_) {
    return make_error(Code::kFailedPrecondition,
                      "POP3 APOP at " + endpoint_ +
                          ": the server's greeting has no APOP timestamp (APOP not offered)");
  }
  if (user.find(' ') != std::string_view::npos) {
    return make_error(Code::kInvalidArgument,
                      "POP3 APOP at " + endpoint_ + ": a user name with a space cannot be sent");
  }
  auto reply =
      command("APOP " + std::string(user) + " " + apop_digest(*apop_timestamp_, password), "APOP");
  if (!reply) {
    return reply.error();
  }
  if (!reply->ok) {
    return error_from_reply(*reply,
                            "POP3 APOP login as '" + std::string(user) + "' at " + endpoint_,
                            Code::kUnauthenticated);
  }
  return ok_status();
}

Status Client::auth_plain(std::string_view user, std::string_view password) {
  auto reply = command("AUTH PLAIN " + sasl_plain_response(user, password), "AUTH PLAIN");
  if (!reply) {
    // A server that wants the response on a continuation line answers "+ " (not +OK/-ERR).
    return reply.error();
  }
  if (!reply->ok) {
    return error_from_reply(*reply,
                            "POP3 AUTH PLAIN login as '" + std::string(user) + "' at " + endpoint_,
                            Code::kUnauthenticated);
  }
  return ok_status();
}

Status Client::require_transaction(std::string_view name) const {
  if (state_ == State::kTransaction) {
    return ok_status();
  }
  return make_error(
      Code::kFailedPrecondition,
      "POP3 " + std::string(name) + " at " + endpoint_ +
          (state_ == State::kAuthorization ? ": not authenticated yet" : ": the session is over"));
}

Result<MaildropStat> Client::stat() {
  if (auto st = require_transaction("STAT"); !st) {
    return st.error();
  }
  auto reply = command("STAT", "STAT");
  if (!reply) {
    return reply.error();
  }
  if (!reply->ok) {
    return error_from_reply(*reply, "POP3 STAT at " + endpoint_, Code::kUnavailable);
  }
  auto stat = parse_stat(reply->text);
  if (!stat) {
    return broken("STAT", stat.error());
  }
  return stat;
}

Result<std::vector<ListEntry>> Client::list() {
  if (auto st = require_transaction("LIST"); !st) {
    return st.error();
  }
  auto reply = command("LIST", "LIST");
  if (!reply) {
    return reply.error();
  }
  if (!reply->ok) {
    return error_from_reply(*reply, "POP3 LIST at " + endpoint_, Code::kUnavailable);
  }
  auto lines = read_lines("LIST");
  if (!lines) {
    return lines.error();
  }
  std::vector<ListEntry> out;
  out.reserve(lines->size());
  for (const std::string& line : *lines) {
    auto entry = parse_list_entry(line);
    if (!entry) {
      return broken("LIST", entry.error());
    }
    out.push_back(*entry);
  }
  return out;
}

Result<std::vector<UidlEntry>> Client::uidl() {
  if (auto st = require_transaction("UIDL"); !st) {
    return st.error();
  }
  if (capabilities_.known && !capabilities_.uidl) {
    return make_error(Code::kUnimplemented,
                      "POP3 UIDL at " + endpoint_ + ": the server does not offer UIDL (CAPA)");
  }
  auto reply = command("UIDL", "UIDL");
  if (!reply) {
    return reply.error();
  }
  if (!reply->ok) {
    return error_from_reply(*reply, "POP3 UIDL at " + endpoint_,
                            capabilities_.known ? Code::kUnavailable : Code::kUnimplemented);
  }
  auto lines = read_lines("UIDL");
  if (!lines) {
    return lines.error();
  }
  std::vector<UidlEntry> out;
  out.reserve(lines->size());
  for (const std::string& line : *lines) {
    auto entry = parse_uidl_entry(line);
    if (!entry) {
      return broken("UIDL", entry.error());
    }
    out.push_back(std::move(*entry));
  }
  return out;
}

Result<std::string> Client::retr(MessageNumber number) {
  std::string message;
  auto st = retr_many(std::span<const MessageNumber>(&number, 1),
                      [&message](MessageNumber, std::string bytes) {
                        message = std::move(bytes);
                        return ok_status();
                      });
  if (!st) {
    return st.error();
  }
  return message;
}

Status Client::retr_many(std::span<const MessageNumber> numbers,
                         const MessageCallback& on_message) {
  if (auto st = require_transaction("RETR"); !st) {
    return st;
  }
  const std::size_t depth =
      capabilities_.pipelining ? std::max<std::size_t>(1, options_.pipeline_depth) : 1;
  std::size_t sent = 0;
  std::size_t received = 0;
  std::optional<Error> first_error;  // stops sending; the replies in flight are still read

  auto send_more = [&]() -> Status {
    std::string batch;
    while (sent < numbers.size() && sent - received < depth) {
      batch += "RETR " + number_text(numbers[sent]) + "\r\n";
      ++sent;
    }
    if (batch.empty()) {
      return ok_status();
    }
    if (auto st = connection_->write_all(batch); !st) {
      return broken("RETR", st.error());
    }
    return ok_status();
  };

  if (auto st = send_more(); !st) {
    return st;
  }
  while (received < sent) {
    const MessageNumber number = numbers[received];
    const std::string name = "RETR " + number_text(number);
    auto reply = read_reply(name);
    if (!reply) {
      return reply.error();
    }
    ++received;
    if (!reply->ok) {
      if (!first_error) {
        first_error =
            error_from_reply(*reply, "POP3 " + name + " at " + endpoint_, Code::kNotFound);
      }
    } else {
      std::string bytes;
      if (auto st = read_multiline(bytes, options_.max_message_bytes, name); !st) {
        return st;
      }
      if (!first_error) {
        if (auto st = on_message(number, std::move(bytes)); !st) {
          first_error = st.error();
        }
      }
    }
    // Refill when half the window drained: fewer, larger writes.
    if (!first_error && sent < numbers.size() && sent - received <= depth / 2) {
      if (auto st = send_more(); !st) {
        return st;
      }
    }
  }
  if (first_error) {
    return *first_error;
  }
  return ok_status();
}

Status Client::dele(MessageNumber number) {
  if (auto st = require_transaction("DELE"); !st) {
    return st;
  }
  const std::string name = "DELE " + number_text(number);
  auto reply = command(name, name);
  if (!reply) {
    return reply.error();
  }
  if (!reply->ok) {
    return error_from_reply(*reply, "POP3 " + name + " at " + endpoint_, Code::kNotFound);
  }
  return ok_status();
}

Status Client::dele_many(std::span<const MessageNumber> numbers) {
  if (auto st = require_transaction("DELE"); !st) {
    return st;
  }
  const std::size_t depth =
      capabilities_.pipelining ? std::max<std::size_t>(1, options_.pipeline_depth) : 1;
  std::size_t sent = 0;
  std::size_t received = 0;
  std::optional<Error> first_error;
  while (received < numbers.size()) {
    if (sent - received <= depth / 2 && sent < numbers.size()) {
      std::string batch;
      while (sent < numbers.size() && sent - received < depth) {
        batch += "DELE " + number_text(numbers[sent]) + "\r\n";
        ++sent;
      }
      if (auto st = connection_->write_all(batch); !st) {
        return broken("DELE", st.error());
      }
    }
    const std::string name = "DELE " + number_text(numbers[received]);
    auto reply = read_reply(name);
    if (!reply) {
      return reply.error();
    }
    ++received;
    if (!reply->ok && !first_error) {
      first_error = error_from_reply(*reply, "POP3 " + name + " at " + endpoint_, Code::kNotFound);
    }
  }
  if (first_error) {
    return *first_error;
  }
  return ok_status();
}

Status Client::quit() {
  if (state_ == State::kClosed) {
    return ok_status();
  }
  auto reply = command("QUIT", "QUIT");
  state_ = State::kClosed;
  connection_->close();
  if (!reply) {
    return reply.error();
  }
  if (!reply->ok) {
    return error_from_reply(*reply, "POP3 QUIT at " + endpoint_ + " (deletions not committed?)",
                            Code::kAborted);
  }
  return ok_status();
}

}  // namespace mailvault::ingest::pop3
