"""Shared machinery of the ingest tests: a private PostgreSQL, `mailvault serve` with the
ingest role, and helpers to add accounts, sync them and read what the archive holds.

The remote side is a private Dovecot (tests/integration/dovecot.py)."""

import hashlib
import json
import os

import harness


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class IngestEnv:
    """PostgreSQL + `mailvault serve --roles ingest,index,api` on one data directory."""

    def __init__(self, tmp, roles="ingest,index,api", extra_args=()):
        self.tmp = tmp
        self.pg = harness.Postgres(os.path.join(tmp, "pg")).start()
        self.db = self.pg.create_database()
        self.data_dir = os.path.join(tmp, "data")
        self.server = harness.Server(self.data_dir, database_url=self.db, roles=roles,
                                     extra_args=list(extra_args))
        self.server.start()

    def close(self):
        try:
            self.server.stop()
        finally:
            self.pg.cleanup()

    def cli(self, *args, check=0, input=None, timeout=None):
        return harness.run_cli(list(args) + ["--data-dir", self.data_dir], check=check,
                               input=input, timeout=timeout)

    def add_account(self, name, port, user, password, protocol="imap", tls="implicit",
                    ca_file=None, host="127.0.0.1", extra=(), check=0):
        args = ["account", "add", name, "--protocol", protocol, "--host", host, "--port", str(port),
                "--tls", tls, "--user", user, "--password-stdin", "--interval", "1h"]
        if ca_file:
            args += ["--ca-file", ca_file]
        args += list(extra)
        return self.cli(*args, input=(password + "\n").encode(), check=check)

    def sync(self, name, check=0, timeout=600):
        r = self.cli("account", "sync", name, "--wait", "--json", "--timeout", str(timeout),
                     check=check, timeout=harness.slow(timeout + 60))
        lines = r.json_lines()
        r.result = lines[0] if lines else None
        return r

    def sql(self, query):
        return harness.query_conninfo(self.db, query, timeout=120)

    def scalar(self, query):
        out = self.sql(query).strip()
        return int(out) if out else 0

    def account_id(self, name):
        return self.scalar("SELECT id FROM accounts WHERE name = '%s' AND removed_at IS NULL" % name)

    def folder_shas(self, account, folder):
        """SHA-256 (hex) of the messages archived from `account`/`folder` (any UIDVALIDITY)."""
        out = self.sql(
            "SELECT DISTINCT encode(m.sha256, 'hex') FROM placements p JOIN messages m ON "
            "m.id = p.message_id WHERE p.account_id = %d AND p.folder = '%s'" % (
                self.account_id(account), folder.replace("'", "''")))
        return set(l for l in out.split("\n") if l)

    def all_shas(self):
        out = self.sql("SELECT encode(sha256, 'hex') FROM messages")
        return [l for l in out.split("\n") if l]

    def events(self, name, kind=None):
        r = self.cli("account", "history", name, "--json", "--limit", "1000")
        ev = r.json_lines()
        return [e for e in ev if kind is None or e["kind"] == kind]

    def total_fetched(self, name):
        """Messages downloaded by every sync of the account so far. (An account is synced as
        soon as it is added, so the first `sync --wait` may report a second, empty sync.)"""
        return sum(e["fetched"] for e in self.events(name) if e["kind"] in ("sync", "error"))

    def account(self, name):
        for a in self.cli("account", "list", "--json").json_lines():
            if a["name"] == name:
                return a
        return None
