#include "core/archive/archive.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "core/base/log.h"
#include "core/crypto/digest.h"
#include "core/mime/parse.h"
#include "core/mime/search_text.h"
#include "core/pg/pool.h"

#include <nlohmann/json.hpp>

namespace mailvault {
namespace {

std::string join_addresses(const std::vector<mime::Address>& list) {
  std::string out;
  for (const auto& a : list) {
    if (!out.empty())
      out += ", ";
    if (!a.name.empty()) {
      out += a.name;
      if (!a.email.empty())
        out += " <" + a.email + ">";
    } else {
      out += a.email;
    }
  }
  return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty())
      out += '\n';
    out += l;
  }
  return out;
}

// PostgreSQL text cannot hold NUL; everything we store is UTF-8 from core/mime otherwise.
std::string pg_text(std::string_view s, std::size_t max = 8192) {
  std::string out{s.substr(0, max)};
  std::erase(out, '\0');
  // Do not cut a UTF-8 sequence in half.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80 &&
         out.size() == max) {
    out.pop_back();
  }
  if (!out.empty() && out.size() == max && (static_cast<unsigned char>(out.back()) & 0x80) != 0) {
    out.pop_back();
  }
  return out;
}

// Lower-cased e-mail addresses of From, Sender, To, Cc and Bcc (who may see the message).
nlohmann::json message_addresses(const mime::ParsedMessage& m) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto* list : {&m.from, &m.sender, &m.to, &m.cc, &m.bcc}) {
    for (const auto& a : *list) {
      if (a.email.empty() || a.email.find('@') == std::string::npos || a.email.size() > 320)
        continue;
      std::string e = a.email;
      for (auto& c : e)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.push_back(pg_text(e, 320));
    }
  }
  return out;
}

}  // namespace

Archive::Archive(pg::Pool& pool, BlobStore& blobs, ThreadPool* workers, ArchiveOptions options)
    : pool_(pool),
      blobs_(blobs),
      workers_(workers),
      options_(options),
      bodies_(options.body_cache_bytes, ByteLruCache<std::string>::Admission::kSecondRequest) {}

Result<StoreOutcome> Archive::store(std::string_view raw, const Placement& placement) {
  auto batch = store_batch({StoreItem{raw, placement}});
  if (!batch)
    return batch.error();
  return std::move((*batch)[0]);
}

Result<std::vector<Result<StoreOutcome>>> Archive::store_batch(const std::vector<StoreItem>& items,
                                                               const Checkpoint* checkpoint) {
  if (checkpoint != nullptr && !checkpoint->uidls.empty() &&
      checkpoint->uidls.size() != items.size()) {
    return make_error(Code::kInvalidArgument, "checkpoint UIDLs must be parallel to the items");
  }
  auto prepared = prepare_batch(items);
  if (!prepared)
    return prepared.error();
  return commit_batch(std::move(*prepared), checkpoint);
}

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

}  // namespace

