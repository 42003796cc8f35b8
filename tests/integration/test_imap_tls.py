"""TLS, IDLE and login limits of the read-only IMAP server, with real clients.

One `mailvault serve` (all roles, private PostgreSQL) with `--imaps-listen 127.0.0.1:0`,
`--imap-plaintext-auth never`, `--imap-max-connections-per-user 3`,
`--imap-failed-login-delay-ms 500` (1500 under the sanitizers) and `--imap-idle-poll-ms 500`; no certificate is configured,
so the server generates its self-signed pair under `<data-dir>/tls/`.

* The generated pair: key mode 0600; Python's ssl, loading the certificate as its only CA,
  verifies it for host name "localhost" and for 127.0.0.1 (subjectAltName).
* imaplib.IMAP4_SSL on the imaps port logs in and reads a message byte-identical.
* The plain port: LOGINDISABLED and STARTTLS advertised, LOGIN and AUTHENTICATE answer
  NO [PRIVACYREQUIRED]; imaplib's starttls() then login works, and the capability list after TLS
  has AUTH=PLAIN and neither STARTTLS nor LOGINDISABLED. A LOGIN sent in the same packet as
  STARTTLS is never executed (CVE-2011-0411).
* curl: imaps:// with --cacert (host name localhost and 127.0.0.1) lists the mailboxes and
  fetches a message by UID byte-identical; imap:// with --ssl-reqd does STARTTLS and fetches too.
* A garbage handshake and a silent half-open connection on the imaps port do not hurt a good
  client, and the garbage connection is closed.
* IDLE on All Mail: a message imported with `mailvault import` arrives as `* N EXISTS`; DONE
  ends IDLE with OK; FETCH N of that message is byte-identical; NOOP reports new mail too.
* Connections per user: the 4th login of one user gets NO [LIMIT]; after a LOGOUT it works.
* Failed logins from one address (127.0.0.2): each failure waits the delay, the 3rd on a
  connection ends it with BYE; after 5 failures even a correct login is answered only after the
  growing delay, while a client from 127.0.0.1 is served meanwhile.

A second class checks the configuration errors: mismatched --imap-tls-cert/--imap-tls-key stop
the server with a message naming the key file, and the generated pair is reused on restart.
"""

import imaplib
import os
import socket
import ssl
import stat
import subprocess
import threading
import time
import unittest

import harness
from test_imap_server import message

PASSWORDS = {"audra": "audra-pw-2", "carol": "carol-pw-3"}
# --imap-failed-login-delay-ms, seconds: long enough that a throttled login is still waiting
# while another client logs in and selects (longer under the sanitizers).
DELAY = harness.scale(0.5, 1.5)


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class LineClient:
    """A line-level IMAP client on a socket (plain or TLS), for what imaplib will not send."""

    def __init__(self, port, ctx=None, source="127.0.0.1", server_hostname="localhost"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30,
                                             source_address=(source, 0))
        if ctx is not None:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=server_hostname)
        self.buf = b""
        self.greeting = self.line()

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, data):
        self.sock.sendall(data)

    def command(self, tag, text):
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            ln = self.line()
            lines.append(ln)
            if ln.startswith(tag + b" "):
                return lines

    def starttls(self, ctx, server_hostname="localhost"):
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server_hostname)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def add_user(data, name, role="auditor"):
    r = harness.run_cli(["user", "add", name, "--data-dir", data, "--role", role,
                         "--password-stdin"], input=(PASSWORDS[name] + "\n").encode())
    assert r.returncode == 0, r.describe()


