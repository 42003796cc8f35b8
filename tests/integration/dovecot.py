#!/usr/bin/python3
"""A private Dovecot 2.3 on 127.0.0.1 for tests: the one launcher of the Python integration tests
and of the C++ tests (which run ``dovecot.py serve`` and talk to it over stdin/stdout).

Debian's /usr/bin/python3 standard library only; Dovecot (dovecot-imapd, dovecot-pop3d) and the
``openssl`` command must be installed (nothing is installed at test time).

Module use::

    from dovecot import Dovecot
    with Dovecot("/tmp/some-empty-dir") as dv:          # start() ... stop()
        dv.add_user("alice", "secret")
        dv.create_folder("alice", "Archive/2019")
        dv.create_folder("alice", "Prüfung/Übersicht")
        dv.append("alice", "Archive/2019", [b"Subject: a\\r\\n\\r\\nbody\\r\\n", ...])
        imap = dv.imap("alice", tls="imaps")           # logged-in imaplib, verified with dv.ca_file
        dv.served_messages("alice", "Archive/2019")    # [(uid, bytes of BODY.PEEK[]), ...]
        dv.recreate_folder("alice", "Archive/2019")    # same messages, new UIDVALIDITY
        dv.kill_imap_processes()                       # cut every IMAP session mid-command

    dv.imap_port, dv.imaps_port, dv.pop3_port, dv.pop3s_port, dv.ca_file, dv.pid, dv.log_path
    Dovecot(dir, imap_capability="IMAP4rev1 LITERAL+ ID")  # a server that does not offer IDLE

Command line (for C++ fixtures)::

    /usr/bin/python3 dovecot.py serve --workdir D --user u:p [--user ...] [--wrong-cert]

prints one JSON line ``{"ok": true, "imap": P, "imaps": P, "pop3": P, "pop3s": P, "ca_file": F,
"pid": N, "log": F, "workdir": D, "apop": true}`` and then serves until SIGTERM, SIGINT or EOF on
stdin. Each further stdin line is a JSON command answered by one JSON line (``{"ok": true, ...}``
or ``{"ok": false, "error": "..."}``)::

    {"cmd": "add_user", "user": "u", "password": "p"}
    {"cmd": "create_folder", "user": "u", "folder": "A/B"}
    {"cmd": "append", "user": "u", "folder": "INBOX", "files": ["/path/1.eml", ...]}
    {"cmd": "append", "user": "u", "folder": "INBOX", "generate": 100, "seed": 1}
    {"cmd": "served_messages", "user": "u", "folder": "INBOX"}
         -> {"ok": true, "uidvalidity": N, "messages": [{"uid": 1, "size": 123, "sha256": "..."}]}
    {"cmd": "recreate_folder", "user": "u", "folder": "A/B"}     -> {"ok": true, "uidvalidity": N}
    {"cmd": "kill_imap_processes"} / {"cmd": "kill_pop3_processes"}   -> {"ok": true, "killed": N}
    {"cmd": "proxy", "target": "pop3", "cut_after": 5000}    -> {"ok": true, "port": P}
    {"cmd": "greeting_then_close", "greeting": "+OK hi\r\n"} / {"cmd": "garbage"} /
    {"cmd": "silent"}                                          -> {"ok": true, "port": P}
    {"cmd": "stop"}

(the fault servers are those of netfault.py, on 127.0.0.1, stopped when serve exits).

Layout and settings (documented because tests depend on them):

* everything lives under ``workdir``: ``run/`` (base_dir), ``state/``, ``dovecot.log``,
  ``tls/`` (test CA and server certificate), ``users`` (passwd-file, ``{PLAIN}`` passwords),
  ``mail/<user>/Maildir``;
* ``mail_location = maildir:~/Maildir:LAYOUT=fs``: folders are nested directories, so nested
  names (``Archive/2019``) and names with dots work; INBOX is ``~/Maildir`` itself, so the names
  ``cur``, ``new`` and ``tmp`` are not usable as top-level folders. Names are stored in modified
  UTF-7 on disk (Dovecot's default), so ``Prüfung/Übersicht`` is ``Pr&APw-fung/&ANw-bersicht``;
* one ``inbox`` namespace with separator ``/``; ``disable_plaintext_auth = no``;
  ``auth_mechanisms = plain login apop`` (APOP works because passwords are stored in plaintext;
  the POP3 greeting carries the APOP timestamp); ``pop3_uidl_format = %08Xu%08Xv``; no FTS;
  ``mail_fsync = never`` (tests, not durability); ``auth_failure_delay = 0`` and no auth penalty
  (wrong-password tests do not wait 2-15 s);
* mail processes run as the system user ``mail`` (static userdb); the master runs as whoever
  starts it (root on CI);
* TLS: a test CA and a server certificate for ``IP:127.0.0.1, DNS:localhost`` (or only
  ``DNS:wrong.example`` with ``wrong_cert=True``) made with the ``openssl`` command; TLS >= 1.2;
  ``imap`` and ``pop3`` ports offer STARTTLS/STLS, ``imaps``/``pop3s`` are implicit TLS.

``append()`` writes files straight into the folder's ``new/`` directory (names ordered so that
Dovecot assigns UIDs in list order; about 20,000 messages a second), or with ``method="imap"``
sends pipelined ``APPEND`` commands with LITERAL+ over one connection (Dovecot stores them; a few
thousand a second). Dovecot serves LF-only files with CRLF line endings over IMAP and POP3.
"""

