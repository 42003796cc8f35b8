"""New mail picked up by IMAP IDLE in the ingest workers (ingest/sync/idle_watchers.h).

* An account with a one-hour interval syncs once; once its watcher is in IDLE, a message
  APPENDed over IMAP (Dovecot then sends EXISTS to the idling connection) is archived within a
  bounded wait, by a sync the watcher requested, recorded in the account's history.
* A watcher whose connection is cut reconnects (one failure event, watching again) and still
  picks new mail up.
* A server that does not advertise IDLE: noted once in the account's history, the watch lease
  given back (held off for an hour), the account synced by polling as before.
* An account added with --no-idle has no watcher: new mail waits for its interval (checked over
  a window, then `account sync` shows the mail was there to take).
* Two ingest processes on one database, one account: exactly one watcher (one watch lease row,
  one "watching" event, one IMAP connection held open at Dovecot); when the process holding the
  lease stops, the other takes the watch over and new mail is still picked up.

Times are bounds for waiting, never asserted as speed.
"""

import os
import time
import unittest

import dovecot
import harness
import ingest_support

WAIT = harness.slow(60)  # generous bound for a watcher to react


def watching_events(env, name):
    return [e for e in env.events(name, "idle") if e["detail"].startswith("watching ")]


def settled(env, name):
    """The account is synced, not being synced, and no sync is pending (next one an interval
    away): whatever sync comes next was triggered by something new."""
    a = env.account(name)
    return (a is not None and a["last_success_at"] > 0 and not a["leased_by"]
            and a["next_sync_at"] > time.time() + 600)


