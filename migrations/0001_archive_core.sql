-- 0001: the archive core. Messages (one row per distinct SHA-256), where each was seen
-- (placements), the index queue, API tokens and the audit log of reads.

CREATE TABLE messages (
  id              bigserial PRIMARY KEY,
  sha256          bytea NOT NULL UNIQUE CHECK (length(sha256) = 32),
  size            bigint NOT NULL,           -- exact byte count (RFC822.SIZE)
  blob_bytes      bigint NOT NULL,           -- compressed bytes in the blob store (message + text)
  archived_at     timestamptz NOT NULL DEFAULT now(),
  header_message_id text NOT NULL DEFAULT '',
  subject         text NOT NULL DEFAULT '',
  from_addr       text NOT NULL DEFAULT '',  -- "Name <addr>, ..." as decoded
  to_addr         text NOT NULL DEFAULT '',
  cc_addr         text NOT NULL DEFAULT '',
  date_header     timestamptz,               -- NULL when missing or unparsable
  in_reply_to     text NOT NULL DEFAULT '',
  has_attachments boolean NOT NULL DEFAULT false,
  parse_problems  text NOT NULL DEFAULT ''   -- one problem per line; empty when clean
);
CREATE INDEX messages_header_message_id ON messages (header_message_id);
CREATE INDEX messages_date_header ON messages (date_header);

-- Where a message was seen. Imports: source 'import', location = path (and '#offset' in mbox).
-- Re-importing the same location adds nothing.
CREATE TABLE placements (
  id            bigserial PRIMARY KEY,
  message_id    bigint NOT NULL REFERENCES messages (id),
  source        text NOT NULL,
  folder        text NOT NULL DEFAULT '',
  location      text NOT NULL DEFAULT '',
  internal_date timestamptz,
  flags         text NOT NULL DEFAULT '',   -- space-separated IMAP flags as seen at the source
  first_seen    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source, folder, location, message_id)
);
CREATE INDEX placements_message_id ON placements (message_id);

-- Messages waiting for the indexer. Rows are deleted only after Xapian committed them.
CREATE TABLE index_queue (
  seq         bigserial PRIMARY KEY,
  message_id  bigint NOT NULL REFERENCES messages (id),
  enqueued_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  token_hash  bytea NOT NULL UNIQUE,          -- SHA-256 of the token; the token itself is never stored
  role        text NOT NULL CHECK (role IN ('admin', 'auditor', 'user')),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every read of archived mail. Hash-chained: hash = sha256(prev_hash || canonical row text).
CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  action     text NOT NULL,
  message_id bigint,
  detail     text NOT NULL DEFAULT ''
);
