// One IMAP connection's protocol engine: bytes in (on_input), response bytes out (the Send
// callback), the session state machine in between. No sockets, threads or clocks of its own
// (server.h owns those), so scripted sessions run in unit tests against a fake backend.
//
// Input goes through the CommandReader (limits.h: line length, literal size; "+ Ready" for
// synchronising literals; BAD [TOOBIG] / NO [CANNOT] for what it refuses, closing the
// connection after a fatal refusal), then parse_command(); commands are dispatched through a
// table (name -> handler), after the parser's table has said whether the command is allowed in
// the current state and whether it would change mail (those get NO [CANNOT] and change
// nothing: the archive is read-only, SELECT and EXAMINE both answer [READ-ONLY]).
//
// State: a std::variant of NotAuthenticated / Authenticated{viewer} / Selected{viewer, snapshot}
// / Logout. The selected mailbox is a snapshot taken at SELECT/EXAMINE: sequence numbers are
// positions in it. It only grows: NOOP, CHECK and IDLE append the messages archived since
// (SessionBackend::newer, UIDs above the snapshot's highest) and report `* N EXISTS`; nothing is
// ever expunged from a session's view, so sequence numbers never move.
//
// TLS (the socket side is the server's): STARTTLS is offered before login when the server has
// a certificate (tls_available) and TLS is not on yet. After "OK Begin TLS negotiation now" the
// session discards every byte it had buffered (plaintext sent after STARTTLS is never executed,
// CVE-2011-0411) and processes nothing until the server reports on_tls_started(); then the
// capability list has no STARTTLS and says AUTH=PLAIN instead of LOGINDISABLED. Before TLS,
// LOGIN and AUTHENTICATE PLAIN answer NO [PRIVACYREQUIRED] unless allow_plaintext (the server's
// plaintext-auth rule for this connection).
//
// Logins: the LoginGuard (login_guard.h) may make an attempt wait before it is answered (an
// address with too many recent failures), and refuses a successful login beyond the user's
// connection limit with NO [LIMIT]; each failure also waits failed_login_delay, and the
// connection is closed with BYE after max_failed_logins failures. Waiting goes through the
// `pause` callback (the server's waits end early at shutdown).
//
// IDLE (RFC 2177): answered "+ idling"; then only "DONE" (which ends it with OK) is expected
// (anything else ends it with BAD). The server calls on_idle_poll() at its poll interval while
// idling() is true, which reports new messages as above.
//
// Commands: CAPABILITY NOOP LOGOUT ID STARTTLS LOGIN AUTHENTICATE(PLAIN, SASL-IR or a
// continuation line) ENABLE NAMESPACE LIST LSUB STATUS SELECT EXAMINE CLOSE UNSELECT CHECK IDLE
// FETCH/UID FETCH (FLAGS UID INTERNALDATE RFC822.SIZE RFC822 RFC822.HEADER RFC822.TEXT ENVELOPE
// BODYSTRUCTURE BODY, BODY[section]<partial>/BODY.PEEK with part numbers, HEADER, HEADER.FIELDS
// [.NOT], TEXT and MIME, BINARY[part]<partial>/BINARY.PEEK/BINARY.SIZE with NO [UNKNOWN-CTE];
// see body_structure.h and envelope.h)
// SEARCH/UID SEARCH (every key, text keys exactly as search_eval.h describes; ESEARCH RETURN
// MIN MAX COUNT ALL SAVE), SEARCHRES `$` (RFC 5182: the saved result lives in the Snapshot, so
// SELECT/EXAMINE/CLOSE reset it), SORT/UID SORT (sort.h) and THREAD/UID THREAD REFERENCES and
// ORDEREDSUBJECT (thread.h) with keys from the cached message text (message_keys.h), STORE/UID
// STORE answered NO [CANNOT], or with SessionOptions::store_ok OK without effect (the
// unchanged FLAGS as untagged FETCH unless .SILENT).
//
// Thread safety: none; one Session per connection, driven by one thread. Backend calls block
// (database, blob store); login delays block in on_input() through `pause`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/base/result.h"
#include "indexer/substring_narrower.h"
#include "server-imap/protocol/command_parser.h"
#include "server-imap/protocol/command_reader.h"
#include "server-imap/protocol/limits.h"
#include "server-imap/protocol/response_writer.h"
#include "server-imap/session/login_guard.h"
#include "server-imap/session/mailbox_store.h"
#include "server-imap/session/mailbox_view.h"
#include "server-imap/session/text_match.h"

