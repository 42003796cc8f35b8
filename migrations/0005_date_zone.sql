-- 0005: the zone the Date: header was written in, minutes east of UTC. IMAP SENTBEFORE, SENTON
-- and SENTSINCE compare the header's own calendar day (RFC 3501; Dovecot does the same), which
-- the instant in date_header alone cannot give. NULL for messages archived before this
-- migration: their day is taken in UTC.

ALTER TABLE messages ADD COLUMN date_zone_minutes smallint
  CHECK (date_zone_minutes BETWEEN -1440 AND 1440);
