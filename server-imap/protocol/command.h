// Typed IMAP commands: one struct per command, gathered in the Command variant that
// parse_command() (command_parser.h) produces. Pure values; strings are bytes as the client
// sent them (mailbox names still in modified UTF-7 unless UTF8=ACCEPT is enabled; see core/base/mutf7.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "server-imap/protocol/search_keys.h"
#include "server-imap/protocol/sequence_set.h"

namespace mailvault::imapd {

// ─── Any state ───────────────────────────────────────────────────────────────────────────────

struct CapabilityCommand {};

struct NoopCommand {};

struct LogoutCommand {};

// RFC 2971: `ID NIL` (params empty) or `ID ("name" "value" ...)`; a NIL value is nullopt.
struct IdCommand {
  std::vector<std::pair<std::string, std::optional<std::string>>> params;
};

// ─── Not authenticated ───────────────────────────────────────────────────────────────────────

struct StarttlsCommand {};

// AUTHENTICATE mechanism [initial-response] (RFC 4959 SASL-IR). The mechanism is upper-cased.
// initial_response is the base64 text as sent; "=" (an empty response) is returned as "".
struct AuthenticateCommand {
  std::string mechanism;
  std::optional<std::string> initial_response;
};

struct LoginCommand {
  std::string user;
  std::string password;
};

// ─── Authenticated ───────────────────────────────────────────────────────────────────────────

// RFC 5161; capability names upper-cased.
struct EnableCommand {
  std::vector<std::string> capabilities;
};

struct NamespaceCommand {};

// SELECT/EXAMINE parameters (RFC 4466 select-param): names upper-cased, values skipped.
struct SelectCommand {
  std::string mailbox;
  std::vector<std::string> params;
};

struct ExamineCommand {
  std::string mailbox;
  std::vector<std::string> params;
};

enum class StatusItem : std::uint8_t {
  kMessages,
  kRecent,
  kUidNext,
  kUidValidity,
  kUnseen,
  kSize,     // RFC 8438
  kDeleted,  // RFC 9051
};

// LIST [(selection options)] reference pattern [RETURN (return options)] (RFC 5258, 6154).
// Options are upper-cased atoms (SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE; CHILDREN,
// SUBSCRIBED, SPECIAL-USE, STATUS). `LIST "" ""` has one empty pattern.
struct ListCommand {
  std::vector<std::string> selection_options;
  std::string reference;
  std::vector<std::string> patterns;  // one, or several with LIST-EXTENDED
  std::vector<std::string> return_options;
  std::vector<StatusItem> return_status;  // RETURN (STATUS (...)), RFC 5819
};

struct LsubCommand {
  std::string reference;
  std::string pattern;
};

struct StatusCommand {
  std::string mailbox;
  std::vector<StatusItem> items;
};

// IDLE; the session then reads lines until is_idle_done() (command_parser.h).
struct IdleCommand {};

// ─── Selected ────────────────────────────────────────────────────────────────────────────────

struct CloseCommand {};

struct UnselectCommand {};

struct CheckCommand {};

// A BODY[...] / BINARY[...] section: part numbers ("1.2" is {1, 2}; empty for the whole
// message) and what of that part.
struct Section {
  enum class Text : std::uint8_t {
    kNone,             // BODY[] / BODY[1.2]: the whole part
    kHeader,           // HEADER
    kHeaderFields,     // HEADER.FIELDS (fields)
    kHeaderFieldsNot,  // HEADER.FIELDS.NOT (fields)
    kText,             // TEXT
    kMime,             // MIME (only after a part number)
  };
  std::vector<std::uint32_t> part;
  Text text = Text::kNone;
  std::vector<std::string> fields;  // upper-cased header field names
  friend bool operator==(const Section&, const Section&) = default;
};

// <offset.length> of BODY[...]<o.l> and BINARY[...]<o.l>.
struct Partial {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;  // > 0
  friend bool operator==(const Partial&, const Partial&) = default;
};

struct FetchItem {
  enum class Kind : std::uint8_t {
    kFlags,
    kInternalDate,
    kRfc822Size,
    kEnvelope,
    kBodyStructure,
    kBody,  // BODY without a section: the non-extensible BODYSTRUCTURE
    kUid,
    kRfc822,        // = BODY[] (and sets \Seen on a writable mailbox)
    kRfc822Header,  // = BODY.PEEK[HEADER]
    kRfc822Text,    // = BODY[TEXT]
    kBodySection,   // BODY[section]<partial>, BODY.PEEK[...]
    kBinary,        // BINARY[part]<partial>, BINARY.PEEK[...] (RFC 3516)
    kBinarySize,    // BINARY.SIZE[part]
  };
  Kind kind = Kind::kFlags;
  bool peek = false;  // BODY.PEEK / BINARY.PEEK
  Section section;
  std::optional<Partial> partial;
  friend bool operator==(const FetchItem&, const FetchItem&) = default;
};

// The name under which a FETCH response returns an item: "BODY[HEADER.FIELDS (DATE FROM)]",
// "BODY[]<0>" (the partial's origin only), "BINARY.SIZE[1]", "RFC822.SIZE"; never ".PEEK".
std::string response_name(const FetchItem& item);

// FETCH set (items) / FETCH set ALL|FAST|FULL|item. Macros are expanded: ALL = FLAGS
// INTERNALDATE RFC822.SIZE ENVELOPE; FAST = FLAGS INTERNALDATE RFC822.SIZE; FULL = ALL BODY.
// The set is of UIDs in UID FETCH (and then the UID item is not added: the session does it).
struct FetchCommand {
  SequenceSet set;
  std::vector<FetchItem> items;
};

struct SearchCommand {
  SearchProgram program;
};

// RFC 5256 sort-key (RFC 5957 DISPLAYFROM/DISPLAYTO too).
struct SortCriterion {
  enum class Key : std::uint8_t {
    kArrival,
    kCc,
    kDate,
    kFrom,
    kSize,
    kSubject,
    kTo,
    kDisplayFrom,
    kDisplayTo
  };
  Key key = Key::kArrival;
  bool reverse = false;
  friend bool operator==(const SortCriterion&, const SortCriterion&) = default;
};

struct SortCommand {
  std::vector<SortCriterion> criteria;
  SearchProgram program;  // charset always set
};

struct ThreadCommand {
  enum class Algorithm : std::uint8_t { kOrderedSubject, kReferences };
  Algorithm algorithm = Algorithm::kReferences;
  SearchProgram program;  // charset always set
};

// ─── Commands that would change mail (refused: NO [CANNOT]) ──────────────────────────────────

// APPEND mailbox [flags] [date-time] literal. With the default limits the literal is refused
// by the CommandReader at its announcement, so this is only parsed for small non-synchronising
// literals.
struct AppendCommand {
  std::string mailbox;
  std::vector<std::string> flags;
  std::optional<std::string> date_time;
  std::uint64_t size = 0;
};

struct CopyCommand {
  SequenceSet set;
  std::string mailbox;
};

struct MoveCommand {
  SequenceSet set;
  std::string mailbox;
};

// EXPUNGE, and UID EXPUNGE set (RFC 4315) with the set.
struct ExpungeCommand {
  std::optional<SequenceSet> uids;
};

struct CreateCommand {
  std::string mailbox;
};

struct DeleteCommand {
  std::string mailbox;
};

struct RenameCommand {
  std::string from;
  std::string to;
};

// STORE set [+|-]FLAGS[.SILENT] flags.
struct StoreCommand {
  enum class Mode : std::uint8_t { kReplace, kAdd, kRemove };
  SequenceSet set;
  Mode mode = Mode::kReplace;
  bool silent = false;
  std::vector<std::string> flags;
};

struct SubscribeCommand {
  std::string mailbox;
};

struct UnsubscribeCommand {
  std::string mailbox;
};

using CommandArgs =
    std::variant<CapabilityCommand, NoopCommand, LogoutCommand, IdCommand, StarttlsCommand,
                 AuthenticateCommand, LoginCommand, EnableCommand, NamespaceCommand, SelectCommand,
                 ExamineCommand, ListCommand, LsubCommand, StatusCommand, IdleCommand, CloseCommand,
                 UnselectCommand, CheckCommand, FetchCommand, SearchCommand, SortCommand,
                 ThreadCommand, AppendCommand, CopyCommand, MoveCommand, ExpungeCommand,
                 CreateCommand, DeleteCommand, RenameCommand, StoreCommand, SubscribeCommand,
                 UnsubscribeCommand>;

}  // namespace mailvault::imapd