Result<PreparedBatch> Archive::prepare_batch(std::vector<StoreItem> items_in) {
  const auto t0 = Clock::now();
  double t_known = 0;
  double t_write = 0;
  PreparedBatch batch;
  batch.items = std::move(items_in);
  const auto& items = batch.items;
  auto& prep = batch.messages;
  prep.resize(items.size());
  // 1. Hash (and validate) every message.
  auto hash_one = [&](std::size_t i) {
    const auto raw = items[i].raw;
    if (raw.empty()) {
      prep[i].error = make_error(Code::kInvalidArgument, "empty message");
    } else if (raw.size() > options_.max_message_size) {
      prep[i].error = make_error(Code::kResourceExhausted,
                                 fmt::format("message is {} bytes, over the limit of {}",
                                             raw.size(), options_.max_message_size));
    } else {
      prep[i].sha_hex = crypto::to_hex(crypto::sha256(raw));
    }
  };
  if (workers_ != nullptr) {
    workers_->parallel_for(items.size(), hash_one);
  } else {
    for (std::size_t i = 0; i < items.size(); ++i)
      hash_one(i);
  }

  // 2. Which are known already? Known messages are neither parsed nor written again.
  std::string hex_list;
  for (const auto& p : prep) {
    if (p.error || p.sha_hex.empty())
      continue;
    if (!hex_list.empty())
      hex_list += ',';
    hex_list += p.sha_hex;
  }
  auto phase = Clock::now();
  if (!hex_list.empty()) {
    auto known = pg::read(pool_, "archive_known", [&](pqxx::read_transaction& tx) {
      std::vector<std::string> out;
      for (const auto& row : tx.exec_params(
               "SELECT encode(sha256, 'hex') FROM messages WHERE sha256 = ANY (SELECT decode(x, "
               "'hex') FROM unnest(string_to_array($1, ',')) AS x)",
               hex_list)) {
        out.push_back(row[0].as<std::string>());
      }
      return out;
    });
    if (!known)
      return known.error();
    const std::unordered_set<std::string> known_set(known->begin(), known->end());
    for (auto& p : prep)
      p.exists = known_set.count(p.sha_hex) != 0;
  }

  t_known = ms_since(phase);
  phase = Clock::now();
  // 3. Parse and write blobs of the new ones, in parallel.
  std::vector<std::optional<Error>> blob_errors(items.size());
  auto write_one = [&](std::size_t i) {
    auto& p = prep[i];
    if (p.error || p.exists)
      return;
    p.parsed = mime::parse_message(items[i].raw);
    // The sidecar travels in the blob's own file: one inode per message, not two (inode
    // allocation was the largest single cost of a batch).
    auto put = blobs_.put_with_companion(
        p.sha_hex, items[i].raw, mime::encode_search_text(p.parsed), BlobStore::Sync::kDeferred);
    if (!put) {
      blob_errors[i] = put.error();
      return;
    }
    p.blob_bytes = put->stored_bytes;
  };
  if (workers_ != nullptr) {
    workers_->parallel_for(items.size(), write_one);
  } else {
    for (std::size_t i = 0; i < items.size(); ++i)
      write_one(i);
  }
  t_write = ms_since(phase);
  phase = Clock::now();
  bool wrote = false;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (blob_errors[i])
      return *blob_errors[i];  // storage trouble: nothing committed; retry is safe
    wrote = wrote || (!prep[i].error && !prep[i].exists);
  }
  // The rows must never point at blobs a crash could still lose.
  if (wrote) {
    if (auto st = blobs_.sync(); !st)
      return st.error();
  }

  spdlog::debug(
      "prepare_batch: {} messages in {:.1f} ms (known {:.1f}, parse+write {:.1f}, sync "
      "{:.1f})",
      items.size(), ms_since(t0), t_known, t_write, ms_since(phase));
  return batch;
}

