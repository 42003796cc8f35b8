"""The private-Dovecot harness itself (dovecot.py, netfault.py): what the IMAP/POP3 client tests
rely on must hold before their failures mean anything.

* start(): all four ports accept, TLS verifies against the harness CA for 127.0.0.1 and
  localhost (imaps, STARTTLS, pop3s); the wrong-name certificate is refused by a verifying client;
* login works, a wrong password fails; nested and non-ASCII folders are listed as created;
* append() of N messages (Maildir and IMAP paths) is served back byte for byte in list order;
* recreate_folder() keeps the messages and changes UIDVALIDITY;
* kill_imap_processes() cuts a live session; the cutting proxy cuts after N bytes; the fake
  servers do what they say;
* the command line (`serve`) prints its JSON line and answers commands on stdin.
"""

import hashlib
import imaplib
import json
import os
import poplib
import socket
import ssl
import subprocess
import sys
import time
import unittest

import harness
import netfault
from dovecot import Dovecot, dovecot_available, generate_messages, imap_utf7_encode

HERE = os.path.dirname(os.path.abspath(__file__))
N = harness.scale(5000, 2000)


def setUpModule():
    reason = dovecot_available()
    if reason:
        raise unittest.SkipTest(reason)


class DovecotHarness(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = harness.make_tempdir("mv-dovecot-")
        cls.dv = Dovecot(cls.workdir)
        cls.dv.add_user("alice", "alice-pw")
        cls.dv.start()
        harness.ACTIVE_LOGS.append(("dovecot", cls.dv.log_path))

    @classmethod
    def tearDownClass(cls):
        cls.dv.stop()
        harness.remove_tree(cls.workdir)

    def test_ports_and_tls(self):
        dv = self.dv
        for port in (dv.imap_port, dv.imaps_port, dv.pop3_port, dv.pop3s_port):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        for host in ("127.0.0.1", "localhost"):
            ctx = ssl.create_default_context(cafile=dv.ca_file)
            with socket.create_connection(("127.0.0.1", dv.imaps_port), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname=host) as s:
                    self.assertTrue(s.recv(100).startswith(b"* OK"))
        # Without the CA: refused.
        with socket.create_connection(("127.0.0.1", dv.imaps_port), timeout=5) as raw:
            with self.assertRaises(ssl.SSLCertVerificationError):
                ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")
        for tls in ("imaps", "starttls", "none"):
            m = dv.imap("alice", tls=tls)
            m.logout()
        with self.assertRaises(imaplib.IMAP4.error):
            dv.imap("alice", password="wrong")
        p = poplib.POP3_SSL("127.0.0.1", dv.pop3s_port,
                            context=ssl.create_default_context(cafile=dv.ca_file), timeout=10)
        self.assertIn(b"<", p.getwelcome())  # APOP timestamp
        p.user("alice")
        p.pass_("alice-pw")
        p.quit()
        p = poplib.POP3("127.0.0.1", dv.pop3_port, timeout=10)
        self.assertIn("STLS", p.capa())
        p.stls(ssl.create_default_context(cafile=dv.ca_file))
        p.apop("alice", "alice-pw")
        p.quit()

    def test_folders(self):
        dv = self.dv
        dv.create_folder("alice", "Archive/2019")
        dv.create_folder("alice", "Prüfung/Übersicht")
        dv.create_folder("alice", "Lists.debian")
        m = dv.imap("alice")
        try:
            typ, data = m.list()
            self.assertEqual(typ, "OK")
            names = [line.decode().rsplit(' "/" ', 1)[1].strip('"') for line in data]
        finally:
            m.logout()
        for want in ("INBOX", "Archive", "Archive/2019", imap_utf7_encode("Prüfung"),
                     imap_utf7_encode("Prüfung/Übersicht"), "Lists.debian"):
            self.assertIn(want, names)
        self.assertEqual(imap_utf7_encode("Prüfung/Übersicht"), "Pr&APw-fung/&ANw-bersicht")
        self.assertTrue(os.path.isdir(os.path.join(dv.folder_path("alice", "Prüfung/Übersicht"),
                                                   "cur")))

    def test_append_maildir_and_imap(self):
        dv = self.dv
        msgs = generate_messages(N, seed=11)
        seconds = dv.append("alice", "Bulk", msgs)
        harness.log("append of %d messages into Maildir: %.2f s" % (N, seconds))
        served = dv.served_messages("alice", "Bulk")
        self.assertEqual([uid for uid, _ in served], list(range(1, N + 1)))
        self.assertEqual([hashlib.sha256(d).digest() for _, d in served],
                         [hashlib.sha256(d).digest() for d in msgs])
        # a second append comes after the first
        more = generate_messages(3, seed=12)
        dv.append("alice", "Bulk", more)
        served = dv.served_messages("alice", "Bulk")
        self.assertEqual([d for _, d in served[-3:]], more)
        # Through Dovecot's own APPEND; LF-only input is served with CRLF.
        lf = [b"Subject: lf %d\n\nline one\nline two\n" % i for i in range(300)]
        seconds = dv.append("alice", "Prüfung/Übersicht", lf, method="imap")
        harness.log("IMAP APPEND of 300 messages: %.2f s" % seconds)
        served = dv.served_messages("alice", "Prüfung/Übersicht")
        self.assertEqual([d for _, d in served], [d.replace(b"\n", b"\r\n") for d in lf])

    def test_recreate_changes_uidvalidity(self):
        dv = self.dv
        msgs = generate_messages(20, seed=13)
        dv.append("alice", "Recreate/Me", msgs)
        before = dv.uidvalidity("alice", "Recreate/Me")
        after = dv.recreate_folder("alice", "Recreate/Me")
        self.assertNotEqual(before, after)
        self.assertEqual([d for _, d in dv.served_messages("alice", "Recreate/Me")], msgs)

    def test_kill_imap_processes_cuts_session(self):
        dv = self.dv
        m = dv.imap("alice")
        self.addCleanup(m.shutdown)
        m.select("INBOX", readonly=True)
        self.assertGreaterEqual(dv.kill_imap_processes(), 1)
        with self.assertRaises((imaplib.IMAP4.abort, OSError)):
            m.noop()
            m.noop()

    def test_cutting_proxy(self):
        dv = self.dv
        msgs = generate_messages(50, seed=14, size=4000)
        dv.append("alice", "Proxy", msgs)
        with netfault.CuttingProxy(dv.imap_port, cut_after=20000) as proxy:
            m = imaplib.IMAP4("127.0.0.1", proxy.port, timeout=10)
            self.addCleanup(m.shutdown)
            m.login("alice", "alice-pw")
            m.select("Proxy", readonly=True)
            with self.assertRaises((imaplib.IMAP4.abort, OSError)):
                m.uid("FETCH", "1:*", "(BODY.PEEK[])")
            self.assertEqual(proxy.cuts, 1)
            self.assertEqual(len(proxy.forwarded), 20000)
            proxy.cut_after = None  # the next connection goes through whole
            m = imaplib.IMAP4("127.0.0.1", proxy.port, timeout=10)
            m.login("alice", "alice-pw")
            m.select("Proxy", readonly=True)
            typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            self.assertEqual(sum(1 for x in data if isinstance(x, tuple)), 50)
            m.logout()
            self.assertEqual(proxy.connections, 2)

    def test_fake_servers(self):
        with netfault.GreetingThenClose(b"+OK hello\r\n") as srv:
            with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
                data = b""
                while True:
                    chunk = s.recv(100)
                    if not chunk:
                        break
                    data += chunk
                self.assertEqual(data, b"+OK hello\r\n")
        with netfault.GarbageServer() as srv:
            with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
                got = b""
                while len(got) < 4096:
                    chunk = s.recv(8192)
                    if not chunk:
                        break
                    got += chunk
                self.assertEqual(got, srv.data)
        with netfault.SilentServer() as srv:
            with socket.create_connection(("127.0.0.1", srv.port), timeout=0.3) as s:
                with self.assertRaises(socket.timeout):
                    s.recv(10)


class WrongCertificate(harness.MailvaultTestCase):
    def test_wrong_name_refused(self):
        workdir = harness.make_tempdir("mv-dovecot-wrong-")
        self.addCleanup(harness.remove_tree, workdir)
        with Dovecot(workdir, wrong_cert=True) as dv:
            harness.ACTIVE_LOGS.append(("dovecot wrong-cert", dv.log_path))
            ctx = ssl.create_default_context(cafile=dv.ca_file)
            with self.assertRaises(ssl.SSLCertVerificationError) as cm:
                with socket.create_connection(("127.0.0.1", dv.imaps_port), timeout=5) as raw:
                    ctx.wrap_socket(raw, server_hostname="localhost")
            self.assertIn("mismatch", str(cm.exception))
            with socket.create_connection(("127.0.0.1", dv.imaps_port), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname="wrong.example") as s:
                    self.assertTrue(s.recv(100).startswith(b"* OK"))


class CommandLine(harness.MailvaultTestCase):
    def test_serve(self):
        workdir = harness.make_tempdir("mv-dovecot-cli-")
        self.addCleanup(harness.remove_tree, workdir)
        proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "dovecot.py"), "serve", "--workdir", workdir,
             "--user", "bob:bob-pw"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.stdout.close)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        info = json.loads(proc.stdout.readline())
        self.assertTrue(info["ok"], info)
        for key in ("imap", "imaps", "pop3", "pop3s", "ca_file", "pid", "log"):
            self.assertIn(key, info)
        harness.ACTIVE_LOGS.append(("dovecot serve", info["log"]))

        def call(**cmd):
            proc.stdin.write(json.dumps(cmd) + "\n")
            proc.stdin.flush()
            reply = json.loads(proc.stdout.readline())
            self.assertTrue(reply["ok"], reply)
            return reply

        self.assertEqual(call(cmd="append", user="bob", folder="INBOX", generate=10)["count"], 10)
        served = call(cmd="served_messages", user="bob", folder="INBOX")
        self.assertEqual([m["uid"] for m in served["messages"]], list(range(1, 11)))
        self.assertEqual(served["messages"][0]["sha256"],
                         hashlib.sha256(generate_messages(10)[0]).hexdigest())
        call(cmd="add_user", user="carol", password="carol-pw")
        p = poplib.POP3("127.0.0.1", info["pop3"], timeout=10)
        p.user("carol")
        p.pass_("carol-pw")
        p.quit()
        port = call(cmd="greeting_then_close")["port"]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            self.assertEqual(s.recv(100), b"+OK ready\r\n")
        bad = json.dumps({"cmd": "no_such_command"}) + "\n"
        proc.stdin.write(bad)
        proc.stdin.flush()
        self.assertFalse(json.loads(proc.stdout.readline())["ok"])
        # EOF on stdin stops Dovecot.
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=30), 0)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", info["imap"]), timeout=2).close()


if __name__ == "__main__":
    unittest.main()