namespace mailvault::imapd {

// The exact archived bytes of a message, shared (they may also sit in the archive's body cache).
using MessageBytes = std::shared_ptr<const std::string>;

struct MailboxGrowth {
  std::vector<MessageEntry> added;  // UIDs ascending, all above the snapshot's highest
  std::uint32_t uidnext = 0;
};

// What a session needs from the archive. Implementations must be safe to call from several
// sessions' threads at once.
class SessionBackend {
 public:
  virtual ~SessionBackend() = default;
  // kUnauthenticated for a wrong name or password; other codes for infrastructure failures.
  virtual Result<Viewer> authenticate(std::string_view user, std::string_view password) = 0;
  virtual Result<std::vector<MailboxRef>> list(const Viewer& viewer) = 0;
  // nullopt when the viewer sees no such mailbox.
  virtual Result<std::optional<Snapshot>> open(const Viewer& viewer, std::string_view name) = 0;
  // The exact archived bytes of one message of the snapshot, recorded in the audit log (every
  // read of mail is audited); fails rather than serve unaudited bytes.
  virtual Result<MessageBytes> read_message(const Viewer& viewer, const Snapshot& mailbox,
                                            const MessageEntry& message) = 0;

  // The same for a message whose read audit_reads() has already recorded: no audit row of its
  // own. Default: read_message (which audits).
  virtual Result<MessageBytes> read_audited_message(const Viewer& viewer, const Snapshot& mailbox,
                                                    const MessageEntry& message) {
    return read_message(viewer, mailbox, message);
  }

  // read_audited_message may be called from another thread while the session's thread uses
  // the backend (FETCH reads bodies ahead: body_prefetcher.h). Default: false.
  [[nodiscard]] virtual bool reads_concurrently() const { return false; }

  // Records in the audit log, all at once, that `viewer` is about to read these messages of the
  // snapshot (a FETCH of many bodies costs one database commit, not one per message). Default:
  // nothing (read_audited_message then audits each read).
  virtual Status audit_reads(const Viewer& /*viewer*/, const Snapshot& /*mailbox*/,
                             const std::vector<const MessageEntry*>& /*messages*/) {
    return ok_status();
  }

  // The folded text SEARCH text keys match (text_match.h) of one message of the snapshot: from
  // the archive's search-text sidecar, never a MIME parse. Not audited per message (it
  // discloses nothing by itself). Default: kUnimplemented (SEARCH then answers NO).
  // The messages of `current`'s mailbox archived after the snapshot was taken (UIDs above its
  // highest, ascending) and the mailbox's UIDNEXT now. A message that becomes visible with a
  // UID below the snapshot's highest is left out (sequence numbers could not stay consistent);
  // the next SELECT shows it. Default: re-opens the mailbox by name and keeps the new tail.
  virtual Result<MailboxGrowth> newer(const Viewer& viewer, const Snapshot& current);

  virtual Result<std::shared_ptr<const SearchableMessage>> searchable(
      const MessageEntry& /*message*/) {
    return make_error(Code::kUnimplemented, "this backend has no message text for SEARCH");
  }

  // The header half of searchable() (text_match.h SearchableHeader), for the keys that only
  // read header fields and for TEXT on messages whose body cannot match. Default: made from
  // searchable().
  virtual Result<std::shared_ptr<const SearchableHeader>> searchable_header(
      const MessageEntry& message) {
    auto text = searchable(message);
    if (!text)
      return text.error();
    return std::make_shared<const SearchableHeader>(make_searchable_header(**text));
  }

  // The messages whose body text (or Subject/From/To/Cc/Bcc field) may contain `folded_needle`
  // (a superset of the matches, from the index: indexer/substring_narrower.h); nullopt when it
  // cannot say (then every message is checked). Default: nullopt.
  virtual std::optional<index::SubstringCandidates> text_candidates(
      index::TextField /*field*/, std::string_view /*folded_needle*/) {
    return std::nullopt;
  }
};

struct SessionOptions {
  // LOGIN and AUTHENTICATE PLAIN allowed before TLS on this connection (the server's
  // plaintext-auth rule: loopback connections only, or never).
  bool allow_plaintext = true;
  bool tls_available = false;  // STARTTLS may be offered (the server has a certificate)
  bool tls_active = false;     // encrypted from the first byte (implicit TLS)
  std::chrono::milliseconds failed_login_delay{2000};
  int max_failed_logins = 3;    // then BYE
  LoginGuard* guard = nullptr;  // server-wide login limits; nullptr: none
  std::string client_address;   // the key of the guard's failure count
  // Waits before a login answer; returns false when the wait was cut short (shutdown), and the
  // session then says BYE. Default: std::this_thread::sleep_for.
  std::function<bool(std::chrono::milliseconds)> pause;
  // STORE answers OK without changing anything (clients such as fetchmail insist on marking
  // messages seen); otherwise NO [CANNOT] like every other write.
  bool store_ok = false;
  // Threads that read (decompress, verify) the bodies of a multi-message FETCH ahead of the
  // session (body_prefetcher.h), when the backend reads_concurrently(); 0: the session reads.
  std::size_t fetch_threads = 2;
  Limits limits;
};

struct NotAuthenticated {};

struct Authenticated {
  Viewer viewer;
};

struct Selected {
  Viewer viewer;
  Snapshot mailbox;
};

struct LoggedOut {};

using State = std::variant<NotAuthenticated, Authenticated, Selected, LoggedOut>;

class Session {
 public:
  // send() writes bytes to the client and returns false when the connection is gone.
  using Send = std::function<bool(std::string_view)>;