import argparse
import base64
import hashlib
import imaplib
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

DOVECOT = "/usr/sbin/dovecot"
DOVECONF = "/usr/bin/doveconf"
OPENSSL = "/usr/bin/openssl"
MAIL_USER = "mail"


class DovecotError(RuntimeError):
    pass


def dovecot_available():
    """None when Dovecot with imap and pop3 is installed, else the reason it cannot run."""
    for path in (DOVECOT, "/usr/lib/dovecot/imap", "/usr/lib/dovecot/pop3", OPENSSL):
        if not os.access(path, os.X_OK):
            return "%s is not installed (needs dovecot-imapd, dovecot-pop3d and openssl)" % path
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def imap_utf7_encode(name):
    """Modified UTF-7 of RFC 3501 §5.1.3 (mailbox names on the IMAP wire and on Dovecot's disk)."""
    out = []
    pending = []

    def flush():
        if pending:
            b64 = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + b64.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def imap_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate_messages(count, seed=1, size=600):
    """`count` deterministic, distinct RFC 5322 messages (CRLF line endings)."""
    rng = random.Random(seed)
    words = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
             "november oscar papa quebec romeo sierra tango uniform victor whiskey xray").split()
    out = []
    for i in range(count):
        body_words = [rng.choice(words) for _ in range(max(1, size // 7))]
        lines = [" ".join(body_words[j:j + 10]) for j in range(0, len(body_words), 10)]
        if i % 7 == 0:
            lines.append(".a line that starts with a dot")
            lines.append(".")
            lines.append("..")
        msg = ("From: Sender %d <sender%d@example.org>\r\n"
               "To: rcpt@example.net\r\n"
               "Subject: test message %d seed %d\r\n"
               "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
               "Message-ID: <m%d.s%d@example.org>\r\n"
               "\r\n" % (i, i, i, seed, i, seed)) + "\r\n".join(lines) + "\r\n"
        out.append(msg.encode("utf-8"))
    return out


class Dovecot:
    """A private Dovecot instance under `workdir` (created if missing; must not hold another
    instance). Not thread-safe; start() and stop() from one thread."""

    def __init__(self, workdir, wrong_cert=False, apop=True, startup_timeout=30,
                 imap_capability=None, extra_conf=""):
        self.workdir = os.path.abspath(workdir)
        self.extra_conf = extra_conf  # appended to dovecot.conf (e.g. the FTS plugin's settings)
        self.wrong_cert = wrong_cert
        self.apop = apop
        # What IMAP advertises after login, e.g. a list without IDLE (None: Dovecot's own).
        self.imap_capability = imap_capability
        self.startup_timeout = startup_timeout
        self.users = {}
        self.imap_port = self.imaps_port = self.pop3_port = self.pop3s_port = None
        self.proc = None
        self._seq = 0  # Maildir file names, see _append_maildir
        self._name_base = int(time.time()) - 86400
        self._users_mtime = 0
        self._mail_ids = pwd.getpwnam(MAIL_USER)
        self.run_dir = os.path.join(self.workdir, "run")
        self.state_dir = os.path.join(self.workdir, "state")
        self.tls_dir = os.path.join(self.workdir, "tls")
        self.mail_root = os.path.join(self.workdir, "mail")
        self.log_path = os.path.join(self.workdir, "dovecot.log")
        self.stderr_path = os.path.join(self.workdir, "dovecot.stderr")
        self.conf_path = os.path.join(self.workdir, "dovecot.conf")
        self.users_path = os.path.join(self.workdir, "users")
        self.ca_file = os.path.join(self.tls_dir, "ca.pem")

    # ---------------------------------------------------------------- lifecycle

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        reason = dovecot_available()
        if reason:
            raise DovecotError(reason)
        os.makedirs(self.workdir, exist_ok=True)
        # Login processes (dovenull) and mail processes (mail) must traverse the tree.
        os.chmod(self.workdir, 0o755)
        for d in (self.run_dir, self.state_dir, self.tls_dir, self.mail_root):
            os.makedirs(d, exist_ok=True)
        os.chown(self.mail_root, self._mail_ids.pw_uid, self._mail_ids.pw_gid)
        self._make_certificates()
        self._write_users()
        last = None
        for _attempt in range(3):  # a free port can be taken between choosing and binding
            self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port = (
                free_port(), free_port(), free_port(), free_port())
            self._write_config()
            try:
                self._launch()
                return self
            except DovecotError as e:
                last = e
                if "Address already in use" not in str(e):
                    raise
        raise last

    def _launch(self):
        check = subprocess.run([DOVECONF, "-c", self.conf_path, "-n"], capture_output=True,
                               text=True, timeout=30)
        if check.returncode != 0:
            raise DovecotError("dovecot configuration %s rejected: %s" %
                               (self.conf_path, check.stderr.strip()))
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf_path],
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.monotonic() + self.startup_timeout
        # Ready means a greeting on every port: pop3-login greets only once the auth process
        # answers, and a probe that left before that would hold up Dovecot's shutdown by 6 s.
        pending = [(self.imap_port, False), (self.imaps_port, True), (self.pop3_port, False),
                   (self.pop3s_port, True)]
        while pending:
            if self.proc.poll() is not None:
                self.proc = None
                raise DovecotError("dovecot exited during start-up; %s" % self._log_hint())
            if self._greets(*pending[0]):
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                self.stop()
                raise DovecotError("dovecot did not greet on 127.0.0.1:%d within %ds; %s" %
                                   (pending[0][0], self.startup_timeout, self._log_hint()))
            time.sleep(0.05)

    def _greets(self, port, tls):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
                if tls:
                    ctx = ssl.create_default_context(cafile=self.ca_file)
                    ctx.check_hostname = False  # also for the wrong-name certificate
                    with ctx.wrap_socket(raw) as s:
                        return s.recv(1) in (b"*", b"+")
                return raw.recv(1) in (b"*", b"+")
        except OSError:
            return False

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=30):
        text = ""
        for path in (self.stderr_path, self.log_path):
            try:
                with open(path, "rb") as fh:
                    text += fh.read()[-64 * 1024:].decode("utf-8", "replace")
            except OSError:
                pass
        return "\n".join(text.splitlines()[-lines:])

    def _log_hint(self):
        return "see the Dovecot log %s (and %s); last lines:\n%s" % (
            self.log_path, self.stderr_path, self.log_tail(15))

    def _make_certificates(self):
        if os.path.exists(os.path.join(self.tls_dir, "server.pem")):
            return
        san = "DNS:wrong.example" if self.wrong_cert else "IP:127.0.0.1,DNS:localhost"
        cn = "wrong.example" if self.wrong_cert else "localhost"
        with open(os.path.join(self.tls_dir, "server.ext"), "w") as fh:
            fh.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                     "extendedKeyUsage=serverAuth\n" % san)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        steps = [
            [OPENSSL, "req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "7",
             "-subj", "/CN=mailvault test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            [OPENSSL, "req"] + ec + ["-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=" + cn],
            [OPENSSL, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "7", "-out", "server.pem", "-extfile", "server.ext"],
        ]
        for argv in steps:
            r = subprocess.run(argv, cwd=self.tls_dir, capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise DovecotError("openssl failed (%s): %s" % (" ".join(argv), r.stderr.strip()))

    def _write_users(self):
        tmp = self.users_path + ".tmp"
        with open(tmp, "w") as fh:
            for name, password in sorted(self.users.items()):
                fh.write("%s:{PLAIN}%s::::::\n" % (name, password))
        os.chmod(tmp, 0o644)  # read by the auth process (user dovecot)
        # Dovecot re-reads a passwd-file when its mtime or size changed, checking at most once
        # a second: give every version a new mtime, and let the second of the write pass.
        self._users_mtime = max(self._users_mtime + 1, int(time.time()))
        os.utime(tmp, (self._users_mtime, self._users_mtime))
        written = time.time()
        os.replace(tmp, self.users_path)
        if self.running():
            time.sleep(max(0.0, int(written) + 1.01 - time.time()))

    def _write_config(self):
        w = self.workdir
        mechanisms = "plain login apop" if self.apop else "plain login"
        capability = ("  imap_capability = %s\n" % self.imap_capability
                      if self.imap_capability else "")
        conf = f"""# Written by tests/integration/dovecot.py; private instance for tests.
base_dir = {self.run_dir}
state_dir = {self.state_dir}
log_path = {self.log_path}
info_log_path = {self.log_path}
instance_name = mailvault-test-{os.path.basename(w)}
listen = 127.0.0.1
protocols = imap pop3
ssl = yes
ssl_cert = <{self.tls_dir}/server.pem
ssl_key = <{self.tls_dir}/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users_path}
}}
userdb {{
  driver = static
  args = uid={MAIL_USER} gid={MAIL_USER} home={self.mail_root}/%u
}}
first_valid_uid = {self._mail_ids.pw_uid}
first_valid_gid = {self._mail_ids.pw_gid}
mail_location = maildir:~/Maildir:LAYOUT=fs
namespace inbox {{
  inbox = yes
  separator = /
}}
mail_fsync = never
pop3_uidl_format = %08Xu%08Xv
protocol imap {{
  mail_max_userip_connections = 1000
{capability}}}
protocol pop3 {{
  mail_max_userip_connections = 1000
}}
# No auth penalty (anvil delays logins from an address after failed ones, up to 15 s): the
# auth process cannot use a socket of mode 0, which disables the penalty.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {self.pop3s_port}
    ssl = yes
  }}
}}
"""
        with open(self.conf_path, "w") as fh:
            fh.write(conf + self.extra_conf)

    # ---------------------------------------------------------------- users and folders

    def add_user(self, name, password):
        """Adds (or changes) a user; works before and after start (Dovecot re-reads the file)."""
        if not re.fullmatch(r"[A-Za-z0-9._@+-]+", name) or ":" in password or "\n" in password:
            raise ValueError("unsupported user name or password for a passwd-file: %r" % name)
        self.users[name] = password
        home = self.home(name)
        for d in (home, os.path.join(home, "Maildir")):
            os.makedirs(d, exist_ok=True)
            os.chown(d, self._mail_ids.pw_uid, self._mail_ids.pw_gid)
        self._write_users()

    def home(self, user):
        return os.path.join(self.mail_root, user)

    def folder_path(self, user, folder):
        """The Maildir directory of `folder` (LAYOUT=fs, names in modified UTF-7)."""
        root = os.path.join(self.home(user), "Maildir")
        if folder.upper() == "INBOX":
            return root
        return os.path.join(root, *imap_utf7_encode(folder).split("/"))

    def imap(self, user, tls="none", password=None):
        """A logged-in imaplib client: tls is "none", "starttls" or "imaps" (verified with
        ca_file against 127.0.0.1). The caller logs out."""
        password = self.users[user] if password is None else password
        if tls == "imaps":
            ctx = ssl.create_default_context(cafile=self.ca_file)
            m = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=ctx, timeout=60)
        else:
            m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=60)
            if tls == "starttls":
                m.starttls(ssl.create_default_context(cafile=self.ca_file))
        m.login(user, password)
        return m

    def _check(self, what, result):
        typ, data = result
        if typ != "OK":
            raise DovecotError("%s: %s %r; %s" % (what, typ, data, self._log_hint()))
        return data

    def create_folder(self, user, folder):
        """Creates `folder` (and its parents) through IMAP CREATE; existing folders are fine."""
        m = self.imap(user)
        try:
            parts = folder.split("/")
            for i in range(1, len(parts) + 1):
                name = "/".join(parts[:i])
                typ, data = m.create(imap_quote(imap_utf7_encode(name)))
                if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(data):
                    raise DovecotError("CREATE %s: %r; %s" % (name, data, self._log_hint()))
        finally:
            m.logout()

    def uidvalidity(self, user, folder):
        m = self.imap(user)
        try:
            data = self._check("STATUS", m.status(imap_quote(imap_utf7_encode(folder)),
                                                  "(UIDVALIDITY)"))
            return int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))
        finally:
            m.logout()

    def append(self, user, folder, messages, method="maildir", mtimes=None):
        """Adds `messages` (a list of bytes) to `folder` (created if needed), in order: their
        UIDs ascend in list order. With method "maildir", `mtimes` (one Unix time per message)
        sets the files' mtimes, which Dovecot serves as INTERNALDATE. Returns the number of
        seconds it took."""
        start = time.monotonic()
        if folder.upper() != "INBOX":
            self.create_folder(user, folder)
        if method == "maildir":
            self._append_maildir(user, folder, messages, mtimes)
        elif method == "imap":
            self._append_imap(user, folder, messages)
        else:
            raise ValueError("append method must be 'maildir' or 'imap', not %r" % method)
        return time.monotonic() - start

    def _append_maildir(self, user, folder, messages, mtimes=None):
        path = self.folder_path(user, folder)
        uid, gid = self._mail_ids.pw_uid, self._mail_ids.pw_gid
        if not os.path.isdir(path):
            raise DovecotError("folder %r of %s has no Maildir at %s" % (folder, user, path))
        for sub in ("cur", "new", "tmp"):  # INBOX has none until Dovecot first opens it
            d = os.path.join(path, sub)
            if not os.path.isdir(d):
                os.mkdir(d, 0o700)
                os.chown(d, uid, gid)
        new_dir = os.path.join(path, "new")
        tmp_dir = os.path.join(path, "tmp")
        # Dovecot gives UIDs to new/ files in the order of the time in their names
        # ("<secs>.M<usec>"): one counter per instance makes the names ascend across calls.
        host = "mailvault-test"
        pid = os.getpid()
        for i, data in enumerate(messages):
            n = self._seq
            self._seq += 1
            name = "%d.M%06dP%d.%s,S=%d" % (self._name_base + n // 1000000, n % 1000000, pid,
                                           host, len(data))
            tmp = os.path.join(tmp_dir, name)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fchown(fd, uid, gid)
                if mtimes is not None:
                    os.utime(fd, (mtimes[i], mtimes[i]))
            finally:
                os.close(fd)
            os.rename(tmp, os.path.join(new_dir, name))

    def _append_imap(self, user, folder, messages, window=64):
        """Pipelined APPEND with LITERAL+ ({n+}: no continuation round trip)."""
        ctx = ssl.create_default_context(cafile=self.ca_file)
        raw = socket.create_connection(("127.0.0.1", self.imaps_port), timeout=120)
        sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        reader = sock.makefile("rb")
        try:
            reader.readline()  # greeting
            box = imap_quote(imap_utf7_encode(folder)).encode("utf-8")
            sock.sendall(b"L LOGIN %s %s\r\n" % (imap_quote(user).encode(),
                                                 imap_quote(self.users[user]).encode()))
            self._imap_wait(reader, b"L")
            sent = done = 0
            while done < len(messages):
                batch = []
                while sent < len(messages) and sent - done < window:
                    data = messages[sent]
                    batch.append(b"A%d APPEND %s {%d+}\r\n" % (sent, box, len(data)) + data + b"\r\n")
                    sent += 1
                if batch:
                    sock.sendall(b"".join(batch))
                self._imap_wait(reader, b"A%d" % done)
                done += 1
            sock.sendall(b"Z LOGOUT\r\n")
        finally:
            reader.close()
            sock.close()

    def _imap_wait(self, reader, tag):
        while True:
            line = reader.readline()
            if not line:
                raise DovecotError("IMAP connection closed waiting for %s; %s" %
                                   (tag.decode(), self._log_hint()))
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise DovecotError("IMAP %s: %s; %s" % (tag.decode(), line.decode(
                        "utf-8", "replace").strip(), self._log_hint()))
                return

    def served_messages(self, user, folder):
        """[(uid, bytes)] of every message in `folder` as IMAP serves BODY.PEEK[], UID order."""
        m = self.imap(user)
        try:
            self._check("EXAMINE", m.select(imap_quote(imap_utf7_encode(folder)), readonly=True))
            typ, data = m.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
            if typ != "OK":
                raise DovecotError("UID FETCH: %r; %s" % (data, self._log_hint()))
            out = []
            for item in data:
                if isinstance(item, tuple):
                    match = re.search(rb"UID (\d+)", item[0])
                    if not match:
                        raise DovecotError("FETCH response without UID: %r" % item[0][:200])
                    out.append((int(match.group(1)), item[1]))
            out.sort()
            return out
        finally:
            m.logout()

    def recreate_folder(self, user, folder):
        """Deletes and re-creates `folder` with the same messages (as served), so that its
        UIDVALIDITY changes. Returns the new UIDVALIDITY. INBOX cannot be deleted: ValueError."""
        if folder.upper() == "INBOX":
            raise ValueError("recreate_folder: INBOX cannot be deleted in IMAP")
        before = self.uidvalidity(user, folder)
        messages = [data for _uid, data in self.served_messages(user, folder)]
        m = self.imap(user)
        try:
            self._check("DELETE", m.delete(imap_quote(imap_utf7_encode(folder))))
        finally:
            m.logout()
        self.append(user, folder, messages)
        after = self.uidvalidity(user, folder)
        if after == before:
            raise DovecotError("UIDVALIDITY of %r did not change (%d)" % (folder, after))
        return after

    # ---------------------------------------------------------------- processes

    def _children(self, name):
        """PIDs of this instance's processes whose executable is /usr/lib/dovecot/<name>."""
        if not self.running():
            return []
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry, "rb") as fh:
                    stat = fh.read()
                ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
                exe = os.readlink("/proc/%s/exe" % entry)
            except (OSError, ValueError):
                continue
            if ppid == self.proc.pid and os.path.basename(exe) == name:
                out.append(int(entry))
        return out

    def kill_processes(self, name):
        """SIGKILLs this instance's `name` processes (imap, pop3, ...); returns how many."""
        pids = self._children(name)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def kill_imap_processes(self):
        """Cuts every open IMAP session (the per-connection `imap` processes) mid-command."""
        return self.kill_processes("imap")

    def kill_pop3_processes(self):
        return self.kill_processes("pop3")

    def describe(self):
        return {"ok": True, "imap": self.imap_port, "imaps": self.imaps_port,
                "pop3": self.pop3_port, "pop3s": self.pop3s_port, "ca_file": self.ca_file,
                "pid": self.pid, "log": self.log_path, "workdir": self.workdir,
                "apop": self.apop, "wrong_cert": self.wrong_cert}


