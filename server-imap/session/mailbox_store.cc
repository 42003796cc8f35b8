#include "server-imap/session/mailbox_store.h"

#include <algorithm>
#include <limits>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "core/pg/pool.h"

namespace mailvault::imapd {

namespace {

// The visibility rule of mailbox_view.h, as a predicate on `m` (messages). $1: users.id,
// $2: sees everything. Both EXISTS use indexes (message_addresses_message, placements_message_id).
constexpr std::string_view kVisible = R"sql(
  ($2::boolean
   OR EXISTS (SELECT 1 FROM message_addresses ma
              JOIN user_addresses ua ON ua.address = ma.address
              WHERE ua.user_id = $1 AND ma.message_id = m.id)
   OR EXISTS (SELECT 1 FROM placements vp
              JOIN accounts va ON va.id = vp.account_id
              JOIN user_accounts vu ON vu.account_name = va.name
              WHERE vu.user_id = $1 AND vp.message_id = m.id)))sql";

constexpr std::string_view kEpoch = "floor(extract(epoch from {}))::bigint";

std::string epoch(std::string_view column) {
  std::string s{kEpoch};
  s.replace(s.find("{}"), 2, column);
  return s;
}

constexpr std::int64_t kMaxUid = std::numeric_limits<std::uint32_t>::max();

// Rows: uid, message id, size, internal date, flags, sent date.
std::vector<MessageEntry> to_entries(const pqxx::result& rows) {
  std::vector<MessageEntry> out;
  out.reserve(rows.size());
  std::size_t skipped = 0;
  for (const auto& r : rows) {
    const auto uid = r[0].as<std::int64_t>();
    if (uid <= 0 || uid > kMaxUid) {
      ++skipped;
      continue;
    }
    MessageEntry e;
    e.uid = Uid{static_cast<std::uint32_t>(uid)};
    e.id = MessageId{r[1].as<std::int64_t>()};
    e.size = static_cast<std::uint64_t>(r[2].as<std::int64_t>());
    e.internal_date = r[3].is_null() ? 0 : r[3].as<std::int64_t>();
    e.flags = parse_flags(r[4].is_null() ? std::string_view{} : r[4].c_str());
    if (!r[5].is_null())
      e.sent_date = r[5].as<std::int64_t>();
    if (!r[6].is_null())
      e.sent_zone_minutes = r[6].as<std::int32_t>();
    out.push_back(std::move(e));
  }
  if (skipped > 0)
    spdlog::warn("imap: {} messages have ids beyond 32-bit UIDs and are not shown", skipped);
  normalise(out);
  return out;
}

// UIDNEXT of a view: one above the highest id its UIDs are drawn from (messages for All Mail,
// placements for folder views). Every view of a kind shares it, so it is cheap to ask.
std::string_view next_uid_sql(MailboxRef::Kind kind) {
  return kind == MailboxRef::Kind::kAllMail ? "SELECT coalesce(max(id), 0) + 1 FROM messages"
                                            : "SELECT coalesce(max(id), 0) + 1 FROM placements";
}

std::uint32_t clamp_uid(std::int64_t v) {
  return static_cast<std::uint32_t>(std::min<std::int64_t>(v, kMaxUid));
}

}  // namespace

Result<std::uint32_t> MailboxStore::uidnext(const MailboxRef& ref) {
  return pg::read(pool_, "imap_uidnext", [&](pqxx::read_transaction& tx) {
    return clamp_uid(tx.exec(std::string{next_uid_sql(ref.kind)})[0][0].as<std::int64_t>());
  });
}

Result<std::uint32_t> MailboxStore::uidvalidity() {
  std::lock_guard lock(mu_);
  if (uidvalidity_)
    return *uidvalidity_;
  auto v = pg::read(pool_, "imap_uidvalidity", [](pqxx::read_transaction& tx) {
    auto r = tx.exec("SELECT uidvalidity FROM imap_uidvalidity");
    return r.empty() ? std::int64_t{0} : r[0][0].as<std::int64_t>();
  });
  if (!v)
    return v.error();
  if (*v <= 0 || *v > kMaxUid)
    return make_error(Code::kFailedPrecondition, "imap_uidvalidity holds no valid UIDVALIDITY");
  uidvalidity_ = static_cast<std::uint32_t>(*v);
  return *uidvalidity_;
}

