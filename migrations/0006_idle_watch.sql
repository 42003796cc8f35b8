-- 0006: IMAP IDLE watchers (ingest/sync/idle_watchers.h). An IMAP account with `idle` on is
-- watched by at most one ingest process: the watch lease (idle_owner, idle_expires_at) is taken
-- with FOR UPDATE SKIP LOCKED and renewed while watching, like the sync lease but separate from
-- it, so syncs run while an account is watched. idle_next_at holds a watch back (a server
-- without IDLE is asked again an hour later). The 'idle' event kind records watching started,
-- watch errors (throttled) and servers without IDLE.

ALTER TABLE accounts ADD COLUMN idle boolean NOT NULL DEFAULT true;
ALTER TABLE accounts ADD COLUMN idle_owner text;
ALTER TABLE accounts ADD COLUMN idle_expires_at timestamptz;
ALTER TABLE accounts ADD COLUMN idle_next_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE sync_events DROP CONSTRAINT sync_events_kind_check;
ALTER TABLE sync_events ADD CONSTRAINT sync_events_kind_check
  CHECK (kind IN ('sync', 'error', 'uidvalidity_changed', 'rejected', 'folder_gone', 'idle'));