Result<std::vector<Result<StoreOutcome>>> Archive::commit_batch(PreparedBatch&& batch,
                                                                const Checkpoint* checkpoint) {
  const auto& items = batch.items;
  const auto& prep = batch.messages;
  if (checkpoint != nullptr && !checkpoint->uidls.empty() &&
      checkpoint->uidls.size() != items.size()) {
    return make_error(Code::kInvalidArgument, "checkpoint UIDLs must be parallel to the items");
  }
  const auto phase = Clock::now();
  // 4. One transaction for every row, in three statements whatever the batch size (rows travel
  //    as one JSON parameter): new messages + their queue entries, the ids of all, placements.
  nlohmann::json new_rows = nlohmann::json::array();
  std::vector<bool> first_in_batch(items.size(), false);
  {
    std::vector<std::string> seen;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& p = prep[i];
      if (p.error)
        continue;
      if (std::find(seen.begin(), seen.end(), p.sha_hex) != seen.end())
        continue;
      seen.push_back(p.sha_hex);
      first_in_batch[i] = true;
      if (p.exists)
        continue;
      const auto& m = p.parsed;
      new_rows.push_back({{"sha", p.sha_hex},
                          {"size", items[i].raw.size()},
                          {"blob_bytes", p.blob_bytes},
                          {"mid", pg_text(m.message_id, 2048)},
                          {"subject", pg_text(m.subject)},
                          {"from_addr", pg_text(join_addresses(m.from))},
                          {"to_addr", pg_text(join_addresses(m.to))},
                          {"cc_addr", pg_text(join_addresses(m.cc))},
                          {"date", m.date ? nlohmann::json(*m.date) : nlohmann::json()},
                          {"zone", m.date ? nlohmann::json(m.date_zone_minutes) : nlohmann::json()},
                          {"irt", pg_text(m.in_reply_to, 2048)},
                          {"has_att", m.has_attachments},
                          {"problems", pg_text(join_lines(m.problems))},
                          {"addrs", message_addresses(m)}});
    }
  }
  auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  auto committed = pg::write(pool_, "archive_store", [&](pqxx::work& tx) {
    std::unordered_map<std::string, std::int64_t> inserted;  // sha -> id, stored by this batch
    std::unordered_map<std::string, std::int64_t> ids;  // sha -> id, every message of the batch
    if (!new_rows.empty()) {
      for (const auto& row : tx.exec_params(
               "WITH input AS (SELECT * FROM json_to_recordset($1::json) AS x(sha text, size "
               "bigint, "
               "blob_bytes bigint, mid text, subject text, from_addr text, to_addr text, cc_addr "
               "text, "
               "date bigint, zone int, irt text, has_att boolean, problems text, addrs json)), "
               "ins AS (INSERT INTO messages (sha256, size, blob_bytes, header_message_id, "
               "subject, "
               "from_addr, to_addr, cc_addr, date_header, date_zone_minutes, in_reply_to, "
               "has_attachments, parse_problems) "
               "SELECT decode(sha, 'hex'), size, blob_bytes, mid, subject, from_addr, to_addr, "
               "cc_addr, "
               "to_timestamp(date), zone, irt, has_att, problems FROM input "
               "ON CONFLICT (sha256) DO NOTHING RETURNING id, sha256), "
               "queued AS (INSERT INTO index_queue (message_id) SELECT id FROM ins ORDER BY id), "
               "addressed AS (INSERT INTO message_addresses (address, message_id) SELECT DISTINCT "
               "a, ins.id FROM ins JOIN input ON decode(input.sha, 'hex') = ins.sha256, "
               "json_array_elements_text(input.addrs) AS a ON CONFLICT DO NOTHING) "
               "SELECT encode(sha256, 'hex'), id FROM ins",
               dump(new_rows))) {
        inserted.emplace(row[0].as<std::string>(), row[1].as<std::int64_t>());
      }
    }
    std::string all;
    for (const auto& p : prep) {
      if (p.error)
        continue;
      if (!all.empty())
        all += ',';
      all += p.sha_hex;
    }
    if (!all.empty()) {
      for (const auto& row : tx.exec_params("SELECT encode(sha256, 'hex'), id FROM messages WHERE "
                                            "sha256 = ANY (SELECT decode(x, "
                                            "'hex') FROM unnest(string_to_array($1, ',')) AS x)",
                                            all)) {
        ids.emplace(row[0].as<std::string>(), row[1].as<std::int64_t>());
      }
    }
    if (checkpoint != nullptr) {
      // Fencing first: a worker that lost the account's lease commits nothing.
      auto held = tx.exec_params(
          "UPDATE accounts SET lease_expires_at = GREATEST(lease_expires_at, now() + interval "
          "'30 seconds') WHERE id = $1 AND lease_owner = $2 AND removed_at IS NULL RETURNING id",
          checkpoint->account_id, checkpoint->lease_owner);
      if (held.empty()) {
        throw pg::Abort(Code::kAborted,
                        fmt::format("lease on account {} lost by worker {}", checkpoint->account_id,
                                    checkpoint->lease_owner));
      }
    }
    nlohmann::json placement_rows = nlohmann::json::array();
    nlohmann::json uidl_rows = nlohmann::json::array();
    std::vector<Result<StoreOutcome>> outcomes;
    outcomes.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& p = prep[i];
      if (p.error) {
        outcomes.emplace_back(*p.error);
        continue;
      }
      auto id = ids.find(p.sha_hex);
      if (id == ids.end()) {
        throw std::runtime_error("message " + p.sha_hex + " vanished during its own transaction");
      }
      StoreOutcome out;
      out.sha256_hex = p.sha_hex;
      out.id = MessageId{id->second};
      if (first_in_batch[i] && inserted.count(p.sha_hex) != 0) {
        out.kind = StoreOutcome::Kind::kStored;
        out.message_id = p.parsed.message_id;
        out.problems = p.parsed.problems;
      } else {
        out.kind = StoreOutcome::Kind::kDuplicate;
      }
      const auto& pl = items[i].placement;
      placement_rows.push_back(
          {{"id", id->second},
           {"source", pg_text(pl.source, 512)},
           {"folder", pg_text(pl.folder, 1024)},
           {"location", pg_text(pl.location, 4096)},
           {"idate", pl.internal_date ? nlohmann::json(*pl.internal_date) : nlohmann::json()},
           {"flags", pg_text(pl.flags, 1024)},
           {"account", pl.account_id != 0 ? nlohmann::json(pl.account_id) : nlohmann::json()},
           {"uidvalidity", pl.uidvalidity ? nlohmann::json(*pl.uidvalidity) : nlohmann::json()},
           {"uid", pl.uid ? nlohmann::json(*pl.uid) : nlohmann::json()}});
      if (checkpoint != nullptr && !checkpoint->uidls.empty() && !checkpoint->uidls[i].empty()) {
        uidl_rows.push_back({{"uidl", pg_text(checkpoint->uidls[i], 512)}, {"id", id->second}});
      }
      outcomes.emplace_back(std::move(out));
    }
    if (!placement_rows.empty()) {
      tx.exec_params0(
          "INSERT INTO placements (message_id, source, folder, location, internal_date, flags, "
          "account_id, uidvalidity, uid) "
          "SELECT id, source, folder, location, to_timestamp(idate), flags, account, uidvalidity, "
          "uid FROM json_to_recordset($1::json) AS x(id bigint, source text, folder text, "
          "location text, idate bigint, flags text, account bigint, uidvalidity bigint, uid "
          "bigint) ON CONFLICT (source, folder, location, message_id) DO NOTHING",
          dump(placement_rows));
    }
    if (checkpoint != nullptr) {
      if (checkpoint->folder_id != 0) {
        auto moved = tx.exec_params(
            "UPDATE account_folders SET last_uid = GREATEST(last_uid, $3), messages_archived = "
            "messages_archived + $4, last_synced_at = now() WHERE id = $1 AND uidvalidity = $2 "
            "RETURNING id",
            checkpoint->folder_id, static_cast<std::int64_t>(checkpoint->uidvalidity),
            static_cast<std::int64_t>(checkpoint->last_uid),
            static_cast<std::int64_t>(placement_rows.size()));
        if (moved.empty()) {
          throw pg::Abort(Code::kAborted,
                          fmt::format("folder {} no longer has UIDVALIDITY {}",
                                      checkpoint->folder_id, checkpoint->uidvalidity));
        }
      }
      if (!uidl_rows.empty()) {
        tx.exec_params0(
            "INSERT INTO pop3_uidls (account_id, uidl, message_id) SELECT $1, uidl, id FROM "
            "json_to_recordset($2::json) AS x(uidl text, id bigint) ON CONFLICT DO NOTHING",
            checkpoint->account_id, dump(uidl_rows));
      }
    }
    return outcomes;
  });
  if (!committed)
    return committed.error();
  spdlog::debug("commit_batch: {} messages, transaction {:.1f} ms", items.size(), ms_since(phase));
  return std::move(*committed);
}