  Session(SessionBackend& backend, SessionOptions options, Send send);

  // Sends the greeting ("* OK [CAPABILITY ...] mailvault ready").
  void start();

  // Processes bytes from the client, answering every complete command. Returns false when the
  // connection must be closed (LOGOUT, fatal reader error, too many failed logins, lost peer).
  bool on_input(std::string_view bytes);

  // The idle timeout expired: says BYE. The caller closes.
  void on_idle_timeout();

  // The server is shutting down: says BYE. The caller closes.
  void on_shutdown();

  // STARTTLS was accepted: the caller runs the TLS handshake now, then calls on_tls_started()
  // (or closes the connection when the handshake fails). Until then on_input() does nothing.
  [[nodiscard]] bool tls_requested() const noexcept { return tls_requested_; }

  void on_tls_started();

  // IDLE is in progress: the caller calls on_idle_poll() at its poll interval.
  [[nodiscard]] bool idling() const noexcept { return idle_tag_.has_value(); }

  // Reports messages archived into the selected mailbox since the last report (* N EXISTS).
  void on_idle_poll();

  [[nodiscard]] bool finished() const noexcept { return std::holds_alternative<LoggedOut>(state_); }

  [[nodiscard]] const State& state() const noexcept { return state_; }

  // The capability list for the current state (without "CAPABILITY").
  [[nodiscard]] std::string capabilities() const;

  using Handler = void (Session::*)(const Command&);

 private:
  void handle_command_text(const std::string& text);
  void handle_sasl_response(const std::string& line);
  void handle_idle_line(const std::string& line);
  bool login_allowed(const std::string& tag, std::string_view what);
  bool pause(std::chrono::milliseconds d);
  void report_new_messages();
  void finish_login(const std::string& tag, const std::string& user, const std::string& password,
                    std::string_view what);
  bool send(std::string_view bytes);

  bool send(ResponseWriter& w) { return send(w.take()); }

  void ok(const std::string& tag, std::string_view code, std::string_view text);
  void no(const std::string& tag, std::string_view code, std::string_view text);
  void bad(const std::string& tag, std::string_view text);
  const Viewer* viewer() const noexcept;
  SessionState session_state() const noexcept;

  // Handlers (the dispatch table in session.cc names them).
  void cmd_capability(const Command& c);
  void cmd_noop(const Command& c);
  void cmd_logout(const Command& c);
  void cmd_id(const Command& c);
  void cmd_login(const Command& c);
  void cmd_authenticate(const Command& c);
  void cmd_enable(const Command& c);
  void cmd_namespace(const Command& c);
  void cmd_list(const Command& c);
  void cmd_lsub(const Command& c);
  void cmd_status(const Command& c);
  void cmd_select(const Command& c);
  void cmd_close(const Command& c);
  void cmd_fetch(const Command& c);
  void cmd_search(const Command& c);
  void cmd_sort(const Command& c);
  void cmd_thread(const Command& c);
  void cmd_store(const Command& c);
  void cmd_starttls(const Command& c);
  void cmd_idle(const Command& c);

  void list_like(const Command& c, std::string_view reference,
                 const std::vector<std::string>& patterns, bool lsub);
  static Handler find_route(std::string_view name) noexcept;
  // The snapshot indexes matching `key`, or nullopt after answering NO.
  std::optional<std::vector<std::size_t>> run_search(const Command& c, const SearchKey& key);
  // The cached text (and SORT/THREAD keys) of these snapshot messages, or nullopt after
  // answering NO.
  std::optional<std::vector<std::shared_ptr<const SearchableMessage>>> load_texts(
      const Command& c, const std::vector<std::size_t>& indexes);

  SessionBackend& backend_;
  SessionOptions options_;
  Send send_;
  CommandReader reader_;
  State state_;
  int failed_logins_ = 0;
  std::optional<std::string> sasl_tag_;  // AUTHENTICATE waiting for its continuation line
  std::optional<std::string> idle_tag_;  // IDLE waiting for DONE
  std::optional<LoginGuard::Slot> user_slot_;
  bool tls_active_ = false;
  bool tls_requested_ = false;
  bool connection_lost_ = false;
};

// A mailbox name from the client (modified UTF-7) as UTF-8; the bytes unchanged when they are
// not valid modified UTF-7 (they then match no mailbox). Pure.
std::string decode_mailbox_name(std::string_view wire);

// SASL PLAIN (RFC 4616): base64 of [authzid] NUL authcid NUL passwd. nullopt when malformed or
// when authzid names someone other than authcid (no proxy logins). Pure.
struct PlainCredentials {
  std::string user;
  std::string password;
};

std::optional<PlainCredentials> decode_sasl_plain(std::string_view base64);

}  // namespace mailvault::imapd
