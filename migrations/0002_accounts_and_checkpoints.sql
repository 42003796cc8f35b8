-- 0002: remote accounts pulled by the ingest workers, their per-folder checkpoints, the POP3
-- UIDL sets, and the history of syncs and notable events (UIDVALIDITY changes, errors).
--
-- Checkpoints advance in the same transaction as the messages they cover (Archive::store_batch),
-- so a crash at any moment neither loses a message (the checkpoint did not move past it) nor
-- stores one twice (SHA-256 deduplication and the placements' unique key absorb a re-fetch).

CREATE TABLE accounts (
  id                bigserial PRIMARY KEY,
  name              text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$'),
  protocol          text NOT NULL CHECK (protocol IN ('imap', 'pop3')),
  host              text NOT NULL,
  port              integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  tls               text NOT NULL CHECK (tls IN ('implicit', 'starttls', 'none')),
  verify_tls        boolean NOT NULL DEFAULT true,
  ca_file           text NOT NULL DEFAULT '',
  username          text NOT NULL,
  auth              text NOT NULL DEFAULT 'auto'
                    CHECK (auth IN ('auto', 'login', 'plain', 'xoauth2', 'user', 'apop')),
  -- AES-256-GCM sealed JSON {"password": ..., "token_command": ..., "token_file": ...} under the
  -- server's master key, bound to the account name (core/crypto/aead.h). Never stored in clear.
  secret            bytea NOT NULL,
  include_folders   text[] NOT NULL DEFAULT '{}',  -- globs over decoded names; empty = all
  exclude_folders   text[] NOT NULL DEFAULT '{}',
  interval_seconds  integer NOT NULL DEFAULT 300 CHECK (interval_seconds >= 1),
  owner             text NOT NULL DEFAULT '',
  delete_after_archive boolean NOT NULL DEFAULT false,  -- POP3 only: DELE after the commit
  created_at        timestamptz NOT NULL DEFAULT now(),
  removed_at        timestamptz,                   -- removed accounts keep their history
  -- Scheduling and leases (FOR UPDATE SKIP LOCKED; a worker renews its lease while it works).
  next_sync_at      timestamptz NOT NULL DEFAULT now(),
  sync_requested_at timestamptz,
  lease_owner       text,
  lease_expires_at  timestamptz,
  failures          integer NOT NULL DEFAULT 0,
  last_attempt_at   timestamptz,                   -- start of the latest sync
  last_finished_at  timestamptz,                   -- end of the latest sync
  last_success_at   timestamptz,
  last_error        text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX accounts_name_live ON accounts (name) WHERE removed_at IS NULL;
CREATE INDEX accounts_due ON accounts (next_sync_at) WHERE removed_at IS NULL;

-- One row per remote folder (IMAP) or the single maildrop (POP3, name 'INBOX').
CREATE TABLE account_folders (
  id                bigserial PRIMARY KEY,
  account_id        bigint NOT NULL REFERENCES accounts (id),
  name              text NOT NULL,              -- decoded UTF-8, server's delimiter
  uidvalidity       bigint NOT NULL DEFAULT 0,  -- 0: never examined
  last_uid          bigint NOT NULL DEFAULT 0,  -- highest UID archived under `uidvalidity`
  messages_archived bigint NOT NULL DEFAULT 0,  -- placements recorded from this folder
  last_synced_at    timestamptz,
  gone              boolean NOT NULL DEFAULT false,  -- no longer listed by the server
  UNIQUE (account_id, name)
);

-- POP3 checkpoint: the set of archived UIDLs (or content hashes, "sha256:<hex>", for servers
-- without UIDL), added in the same transaction as the messages.
CREATE TABLE pop3_uidls (
  account_id  bigint NOT NULL REFERENCES accounts (id),
  uidl        text NOT NULL,
  message_id  bigint NOT NULL REFERENCES messages (id),
  archived_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, uidl)
);

-- Sync history and notable events, shown by `account list` and AccountService.
CREATE TABLE sync_events (
  id          bigserial PRIMARY KEY,
  account_id  bigint NOT NULL REFERENCES accounts (id),
  at          timestamptz NOT NULL DEFAULT now(),
  kind        text NOT NULL CHECK (kind IN ('sync', 'error', 'uidvalidity_changed', 'rejected',
                                            'folder_gone')),
  folder      text NOT NULL DEFAULT '',
  worker      text NOT NULL DEFAULT '',
  fetched     bigint NOT NULL DEFAULT 0,   -- messages downloaded by this sync
  stored      bigint NOT NULL DEFAULT 0,   -- of which new to the archive
  detail      text NOT NULL DEFAULT ''
);
CREATE INDEX sync_events_account ON sync_events (account_id, id);

-- Where an account's messages were seen: the account id beside the free-text source name.
ALTER TABLE placements ADD COLUMN account_id bigint REFERENCES accounts (id);
ALTER TABLE placements ADD COLUMN uidvalidity bigint;
ALTER TABLE placements ADD COLUMN uid bigint;
CREATE INDEX placements_account ON placements (account_id, folder) WHERE account_id IS NOT NULL;