# -------------------------------------------------------------------- command line

def _serve_command(dv, cmd):
    op = cmd.get("cmd")
    if op == "add_user":
        dv.add_user(cmd["user"], cmd["password"])
        return {}
    if op == "create_folder":
        dv.create_folder(cmd["user"], cmd["folder"])
        return {}
    if op == "append":
        if "files" in cmd:
            messages = []
            for path in cmd["files"]:
                with open(path, "rb") as fh:
                    messages.append(fh.read())
        else:
            messages = generate_messages(int(cmd["generate"]), int(cmd.get("seed", 1)),
                                         int(cmd.get("size", 600)))
        seconds = dv.append(cmd["user"], cmd["folder"], messages, cmd.get("method", "maildir"))
        return {"count": len(messages), "seconds": round(seconds, 3)}
    if op == "served_messages":
        served = dv.served_messages(cmd["user"], cmd["folder"])
        return {"uidvalidity": dv.uidvalidity(cmd["user"], cmd["folder"]),
                "messages": [{"uid": uid, "size": len(data),
                              "sha256": hashlib.sha256(data).hexdigest()}
                             for uid, data in served]}
    if op == "recreate_folder":
        return {"uidvalidity": dv.recreate_folder(cmd["user"], cmd["folder"])}
    if op == "kill_imap_processes":
        return {"killed": dv.kill_imap_processes()}
    if op == "kill_pop3_processes":
        return {"killed": dv.kill_pop3_processes()}
    if op == "describe":
        return dv.describe()
    if op in ("proxy", "greeting_then_close", "garbage", "silent"):
        import netfault  # beside this file
        if op == "proxy":
            target = cmd.get("target", "imap")
            port = cmd["port"] if "port" in cmd else getattr(dv, target + "_port")
            server = netfault.CuttingProxy(port, cut_after=cmd.get("cut_after"),
                                           reset=bool(cmd.get("reset", False)))
        elif op == "greeting_then_close":
            server = netfault.GreetingThenClose(cmd.get("greeting", "+OK ready\r\n").encode())
        elif op == "garbage":
            data = cmd["data"].encode() if "data" in cmd else None
            server = netfault.GarbageServer(data, keep_open=bool(cmd.get("keep_open", False)))
        else:
            server = netfault.SilentServer()
        _FAULT_SERVERS.append(server)
        return {"port": server.port}
    raise ValueError("unknown command %r" % op)