Result<std::vector<MailboxRef>> MailboxStore::list(const Viewer& viewer) {
  const std::string sql = std::string{R"sql(
    SELECT DISTINCT a.name, p.folder, p.account_id IS NULL
    FROM placements p
    JOIN messages m ON m.id = p.message_id
    LEFT JOIN accounts a ON a.id = p.account_id
    WHERE (p.account_id IS NOT NULL OR p.source = 'import') AND )sql"} +
                          std::string{kVisible};
  auto refs = pg::read(pool_, "imap_list", [&](pqxx::read_transaction& tx) {
    std::vector<MailboxRef> out;
    out.push_back(MailboxRef{});
    for (const auto& r : tx.exec_params(sql, viewer.user_id, viewer.sees_everything)) {
      MailboxRef ref;
      if (r[2].as<bool>()) {
        ref.kind = MailboxRef::Kind::kImportFolder;
      } else {
        ref.kind = MailboxRef::Kind::kAccountFolder;
        ref.account = r[0].c_str();
      }
      ref.folder = r[1].c_str();
      if (ref.kind == MailboxRef::Kind::kAccountFolder && ref.folder.empty())
        continue;  // `<account>/` is not a name; such mail is in All Mail only
      out.push_back(std::move(ref));
    }
    return out;
  });
  if (!refs)
    return refs.error();
  std::sort(refs->begin() + 1, refs->end(), [](const MailboxRef& a, const MailboxRef& b) {
    return mailbox_name(a) < mailbox_name(b);
  });
  refs->erase(std::unique(refs->begin() + 1, refs->end()), refs->end());
  return refs;
}

Result<Snapshot> MailboxStore::load(const Viewer& viewer, const MailboxRef& ref) {
  auto validity = uidvalidity();
  if (!validity)
    return validity.error();
  std::string sql;
  if (ref.kind == MailboxRef::Kind::kAllMail) {
    // In All Mail the INTERNALDATE and flags are those of the message's first placement.
    sql = "SELECT m.id, m.id, m.size, " + epoch("coalesce(fp.internal_date, m.archived_at)") +
          ", fp.flags, " + epoch("m.date_header") + R"sql(, m.date_zone_minutes
      FROM messages m
      LEFT JOIN LATERAL (SELECT p.internal_date, p.flags FROM placements p
                         WHERE p.message_id = m.id ORDER BY p.id LIMIT 1) fp ON true
      WHERE )sql" +
          std::string{kVisible};
  } else {
    const std::string where =
        ref.kind == MailboxRef::Kind::kAccountFolder
            ? "p.account_id IN (SELECT id FROM accounts WHERE name = $3) AND p.folder = $4"
            : "p.account_id IS NULL AND p.source = 'import' AND $3::text = '' AND p.folder "
              "= $4";  // $3 = ''
    sql = "SELECT DISTINCT ON (p.message_id) p.id, m.id, m.size, " +
          epoch("coalesce(p.internal_date, m.archived_at)") + ", p.flags, " +
          epoch("m.date_header") +
          ", m.date_zone_minutes FROM placements p JOIN messages m ON m.id = p.message_id" +
          " WHERE " + where + " AND " + std::string{kVisible} + " ORDER BY p.message_id, p.id";
  }
  auto snap = pg::read(pool_, "imap_open", [&](pqxx::read_transaction& tx) {
    Snapshot s;
    s.ref = ref;
    s.name = mailbox_name(ref);
    s.messages = to_entries(
        ref.kind == MailboxRef::Kind::kAllMail
            ? tx.exec_params(sql, viewer.user_id, viewer.sees_everything)
            : tx.exec_params(sql, viewer.user_id, viewer.sees_everything, ref.account, ref.folder));
    s.uidnext = clamp_uid(tx.exec(std::string{next_uid_sql(ref.kind)})[0][0].as<std::int64_t>());
    return s;
  });
  if (!snap)
    return snap.error();
  snap->uidvalidity = *validity;
  if (!snap->messages.empty() && to_int(snap->max_uid()) >= snap->uidnext)
    snap->uidnext = to_int(snap->max_uid()) + 1;  // ids committed after max() was read
  return snap;
}

Result<std::optional<Snapshot>> MailboxStore::open(const Viewer& viewer, std::string_view name) {
  for (const auto& ref : parse_mailbox_name(name)) {
    auto s = load(viewer, ref);
    if (!s)
      return s.error();
    if (ref.kind == MailboxRef::Kind::kAllMail || !s->messages.empty())
      return std::optional<Snapshot>{std::move(*s)};
  }
  return std::optional<Snapshot>{};
}

}  // namespace mailvault::imapd