@unittest.skipIf(dovecot.dovecot_available(), dovecot.dovecot_available() or "")
class IdleWatch(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.dv = dovecot.Dovecot(os.path.join(cls.tmp, "dovecot")).start()
        harness.ACTIVE_LOGS.append(("dovecot", cls.dv.log_path))
        cls.env = ingest_support.IngestEnv(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.env.close()
        finally:
            cls.dv.stop()
            harness.remove_tree(cls.tmp)

    def test_new_mail_is_archived_through_idle(self):
        env, dv = self.env, self.dv
        dv.add_user("idler", "pw-idler")
        first = dovecot.generate_messages(3, seed=301)
        dv.append("idler", "INBOX", first)
        env.add_account("idler", dv.imaps_port, "idler", "pw-idler", ca_file=dv.ca_file)
        harness.wait_for(lambda: watching_events(env, "idler"), WAIT, 0.25, "watcher in IDLE")
        harness.wait_for(lambda: settled(env, "idler"), WAIT, 0.25, "first sync done")
        served = {ingest_support.sha256(b) for _u, b in dv.served_messages("idler", "INBOX")}
        self.assertEqual(env.folder_shas("idler", "INBOX"), served)
        a = env.account("idler")
        self.assertTrue(a["idle"])
        self.assertTrue(a["idle_watched_by"].endswith("/idle"), a)
        syncs_before = [e for e in env.events("idler") if e["kind"] == "sync"]

        new = dovecot.generate_messages(2, seed=302)
        dv.append("idler", "INBOX", new, method="imap")
        want = {ingest_support.sha256(m) for m in new}
        harness.wait_for(lambda: want <= env.folder_shas("idler", "INBOX"), WAIT, 0.25,
                         "the appended messages archived")
        syncs = [e for e in env.events("idler") if e["kind"] == "sync"]
        self.assertGreater(len(syncs), len(syncs_before), syncs)
        self.assertEqual(sum(e["stored"] for e in syncs[: len(syncs) - len(syncs_before)]), 2,
                         syncs)
        self.assertEqual(env.account("idler")["messages_archived"], 5)
        # The watcher never failed, and it is still the one watching.
        idle_events = env.events("idler", "idle")
        self.assertEqual(len(idle_events), 1, idle_events)
        self.assertEqual(env.account("idler")["idle_watched_by"], a["idle_watched_by"])

    def test_no_idle_account_waits_for_its_interval(self):
        env, dv = self.env, self.dv
        dv.add_user("poller", "pw-poller")
        dv.append("poller", "INBOX", dovecot.generate_messages(2, seed=401))
        env.add_account("poller", dv.imaps_port, "poller", "pw-poller", ca_file=dv.ca_file,
                        extra=["--no-idle"])
        harness.wait_for(lambda: settled(env, "poller"), WAIT, 0.25, "first sync done")
        a = env.account("poller")
        self.assertFalse(a["idle"])
        self.assertEqual(a["idle_watched_by"], "")
        new = dovecot.generate_messages(1, seed=402)
        dv.append("poller", "INBOX", new, method="imap")
        # Several times longer than the watched account above needs on these machines; this
        # only checks that nothing happens, not how fast.
        time.sleep(harness.slow(10))
        self.assertEqual(len(env.folder_shas("poller", "INBOX")), 2)
        self.assertEqual(len([e for e in env.events("poller") if e["kind"] == "sync"]), 1)
        self.assertEqual(env.events("poller", "idle"), [])
        self.assertEqual(env.scalar("SELECT count(*) FROM accounts WHERE name = 'poller' AND "
                                    "idle_owner IS NOT NULL"), 0)
        r = env.sync("poller")  # the message was there to take
        self.assertTrue(r.result["ok"], r.describe())
        self.assertEqual(r.result["event"]["stored"], 1)

    def test_server_without_idle_is_polled_and_noted_once(self):
        env = self.env
        plain = dovecot.Dovecot(os.path.join(self.tmp, "dovecot-no-idle"),
                                imap_capability="IMAP4rev1 LITERAL+ SASL-IR ID ENABLE").start()
        try:
            plain.add_user("plain", "pw-plain")
            plain.append("plain", "INBOX", dovecot.generate_messages(2, seed=601))
            env.add_account("plain", plain.imaps_port, "plain", "pw-plain", ca_file=plain.ca_file)
            noted = lambda: [e for e in env.events("plain", "idle")
                             if "does not advertise IDLE" in e["detail"]]
            harness.wait_for(noted, WAIT, 0.25, "the missing IDLE noted")
            harness.wait_for(lambda: settled(env, "plain"), WAIT, 0.25, "first sync done")
            self.assertEqual(len(env.folder_shas("plain", "INBOX")), 2)
            # The watch lease is given back (held off for an hour), nothing more is recorded.
            harness.wait_for(lambda: env.account("plain")["idle_watched_by"] == "", WAIT, 0.25,
                             "the watch lease released")
            self.assertEqual(env.scalar("SELECT count(*) FROM accounts WHERE name = 'plain' AND "
                                        "idle_next_at > now() + interval '50 minutes'"), 1)
            time.sleep(harness.slow(6))  # longer than a lease scan
            self.assertEqual(len(env.events("plain", "idle")), 1, env.events("plain", "idle"))
            self.assertEqual(env.account("plain")["idle_watched_by"], "")
        finally:
            plain.stop()
    def test_watcher_reconnects_after_the_connection_is_cut(self):
        env, dv = self.env, self.dv
        dv.add_user("cutter", "pw-cutter")
        dv.append("cutter", "INBOX", dovecot.generate_messages(1, seed=701))
        env.add_account("cutter", dv.imaps_port, "cutter", "pw-cutter", ca_file=dv.ca_file)
        harness.wait_for(lambda: watching_events(env, "cutter"), WAIT, 0.25, "watcher in IDLE")
        harness.wait_for(lambda: settled(env, "cutter"), WAIT, 0.25, "first sync done")
        self.assertGreaterEqual(dv.kill_imap_processes(), 1)  # every session, the watcher's too
        harness.wait_for(lambda: len(watching_events(env, "cutter")) == 2, WAIT, 0.25,
                         "the watcher back in IDLE")
        failed = [e for e in env.events("cutter", "idle") if e["detail"].startswith("IDLE watch "
                                                                                   "failed")]
        self.assertEqual(len(failed), 1, env.events("cutter", "idle"))
        new = dovecot.generate_messages(1, seed=702)
        dv.append("cutter", "INBOX", new, method="imap")
        want = {ingest_support.sha256(m) for m in new}
        harness.wait_for(lambda: want <= env.folder_shas("cutter", "INBOX"), WAIT, 0.25,
                         "the appended message archived")

@unittest.skipIf(dovecot.dovecot_available(), dovecot.dovecot_available() or "")
class IdleWatchTwoProcesses(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.dv = dovecot.Dovecot(os.path.join(cls.tmp, "dovecot")).start()
        harness.ACTIVE_LOGS.append(("dovecot", cls.dv.log_path))
        cls.env = ingest_support.IngestEnv(cls.tmp)
        key = os.path.join(cls.env.data_dir, "master.key")
        cls.second = harness.Server(cls.env.data_dir, database_url=cls.env.db, roles="ingest",
                                    extra_args=["--master-key-file", key])

    @classmethod
    def tearDownClass(cls):
        try:
            try:
                cls.second.stop()
            finally:
                cls.env.close()
        finally:
            cls.dv.stop()
            harness.remove_tree(cls.tmp)

    def owner(self):
        return self.env.sql("SELECT COALESCE(idle_owner, '') FROM accounts WHERE name = 'shared'"
                            ).strip()

    def watchers_recorded(self):
        out = self.env.sql("SELECT worker FROM sync_events WHERE kind = 'idle' AND detail LIKE "
                           "'watching %' ORDER BY id")
        return [l for l in out.split("\n") if l]

    def test_one_watcher_over_two_processes_and_takeover(self):
        env, dv = self.env, self.dv
        self.second.start()
        pids = {env.server.proc.pid: env.server, self.second.proc.pid: self.second}
        dv.add_user("shared", "pw-shared")
        dv.append("shared", "INBOX", dovecot.generate_messages(2, seed=501))
        env.add_account("shared", dv.imaps_port, "shared", "pw-shared", ca_file=dv.ca_file)
        harness.wait_for(self.watchers_recorded, WAIT, 0.25, "a watcher in IDLE")
        harness.wait_for(lambda: settled(env, "shared"), WAIT, 0.25, "first sync done")
        owner = self.owner()
        self.assertTrue(owner.endswith("/idle"), owner)
        # Only the watcher keeps a connection open once the sync is over: one imap process.
        harness.wait_for(lambda: len(dv._children("imap")) == 1, WAIT, 0.25,
                         "one IMAP session left at Dovecot")
        for _ in range(12):  # over several renewals (every lease/3 = 20 s would be too long;
            time.sleep(0.5)  # a competing process would show up at its next 5 s scan)
            self.assertEqual(len(dv._children("imap")), 1)
            self.assertEqual(self.owner(), owner)
        self.assertEqual(self.watchers_recorded(), [owner])

        # The process holding the watch stops (its lease is released): the other takes over.
        holder_pid = int(owner.split(":")[1])
        self.assertIn(holder_pid, pids)
        holder = pids.pop(holder_pid)
        other = next(iter(pids.values()))
        holder.stop_checked()  # a watcher in IDLE does not hold the shutdown up
        harness.wait_for(lambda: len(self.watchers_recorded()) == 2, WAIT, 0.25,
                         "the watch taken over")
        new_owner = self.owner()
        self.assertNotEqual(new_owner, owner)
        self.assertEqual(int(new_owner.split(":")[1]), other.proc.pid)
        self.assertEqual(self.watchers_recorded(), [owner, new_owner])
        # And it works: new mail is archived through the new watcher.
        new = dovecot.generate_messages(1, seed=502)
        dv.append("shared", "INBOX", new, method="imap")
        want = {ingest_support.sha256(m) for m in new}
        harness.wait_for(lambda: want <= env.folder_shas("shared", "INBOX"), WAIT, 0.25,
                         "the appended message archived")
        if holder is env.server:
            holder.start()  # for tearDownClass


if __name__ == "__main__":
    unittest.main()