Result<std::optional<MessageId>> Archive::find_by_sha256(std::string_view sha256_hex) {
  crypto::Sha256 digest{};
  if (!crypto::from_hex(sha256_hex, digest)) {
    return make_error(Code::kInvalidArgument, "sha256 must be 64 hex digits");
  }
  return pg::read(
      pool_, "archive_find_sha", [&](pqxx::read_transaction& tx) -> std::optional<MessageId> {
        auto r = tx.exec_params("SELECT id FROM messages WHERE sha256 = decode($1, 'hex')",
                                crypto::to_hex(digest));
        if (r.empty())
          return std::nullopt;
        return MessageId{r[0][0].as<std::int64_t>()};
      });
}

namespace {

std::vector<std::string> split_unit(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty())
    return out;
  std::size_t start = 0;
  for (;;) {
    const auto end = s.find('\x1f', start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<std::vector<MessageMeta>> Archive::metas(const std::vector<MessageId>& ids) {
  std::string list;
  for (auto id : ids) {
    if (!list.empty())
      list += ',';
    list += std::to_string(to_int(id));
  }
  return pg::read(pool_, "archive_metas", [&](pqxx::read_transaction& tx) {
    std::vector<MessageMeta> out;
    if (list.empty())
      return out;
    for (const auto& row : tx.exec_params(
             "SELECT m.id, encode(m.sha256, 'hex'), m.size, extract(epoch FROM "
             "m.archived_at)::bigint, "
             "coalesce(string_agg(DISTINCT p.source, E'\\x1f'), ''), "
             "coalesce(string_agg(DISTINCT p.folder, E'\\x1f'), '') "
             "FROM messages m LEFT JOIN placements p ON p.message_id = m.id "
             "WHERE m.id = ANY (string_to_array($1, ',')::bigint[]) GROUP BY m.id ORDER BY m.id",
             list)) {
      MessageMeta m;
      m.id = MessageId{row[0].as<std::int64_t>()};
      m.sha256_hex = row[1].as<std::string>();
      m.size = row[2].as<std::uint64_t>();
      m.archived_at = row[3].as<std::int64_t>();
      m.accounts = split_unit(row[4].as<std::string>());
      m.folders = split_unit(row[5].as<std::string>());
      out.push_back(std::move(m));
    }
    return out;
  });
}

Result<MessageMeta> Archive::meta(MessageId id) {
  auto r = metas({id});
  if (!r)
    return r.error();
  if (r->empty())
    return make_error(Code::kNotFound, fmt::format("no message with id {}", to_int(id)));
  return std::move(r->front());
}

Result<std::vector<MessageRow>> Archive::rows(const std::vector<MessageId>& ids) {
  std::string list;
  for (auto id : ids) {
    if (!list.empty())
      list += ',';
    list += std::to_string(to_int(id));
  }
  auto found = pg::read(pool_, "archive_rows", [&](pqxx::read_transaction& tx) {
    std::vector<MessageRow> out;
    if (list.empty())
      return out;
    for (const auto& row : tx.exec_params(
             "SELECT id, encode(sha256, 'hex'), header_message_id, subject, from_addr, to_addr, "
             "cc_addr, extract(epoch FROM date_header)::bigint, "
             "extract(epoch FROM archived_at)::bigint, size, has_attachments, parse_problems "
             "FROM messages WHERE id = ANY (string_to_array($1, ',')::bigint[])",
             list)) {
      MessageRow m;
      m.id = MessageId{row[0].as<std::int64_t>()};
      m.sha256_hex = row[1].as<std::string>();
      m.message_id = row[2].as<std::string>();
      m.subject = row[3].as<std::string>();
      m.from = row[4].as<std::string>();
      m.to = row[5].as<std::string>();
      m.cc = row[6].as<std::string>();
      if (!row[7].is_null())
        m.date = row[7].as<std::int64_t>();
      m.archived_at = row[8].as<std::int64_t>();
      m.size = row[9].as<std::uint64_t>();
      m.has_attachments = row[10].as<bool>();
      const auto problems = row[11].as<std::string>();
      std::size_t start = 0;
      while (start < problems.size()) {
        auto end = problems.find('\n', start);
        if (end == std::string::npos)
          end = problems.size();
        m.problems.push_back(problems.substr(start, end - start));
        start = end + 1;
      }
      out.push_back(std::move(m));
    }
    return out;
  });
  if (!found)
    return found.error();
  std::unordered_map<std::int64_t, MessageRow*> by_id;
  for (auto& m : *found)
    by_id.emplace(to_int(m.id), &m);
  std::vector<MessageRow> ordered;
  ordered.reserve(found->size());
  for (auto id : ids) {
    if (auto it = by_id.find(to_int(id)); it != by_id.end())
      ordered.push_back(*it->second);
  }
  return ordered;
}

Result<std::vector<Placement>> Archive::placements(MessageId id) {
  return pg::read(pool_, "archive_placements", [&](pqxx::read_transaction& tx) {
    std::vector<Placement> out;
    for (const auto& row : tx.exec_params(
             "SELECT source, folder, location, extract(epoch FROM first_seen)::bigint, flags "
             "FROM placements WHERE message_id = $1 ORDER BY id",
             to_int(id))) {
      Placement p;
      p.source = row[0].as<std::string>();
      p.folder = row[1].as<std::string>();
      p.location = row[2].as<std::string>();
      p.internal_date = row[3].as<std::int64_t>();
      p.flags = row[4].as<std::string>();
      out.push_back(std::move(p));
    }
    return out;
  });
}

Result<std::string> Archive::read_raw(MessageId id) {
  // The hash comes from the id -> SHA-256 cache: reading a message costs no query.
  auto sha = sha256_of(id);
  if (!sha)
    return sha.error();
  auto raw = blobs_.get(*sha);
  if (!raw)
    return raw.error();
  if (crypto::to_hex(crypto::sha256(*raw)) != *sha) {
    return make_error(
        Code::kDataLoss,
        fmt::format("message {}: stored bytes no longer match their SHA-256 {}", to_int(id), *sha));
  }
  return raw;
}

Result<Archive::Body> Archive::read_body(MessageId id) {
  if (auto hit = bodies_.find(id))
    return hit;
  auto raw = read_raw(id);
  if (!raw)
    return raw.error();
  const std::size_t size = raw->size();
  return bodies_.put(id, std::make_shared<const std::string>(std::move(*raw)), size);
}

Result<mime::ParsedMessage> Archive::search_text(const MessageMeta& meta) {
  // The sidecar is the blob's companion; blobs stored before companions have a `<sha>.text` file.
  auto text = blobs_.get_companion(meta.sha256_hex);
  if (!text)
    text = blobs_.get(text_key(meta.sha256_hex));
  if (text) {
    auto decoded = mime::decode_search_text(*text);
    if (decoded)
      return decoded;
  }
  // Missing or unreadable sidecar: the blob is the record; derive the text again.
  auto raw = blobs_.get(meta.sha256_hex);
  if (!raw)
    return raw.error();
  auto parsed = mime::parse_message(*raw);
  (void)blobs_.put(text_key(meta.sha256_hex), mime::encode_search_text(parsed));
  return parsed;
}

Result<std::string> Archive::sha256_of(MessageId id) {
  {
    std::lock_guard lock(sha_mu_);
    auto it = sha_cache_.find(to_int(id));
    if (it != sha_cache_.end())
      return it->second;
    if (to_int(id) <= sha_cache_max_id_) {
      return make_error(Code::kNotFound, fmt::format("no message with id {}", to_int(id)));
    }
  }
  // Load every id above what the cache knows (ids only grow; rows are never deleted here).
  std::int64_t after = 0;
  {
    std::lock_guard lock(sha_mu_);
    after = sha_cache_max_id_;
  }
  auto rows = pg::read(pool_, "archive_sha_cache", [&](pqxx::read_transaction& tx) {
    std::vector<std::pair<std::int64_t, std::string>> out;
    for (const auto& row : tx.exec_params(
             "SELECT id, encode(sha256, 'hex') FROM messages WHERE id > $1 ORDER BY id", after)) {
      out.emplace_back(row[0].as<std::int64_t>(), row[1].as<std::string>());
    }
    return out;
  });
  if (!rows)
    return rows.error();
  std::lock_guard lock(sha_mu_);
  for (auto& [row_id, sha] : *rows) {
    sha_cache_.emplace(row_id, std::move(sha));
    sha_cache_max_id_ = std::max(sha_cache_max_id_, row_id);
  }
  auto it = sha_cache_.find(to_int(id));
  if (it == sha_cache_.end())
    return make_error(Code::kNotFound, fmt::format("no message with id {}", to_int(id)));
  return it->second;
}

Result<mime::ParsedMessage> Archive::search_text(MessageId id) {
  auto sha = sha256_of(id);
  if (!sha)
    return sha.error();
  MessageMeta meta;
  meta.id = id;
  meta.sha256_hex = std::move(*sha);
  return search_text(meta);
}

Result<ArchiveStats> Archive::stats() {
  return pg::read(pool_, "archive_stats", [&](pqxx::read_transaction& tx) {
    ArchiveStats s;
    auto r = tx.exec1(
        "SELECT count(*), coalesce(sum(size), 0), coalesce(sum(blob_bytes), 0), "
        "(SELECT count(*) FROM index_queue) FROM messages");
    s.messages = r[0].as<std::uint64_t>();
    s.bytes_raw = r[1].as<std::uint64_t>();
    s.bytes_stored = r[2].as<std::uint64_t>();
    s.index_backlog = r[3].as<std::uint64_t>();
    return s;
  });
}

Status Archive::audit(std::string_view actor, std::string_view action, std::optional<MessageId> id,
                      std::string_view detail) {
  return pg::write(pool_, "audit", [&](pqxx::work& tx) {
    tx.exec_params0(
        "INSERT INTO audit_log (actor, action, message_id, detail) VALUES ($1, $2, "
        "NULLIF($3, '')::bigint, $4)",
        pg_text(actor, 256), pg_text(action, 64), id ? std::to_string(to_int(*id)) : std::string{},
        pg_text(detail, 4096));
  });
}

Status Archive::audit_many(std::string_view actor, std::string_view action,
                           const std::vector<AuditEntry>& entries) {
  if (entries.empty())
    return ok_status();
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& e : entries)
    rows.push_back({{"id", to_int(e.id)}, {"detail", pg_text(e.detail, 4096)}});
  const std::string json = rows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return pg::write(pool_, "audit_many", [&](pqxx::work& tx) {
    tx.exec_params0(
        "INSERT INTO audit_log (actor, action, message_id, detail) SELECT $1, $2, x.id, x.detail "
        "FROM json_to_recordset($3::json) AS x(id bigint, detail text)",
        pg_text(actor, 256), pg_text(action, 64), json);
  });
}

}  // namespace mailvault
