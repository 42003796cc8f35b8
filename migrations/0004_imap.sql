-- 0004: the IMAP server's UIDVALIDITY. One value for the whole archive, chosen once (the epoch
-- seconds when this migration ran) and never changed: mailbox UIDs are messages.id and
-- placements.id, which never change either (server-imap/session/mailbox_view.h).

CREATE TABLE imap_uidvalidity (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  uidvalidity bigint NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295)
);

INSERT INTO imap_uidvalidity (uidvalidity)
VALUES (GREATEST(1, floor(extract(epoch FROM now()))::bigint % 4294967296));