class ImapTls(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.dburl = cls.pg.create_database()
        cls.data = os.path.join(cls.tmp, "data")
        cls.server = harness.Server(cls.data, database_url=cls.dburl, extra_args=[
            "--imap-listen", "127.0.0.1:0", "--imaps-listen", "127.0.0.1:0",
            "--imap-plaintext-auth", "never", "--imap-max-connections-per-user", "3",
            "--imap-failed-login-delay-ms", str(int(DELAY * 1000)), "--imap-idle-poll-ms", "500"])
        try:
            cls.server.start()
            cls.imap_port = cls.server.listen_port("imap.address")
            cls.imaps_port = cls.server.listen_port("imaps.address")
            cls._import_mail()
            for name in PASSWORDS:
                add_user(cls.data, name)
        except Exception:
            cls.server.stop()
            cls.pg.cleanup()
            raise
        cls.cafile = os.path.join(cls.data, "tls", "imap-cert.pem")
        cls.ctx = tls_context(cls.cafile)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_checked()
            assert not os.path.exists(os.path.join(cls.data, "imaps.address"))
        finally:
            cls.pg.cleanup()
            harness.remove_tree(cls.tmp)

    @classmethod
    def _import_mail(cls):
        src = os.path.join(cls.tmp, "in")
        os.makedirs(src)
        cls.raw = {}  # messages.id -> bytes
        for i in range(1, 4):
            path = os.path.join(src, "m%d.eml" % i)
            with open(path, "wb") as fh:
                fh.write(message(i, b"someone@example.org", b"tls test %d" % i))
        r = cls.server.cli("import", src, timeout=harness.slow(300))
        assert r.returncode == 0, r.describe()
        cls.raw = cls._archived()
        assert len(cls.raw) == 3, cls.raw.keys()

    @classmethod
    def _archived(cls):
        out = {}
        rows = harness.query_conninfo(cls.dburl, "SELECT id FROM messages ORDER BY id")
        for line in rows.split():
            out[int(line)] = cls.server.client().get_raw(int(line))
        return out

    def archived_count(self):
        return int(harness.query_conninfo(self.dburl, "SELECT count(*) FROM messages").strip())

    def imaps(self, user="audra", host="localhost"):
        m = imaplib.IMAP4_SSL(host, self.imaps_port, ssl_context=self.ctx, timeout=30)
        self.addCleanup(self._logout, m)
        if user:
            m.login(user, PASSWORDS[user])
        return m

    @staticmethod
    def _logout(m):
        try:
            m.logout()
        except Exception:
            pass

    def line_client(self, port=None, tls=True, source="127.0.0.1"):
        c = LineClient(port or self.imaps_port, self.ctx if tls else None, source=source)
        self.addCleanup(c.close)
        return c

    # -- the certificate and implicit TLS -------------------------------------------------------

    def test_generated_certificate_verifies_for_localhost_and_loopback_ip(self):
        key = os.path.join(self.data, "tls", "imap-key.pem")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        with open(self.cafile, "rb") as fh:
            self.assertIn(b"-----BEGIN CERTIFICATE-----", fh.read())
        for host in ("localhost", "127.0.0.1"):
            m = self.imaps(host=host)
            self.assertIn("IDLE", m.capabilities)
            self.assertNotIn("STARTTLS", m.capabilities)
            cert = m.sock.getpeercert()
            sans = cert.get("subjectAltName", ())
            self.assertIn(("DNS", "localhost"), sans)
            self.assertIn(("IP Address", "127.0.0.1"), sans)
            self.assertIn(m.sock.version(), ("TLSv1.2", "TLSv1.3"))
        # Without the certificate as CA, verification fails: it is not a trusted public one.
        with self.assertRaises(ssl.SSLCertVerificationError):
            imaplib.IMAP4_SSL("localhost", self.imaps_port, timeout=30,
                              ssl_context=ssl.create_default_context())

    def test_imaps_fetch_is_byte_identical(self):
        m = self.imaps()
        typ, data = m.select('"All Mail"', readonly=True)
        self.assertEqual((typ, data), ("OK", [b"%d" % self.archived_count()]))
        for mid, raw in self.raw.items():
            typ, data = m.uid("FETCH", str(mid), "(BODY.PEEK[])")
            self.assertEqual(typ, "OK", data)
            self.assertEqual(data[0][1], raw, "uid %d" % mid)

    # -- STARTTLS --------------------------------------------------------------------------------

    def test_plaintext_login_refused_then_starttls(self):
        m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        self.addCleanup(self._logout, m)
        self.assertIn("LOGINDISABLED", m.capabilities)
        self.assertIn("STARTTLS", m.capabilities)
        self.assertNotIn("AUTH=PLAIN", m.capabilities)
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.login("audra", PASSWORDS["audra"])
        self.assertIn("PRIVACYREQUIRED", str(cm.exception))
        typ, data = m._simple_command("AUTHENTICATE", "PLAIN", "AGF1ZHJhAGF1ZHJhLXB3LTI=")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[PRIVACYREQUIRED]", data[-1])
        typ, _ = m.starttls(ssl_context=self.ctx)
        self.assertEqual(typ, "OK")
        self.assertIn("AUTH=PLAIN", m.capabilities)
        self.assertNotIn("STARTTLS", m.capabilities)
        self.assertNotIn("LOGINDISABLED", m.capabilities)
        typ, _ = m.login("audra", PASSWORDS["audra"])
        self.assertEqual(typ, "OK")
        typ, data = m.select('"All Mail"', readonly=True)
        self.assertEqual(data, [b"%d" % self.archived_count()])

    def test_plaintext_after_starttls_is_discarded(self):
        c = self.line_client(self.imap_port, tls=False)
        self.assertIn(b"STARTTLS", c.greeting)
        # Both commands in one packet: the LOGIN must not be executed after the upgrade.
        c.send(b"a STARTTLS\r\nb LOGIN audra " + PASSWORDS["audra"].encode() + b"\r\n")
        self.assertEqual(c.line(), b"a OK Begin TLS negotiation now")
        self.assertEqual(c.buf, b"")
        c.starttls(self.ctx)
        lines = c.command(b"c", b'EXAMINE "All Mail"')
        self.assertTrue(lines[-1].startswith(b"c BAD"), lines)  # still not authenticated
        lines = c.command(b"d", b"LOGIN audra " + PASSWORDS["audra"].encode())
        self.assertTrue(lines[-1].startswith(b"d OK"), lines)

    def test_starttls_not_offered_on_imaps(self):
        c = self.line_client()
        self.assertNotIn(b"STARTTLS", c.greeting)
        self.assertIn(b"AUTH=PLAIN", c.greeting)
        lines = c.command(b"a", b"STARTTLS")
        self.assertTrue(lines[-1].startswith(b"a BAD"), lines)

    # -- curl ------------------------------------------------------------------------------------

    def curl(self, url, *extra):
        auth = "audra:" + PASSWORDS["audra"]
        port = self.imaps_port if url.startswith("imaps") else self.imap_port
        p = subprocess.run(["curl", "-sS", "--max-time", "60", "--cacert", self.cafile,
                            "--resolve", "localhost:%d:127.0.0.1" % port, "-u", auth] +
                           list(extra) + [url],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_curl_imaps_and_starttls(self):
        mid, raw = sorted(self.raw.items())[1]
        for host in ("localhost", "127.0.0.1"):
            base = "imaps://%s:%d/" % (host, self.imaps_port)
            listing = self.curl(base)
            self.assertIn(b'"All Mail"', listing)
            self.assertEqual(self.curl("%sAll%%20Mail;UID=%d" % (base, mid)), raw)
        # STARTTLS on the plain port (curl refuses to go on without TLS).
        base = "imap://localhost:%d/" % self.imap_port
        self.assertEqual(self.curl("%sAll%%20Mail;UID=%d" % (base, mid), "--ssl-reqd"), raw)

    # -- failed handshakes -----------------------------------------------------------------------

    def test_garbage_and_stalled_handshakes_do_not_hurt(self):
        silent = socket.create_connection(("127.0.0.1", self.imaps_port), timeout=60)
        self.addCleanup(silent.close)
        garbage = socket.create_connection(("127.0.0.1", self.imaps_port), timeout=60)
        self.addCleanup(garbage.close)
        garbage.sendall(b"a LOGIN audra x\r\n" + os.urandom(4096))
        m = self.imaps()
        typ, data = m.select('"All Mail"', readonly=True)
        self.assertEqual(typ, "OK")
        typ, data = m.uid("SEARCH", "ALL")
        self.assertEqual(len(data[0].split()), self.archived_count())
        # The garbage connection is closed by the server (after at most a TLS alert).
        received = b""
        while True:
            try:
                chunk = garbage.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
            self.assertLess(len(received), 1024, received)
        self.assertNotIn(b"* OK", received)

    # -- IDLE ------------------------------------------------------------------------------------

    def import_one(self, i):
        src = os.path.join(self.tmp, "idle-%d.eml" % i)
        with open(src, "wb") as fh:
            fh.write(message(100 + i, b"idle@example.org", b"arrived while idling %d" % i))
        r = self.server.cli("import", src, timeout=harness.slow(120))
        self.assertEqual(r.returncode, 0, r.describe())
        with open(src, "rb") as fh:
            return fh.read()

    def test_idle_reports_new_mail(self):
        c = self.line_client()
        c.command(b"a", b"LOGIN audra " + PASSWORDS["audra"].encode())
        lines = c.command(b"b", b'EXAMINE "All Mail"')
        exists = [int(ln.split()[1]) for ln in lines if ln.endswith(b" EXISTS")][0]
        c.send(b"c IDLE\r\n")
        self.assertEqual(c.line(), b"+ idling")
        raw = self.import_one(1)
        c.sock.settimeout(harness.slow(30))
        self.assertEqual(c.line(), b"* %d EXISTS" % (exists + 1))
        c.send(b"DONE\r\n")
        self.assertEqual(c.line(), b"c OK IDLE terminated")
        c.sock.settimeout(30)
        lines = c.command(b"d", b"FETCH %d (UID RFC822.SIZE)" % (exists + 1))
        self.assertIn(b"RFC822.SIZE %d" % len(raw), lines[0])
        m = self.imaps()
        m.select('"All Mail"', readonly=True)
        typ, data = m.fetch(str(exists + 1), "(BODY.PEEK[])")
        self.assertEqual(data[0][1], raw)
        # SEARCH in the idling session sees it too, and NOOP reports the next one.
        lines = c.command(b"e", b"SEARCH SUBJECT \"arrived while idling 1\"")
        self.assertIn(b"* SEARCH %d" % (exists + 1), lines)
        self.import_one(2)

        def noop_reports():
            return any(ln == b"* %d EXISTS" % (exists + 2) for ln in c.command(b"f", b"NOOP"))

        harness.wait_for(noop_reports, harness.slow(30), what="NOOP reporting EXISTS")

    # -- limits ----------------------------------------------------------------------------------

    def test_connections_per_user(self):
        sessions = [self.imaps("carol") for _ in range(3)]
        m = self.imaps(user=None)
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.login("carol", PASSWORDS["carol"])
        self.assertIn("[LIMIT]", str(cm.exception))
        self.imaps("audra")  # other users are not affected
        sessions[0].logout()

        def login_again():
            try:
                typ, _ = m.login("carol", PASSWORDS["carol"])
                return typ == "OK"
            except imaplib.IMAP4.error:
                return False

        harness.wait_for(login_again, 10, what="a free slot for carol")

    def test_failed_logins_are_throttled_per_address(self):
        def attempt(c, tag, password):
            t0 = time.monotonic()
            lines = c.command(tag, b"LOGIN carol " + password)
            return lines, time.monotonic() - t0

        # Failures 1-3 on one connection: each waits the delay, the 3rd ends the connection.
        c = self.line_client(source="127.0.0.2")
        for n in range(3):
            lines, took = attempt(c, b"a%d" % n, b"wrong")
            self.assertTrue(lines[-1].startswith(b"a%d NO [AUTHENTICATIONFAILED]" % n), lines)
            self.assertGreaterEqual(took, DELAY * 0.9)
        self.assertTrue(c.line().startswith(b"* BYE"))
        # Failures 4-5 on a second connection: not delayed beyond the per-failure delay yet...
        c = self.line_client(source="127.0.0.2")
        for n in range(2):
            lines, took = attempt(c, b"b%d" % n, b"wrong")
            self.assertTrue(lines[-1].startswith(b"b%d NO" % n), lines)
        # ...the 6th is answered only after the address's delay plus the failure delay.
        lines, took = attempt(c, b"b2", b"wrong")
        self.assertTrue(lines[-1].startswith(b"b2 NO"), lines)
        self.assertGreaterEqual(took, 2 * DELAY * 0.95)
        # Now even the right password waits (2 x DELAY), but only that address's clients do.
        c = self.line_client(source="127.0.0.2")
        answered = {}

        def throttled_login():
            lines, took = attempt(c, b"c0", PASSWORDS["carol"].encode())
            answered["at"] = time.monotonic()
            answered["lines"] = lines
            answered["took"] = took

        t = threading.Thread(target=throttled_login)
        t.start()
        time.sleep(DELAY / 2)  # the throttled LOGIN is sent and waiting
        other = self.line_client(source="127.0.0.1")
        lines = other.command(b"x", b"LOGIN audra " + PASSWORDS["audra"].encode())
        self.assertTrue(lines[-1].startswith(b"x OK"), lines)
        other.command(b"y", b'EXAMINE "All Mail"')
        served_at = time.monotonic()
        t.join(60)
        self.assertTrue(answered["lines"][-1].startswith(b"c0 OK"), answered)
        self.assertGreaterEqual(answered["took"], 2 * DELAY * 0.95)
        self.assertLess(served_at, answered["at"])  # not held up by the throttled address


class ImapTlsConfiguration(harness.MailvaultTestCase):
    """Configured certificates: a mismatched pair is refused; the generated pair is reused."""

    def setUp(self):
        self.tmp = harness.make_tempdir()
        self.addCleanup(harness.remove_tree, self.tmp)
        self.pg = harness.Postgres(os.path.join(self.tmp, "pg")).start()
        self.addCleanup(self.pg.cleanup)
        self.dburl = self.pg.create_database()

    def server(self, data, *extra, roles="api,imap"):
        return harness.Server(data, database_url=self.dburl, roles=roles,
                              extra_args=["--imaps-listen", "127.0.0.1:0"] + list(extra))

    def test_generated_pair_is_reused_and_mismatch_is_refused(self):
        data = os.path.join(self.tmp, "data")
        s = self.server(data).start()
        try:
            port = s.listen_port("imaps.address")
            cafile = os.path.join(data, "tls", "imap-cert.pem")
            first = imaplib.IMAP4_SSL("localhost", port, ssl_context=tls_context(cafile),
                                      timeout=30)
            first.logout()
        finally:
            s.stop_checked()
        with open(cafile, "rb") as fh:
            cert = fh.read()
        with open(os.path.join(data, "tls", "imap-key.pem"), "rb") as fh:
            key = fh.read()
        s = self.server(data).start()
        try:
            port = s.listen_port("imaps.address")
            m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=tls_context(cafile), timeout=30)
            m.logout()
            with open(cafile, "rb") as fh:
                self.assertEqual(fh.read(), cert)
            with open(os.path.join(data, "tls", "imap-key.pem"), "rb") as fh:
                self.assertEqual(fh.read(), key)
        finally:
            s.stop_checked()

        # A configured certificate with the key of another pair: a clear error naming the key.
        other = os.path.join(self.tmp, "other")
        s = self.server(other).start()
        s.stop_checked()
        other_key = os.path.join(other, "tls", "imap-key.pem")
        # (imap alone: start() then waits for "mailvault serving", which must never come)
        bad = self.server(os.path.join(self.tmp, "bad"), "--imap-tls-cert", cafile,
                          "--imap-tls-key", other_key, roles="imap")
        with self.assertRaises(harness.ServerError) as cm:
            bad.start()
        self.assertIn("%s is not the private key of the certificate in %s" % (other_key, cafile),
                      str(cm.exception))
        # The matching configured pair works.
        good = self.server(os.path.join(self.tmp, "good"), "--imap-tls-cert", cafile,
                           "--imap-tls-key", os.path.join(data, "tls", "imap-key.pem")).start()
        try:
            port = good.listen_port("imaps.address")
            m = imaplib.IMAP4_SSL("localhost", port, ssl_context=tls_context(cafile), timeout=30)
            m.logout()
            self.assertFalse(os.path.exists(os.path.join(self.tmp, "good", "tls")))
        finally:
            good.stop_checked()

    def test_stalled_handshake_times_out(self):
        data = os.path.join(self.tmp, "data")
        s = self.server(data, "--imap-idle-timeout", "2").start()
        try:
            port = s.listen_port("imaps.address")
            silent = socket.create_connection(("127.0.0.1", port), timeout=30)
            self.addCleanup(silent.close)
            t0 = time.monotonic()
            cafile = os.path.join(data, "tls", "imap-cert.pem")
            m = imaplib.IMAP4_SSL("localhost", port, ssl_context=tls_context(cafile), timeout=30)
            m.logout()
            try:
                self.assertEqual(silent.recv(1024), b"")  # closed, not greeted
            except ConnectionResetError:
                pass
            self.assertGreaterEqual(time.monotonic() - t0, 1.5)  # by the timeout
        finally:
            s.stop_checked()

if __name__ == "__main__":
    unittest.main()