_FAULT_SERVERS = []  # started by serve commands; stopped on exit


def _emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def serve(args):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    dv = Dovecot(args.workdir, wrong_cert=args.wrong_cert, apop=not args.no_apop)
    try:
        for spec in args.user or []:
            name, _, password = spec.partition(":")
            dv.add_user(name, password)
        dv.start()
    except Exception as e:  # noqa: BLE001 - reported to the parent as JSON
        _emit({"ok": False, "error": str(e)})
        dv.stop()
        return 1

    def commands():
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                cmd = json.loads(line)
                if cmd.get("cmd") == "stop":
                    _emit({"ok": True})
                    break
                reply = {"ok": True}
                reply.update(_serve_command(dv, cmd))
            except Exception as e:  # noqa: BLE001
                reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
            _emit(reply)
        stop.set()  # EOF: the parent is gone

    threading.Thread(target=commands, daemon=True).start()
    _emit(dv.describe())
    try:
        while not stop.wait(0.5):
            if not dv.running():
                sys.stderr.write("dovecot.py: dovecot exited; %s\n" % dv._log_hint())
                return 1
    finally:
        for server in _FAULT_SERVERS:
            server.stop()
        dv.stop()
        if args.cleanup:
            shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="start Dovecot, print its ports as JSON, serve until "
                                     "SIGTERM or EOF on stdin")
    p.add_argument("--workdir", required=True)
    p.add_argument("--user", action="append", metavar="NAME:PASSWORD")
    p.add_argument("--wrong-cert", action="store_true",
                   help="serve a certificate for DNS:wrong.example only")
    p.add_argument("--no-apop", action="store_true")
    p.add_argument("--cleanup", action="store_true", help="remove the workdir on exit")
    sub.add_parser("check", help="exit 0 if Dovecot can run here, else print why")
    args = parser.parse_args(argv)
    if args.command == "check":
        reason = dovecot_available()
        if reason:
            print(reason)
            return 1
        return 0
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
