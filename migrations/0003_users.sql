-- 0003: people who browse and search the archive (IMAP server, API): a role, an argon2id
-- password hash, and grants: the addresses and accounts whose mail they may see. An auditor or
-- admin sees everything.

CREATE TABLE users (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$'),
  role          text NOT NULL CHECK (role IN ('user', 'auditor', 'admin')),
  password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Mail to or from one of these addresses (lower-cased) is visible to the user.
CREATE TABLE user_addresses (
  user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  address  text NOT NULL CHECK (address = lower(address) AND address LIKE '%_@_%'),
  PRIMARY KEY (user_id, address)
);

-- Mail archived from these accounts (by name) is visible to the user.
CREATE TABLE user_accounts (
  user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  account_name text NOT NULL,
  PRIMARY KEY (user_id, account_name)
);

-- The addresses of each message (From, Sender, To, Cc, Bcc; lower-cased), filled by
-- Archive::store_batch in the message's own transaction: what a `user` may see is decided here.
CREATE TABLE message_addresses (
  address     text NOT NULL,
  message_id  bigint NOT NULL REFERENCES messages (id),
  PRIMARY KEY (address, message_id)
);
CREATE INDEX message_addresses_message ON message_addresses (message_id);

-- Messages archived before this migration: the addresses of the stored header fields.
INSERT INTO message_addresses (address, message_id)
SELECT DISTINCT lower(m[1]), id
FROM messages, regexp_matches(from_addr || ', ' || to_addr || ', ' || cc_addr,
                              '([^\s<>,"]+@[^\s<>,"]+)', 'g') AS m
ON CONFLICT DO NOTHING;
