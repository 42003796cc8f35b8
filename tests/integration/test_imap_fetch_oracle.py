"""FETCH of the read-only IMAP server against Dovecot as the oracle.

The same messages (a sample of ../shared/corpora, CRLF-normalised, plus hand-made nested
multiparts) go into a private Dovecot INBOX and, through `mailvault import` of a Maildir, into
mailvault. Messages are matched by the SHA-256 of BODY.PEEK[]; then ENVELOPE, BODYSTRUCTURE,
BODY, BODY.PEEK[1], BODY.PEEK[1.MIME], BODY.PEEK[2], BODY.PEEK[1.TEXT], BODY.PEEK[2.HEADER] and
BINARY.PEEK[1] (with its tagged status: NO [UNKNOWN-CTE] counts too) are compared, parsed into
Python values by the small tokenizer below (so quoted string vs literal does not matter, the
content does). Counts are logged per item; every item must be equal except for two documented
differences: plain_7bit_quirk (Dovecot lower-cases BODY/BODYSTRUCTURE of plain 7-bit messages),
non_mime_cte_quirk (Dovecot's BINARY honours Content-Transfer-Encoding where its BODYSTRUCTURE
does not) and part_one_is_container (BINARY of a multipart/message part, not implemented in
mailvault).

Skipped when Dovecot is not installed or ../shared/corpora is absent.
"""

import os
import re
import socket
import unittest

import dovecot
import harness
import mailoracle

SAMPLE = 300
ITEMS = ["ENVELOPE", "BODYSTRUCTURE", "BODY", "BODY[1]", "BODY[1.MIME]", "BODY[2]",
         "BODY[1.TEXT]", "BODY[2.HEADER]"]
FETCH = ("(ENVELOPE BODYSTRUCTURE BODY BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2] "
         "BODY.PEEK[1.TEXT] BODY.PEEK[2.HEADER])")


def plain_7bit_quirk(dovecot_value, mailvault_value):
    """Dovecot quirk: a message that is a single text/plain part with at most charset=us-ascii,
    7bit and no other content fields is cached as a flag (MAIL_CACHE_FLAG_TEXT_PLAIN_7BIT_ASCII,
    lib-storage/index/index-mail.c) and its BODY/BODYSTRUCTURE regenerated in lower case
    ("text" "plain" ("charset" "us-ascii")) whatever the header said. mailvault writes the
    values as they are in the header (RFC 3501 does not ask for case folding; MIME types and
    charset names are case-insensitive). Equal up to that case folding."""
    def fold(v):
        return v[:3] if isinstance(v, list) else None
    if not (isinstance(dovecot_value, list) and isinstance(mailvault_value, list)):
        return False
    if len(dovecot_value) != len(mailvault_value) or dovecot_value[:2] != [b"text", b"plain"]:
        return False
    lowered = ([mailvault_value[0].lower(), mailvault_value[1].lower(),
                [x.lower() for x in mailvault_value[2]] if isinstance(mailvault_value[2], list)
                else mailvault_value[2]] + mailvault_value[3:5] + [mailvault_value[5].lower()] +
               mailvault_value[6:])
    return lowered == dovecot_value


def non_mime_cte_quirk(dovecot_result, bodystructure):
    """Dovecot quirk: in a message without MIME-Version and Content-Type, Dovecot ignores
    Content-Transfer-Encoding for BODYSTRUCTURE ("7bit", RFC 2045 section 4) but its BINARY
    decoder still reads the header and answers NO [UNKNOWN-CTE] for an unknown value. mailvault
    is consistent with the BODYSTRUCTURE it sends and serves the body as 7bit."""
    part = bodystructure[0] if isinstance(bodystructure[0], list) else bodystructure
    return (dovecot_result[0].startswith(b"NO [UNKNOWN-CTE]") and not isinstance(part[0], list)
            and bytes(part[5]).lower() == b"7bit")


def part_one_is_container(bodystructure):
    """True when part 1 of a message (by its BODYSTRUCTURE) is a multipart or message/rfc822.

    BINARY of such a part is not compared: Dovecot builds it by decoding every leaf below and
    rewriting their Content-Transfer-Encoding headers to "binary"; mailvault implements BINARY
    for leaf parts only (RFC 3516 decoding of one body) and serves a container's body as is."""
    part = bodystructure[0] if isinstance(bodystructure[0], list) else bodystructure
    return isinstance(part[0], list) or [bytes(x).lower() for x in part[:2]] == [b"message",
                                                                                  b"rfc822"]

HANDMADE = [
    b"From: Nest <nest@example.org>\r\nTo: a@example.org, Team: b@example.org, c@example.org;\r\n"
    b"Subject: nested\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\npreamble\r\n--o\r\n"
    b"Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
    b"\r\ncaf=C3=A9 =\r\nsoft\r\n--i\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--i--\r\n"
    b"--o\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=m.eml\r\n"
    b"\r\nFrom: inner@example.org\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=x\r\n"
    b"\r\n--x\r\n\r\none\r\n--x\r\nContent-Type: application/pdf; name*0=\"a\"; name*1=\"b.pdf\"\r\n"
    b"Content-Transfer-Encoding: base64\r\nContent-Language: en, de\r\n\r\nJVBERg==\r\n--x--\r\n"
    b"--o--\r\nepilogue\r\n",
    b"From: a@example.org\r\nSubject: missing end\r\n"
    b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n"
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ninner\r\n--a\r\n\r\nlast\r\n",
    b"From: a@example.org\r\nSubject: empty parts\r\n"
    b"Content-Type: multipart/mixed; boundary=e\r\n\r\n--e\r\n--e\r\n\r\n--e\r\n\r\n\r\n--e--\r\n",
    b"From: a@example.org\r\nSubject: odd cte\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbody\r\n",
    b"From: a@example.org\r\nSubject: odd cte, MIME\r\nMIME-Version: 1.0\r\n"
    b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbody\r\n",
    b"Subject: no from\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\n"
    b"Subject: digested\r\n\r\nbody\r\n--d--\r\n",
]


# ─── A small IMAP response tokenizer ─────────────────────────────────────────────────────────

class Atom(bytes):
    pass


class Client:
    """LOGIN + EXAMINE INBOX on a plain socket; responses parsed into lists, bytes, Atom, None."""

    def __init__(self, port, user, password):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buf = b""
        self.pos = 0
        self.n = 0
        self._line()  # greeting
        self.command("LOGIN %s %s" % (user, password))
        self.command("EXAMINE INBOX")

    def close(self):
        try:
            self.command("LOGOUT")
        except Exception:
            pass
        self.sock.close()

    def _more(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf = self.buf[self.pos:] + data
        self.pos = 0

    def _need(self, n):
        while len(self.buf) - self.pos < n:
            self._more()

    def _peek(self):
        self._need(1)
        return self.buf[self.pos:self.pos + 1]

    def _line(self):
        while self.buf.find(b"\r\n", self.pos) < 0:
            self._more()
        end = self.buf.index(b"\r\n", self.pos)
        line = self.buf[self.pos:end]
        self.pos = end + 2
        return line

    def _value(self):
        c = self._peek()
        if c == b"(":
            self.pos += 1
            out = []
            while True:
                while self._peek() == b" ":
                    self.pos += 1
                if self._peek() == b")":
                    self.pos += 1
                    return out
                out.append(self._value())
        if c == b'"':
            self.pos += 1
            out = bytearray()
            while True:
                ch = self._peek()
                self.pos += 1
                if ch == b"\\":
                    out += self._peek()
                    self.pos += 1
                elif ch == b'"':
                    return bytes(out)
                else:
                    out += ch
        if c in (b"{", b"~"):
            if c == b"~":
                self.pos += 1
            while self.buf.find(b"}\r\n", self.pos) < 0:
                self._more()
            end = self.buf.index(b"}\r\n", self.pos)
            n = int(self.buf[self.pos + 1:end].rstrip(b"+"))
            self.pos = end + 3
            self._need(n)
            data = self.buf[self.pos:self.pos + n]
            self.pos += n
            return bytes(data)
        # an atom, possibly with [...] that holds spaces (BODY[HEADER.FIELDS (A B)]<0>)
        out = bytearray()
        depth = 0
        while True:
            ch = self._peek()
            if depth == 0 and ch in (b" ", b")", b"(", b"\r"):
                break
            if ch == b"[":
                depth += 1
            elif ch == b"]":
                depth -= 1
            out += ch
            self.pos += 1
        return None if bytes(out).upper() == b"NIL" else Atom(bytes(out))

    def command(self, text):
        """(untagged responses as token lists, tagged status line)."""
        self.n += 1
        tag = b"t%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        untagged = []
        while True:
            self._need(2)
            if self.buf.startswith(tag + b" ", self.pos):
                line = self._line()
                if not line.startswith(tag + b" OK") and text.split()[0] in ("LOGIN", "EXAMINE"):
                    raise RuntimeError(line)
                return untagged, line
            if self.buf.startswith(b"* ", self.pos):
                self.pos += 2
                tokens = []
                while True:
                    while self._peek() == b" ":
                        self.pos += 1
                    if self.buf.startswith(b"\r\n", self.pos):
                        self.pos += 2
                        break
                    tokens.append(self._value())
                untagged.append(tokens)
            else:
                self._line()  # continuation or junk

    def fetch(self, uids, items):
        """{uid: {item name: value}} and the tagged line."""
        untagged, status = self.command("UID FETCH %s %s" % (uids, items))
        out = {}
        for t in untagged:
            if len(t) >= 3 and t[1] == b"FETCH":
                kv = t[2]
                d = {bytes(kv[i]).decode(): kv[i + 1] for i in range(0, len(kv) - 1, 2)}
                out[int(d["UID"])] = d
        return out, status


def canonical(v):
    if isinstance(v, list):
        return [canonical(x) for x in v]
    if isinstance(v, (bytes, Atom)):
        return bytes(v)
    return v


def corpus_sample():
    root = harness.corpora_dir()
    rels = []
    with open(os.path.join(root, "MANIFEST.tsv"), encoding="utf-8") as fh:
        next(fh)
        rels = [line.split("\t", 1)[0] for line in fh if line.strip()]
    step = max(1, len(rels) // SAMPLE)
    out = []
    for rel in rels[::step][:SAMPLE]:
        path, _, index = rel.partition("#")
        with open(os.path.join(root, path), "rb") as m:
            data = m.read()
        if index:
            offset, length = mailoracle.split_mbox(data)[int(index) - 1]
            data = data[offset:offset + length]
        if data:
            out.append(data)
    return out


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@unittest.skipIf(dovecot.dovecot_available(), dovecot.dovecot_available() or "")
class FetchOracle(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_corpora(cls)
        msgs, seen = [], set()
        for m in corpus_sample() + HANDMADE:
            m = crlf(m)
            h = harness.sha256_hex(m)
            if h not in seen:
                seen.add(h)
                msgs.append(m)
        cls.msgs = msgs
        cls.tmp = harness.make_tempdir()
        cls.dv = dovecot.Dovecot(os.path.join(cls.tmp, "dovecot")).start()
        cls.dv.add_user("oracle", "oracle-pw")
        cls.dv.append("oracle", "INBOX", msgs)
        harness.ACTIVE_LOGS.append(("dovecot", cls.dv.log_path))
        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.data = os.path.join(cls.tmp, "data")
        cls.server = harness.Server(cls.data, database_url=cls.pg.create_database(),
                                    extra_args=["--imap-listen", "127.0.0.1:0"])
        try:
            cls.server.start()
            cls.mv_port = cls.server.listen_port()
            maildir = os.path.join(cls.tmp, "in", "maildir")
            for d in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(maildir, d))
            for i, m in enumerate(msgs):
                with open(os.path.join(maildir, "cur", "17000%05d.M%dP1.host:2,S" % (i, i)),
                          "wb") as fh:
                    fh.write(m)
            r = cls.server.cli("import", maildir, "--json", timeout=harness.slow(600))
            assert r.returncode == 0, r.describe()
            r = harness.run_cli(["user", "add", "audra", "--data-dir", cls.data, "--role",
                                 "auditor", "--password-stdin"], input=b"audra-pw\n")
            assert r.returncode == 0, r.describe()
        except Exception:
            cls.server.stop()
            cls.pg.cleanup()
            cls.dv.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_checked()
        finally:
            cls.pg.cleanup()
            cls.dv.stop()
            harness.remove_tree(cls.tmp)

    def test_fetch_items_equal_dovecot(self):
        dv = Client(self.dv.imap_port, "oracle", "oracle-pw")
        mv = Client(self.mv_port, "audra", "audra-pw")
        self.addCleanup(dv.close)
        self.addCleanup(mv.close)
        dv_raw, _ = dv.fetch("1:*", "(BODY.PEEK[])")
        mv_raw, _ = mv.fetch("1:*", "(BODY.PEEK[])")
        dv_by_sha = {harness.sha256_hex(d["BODY[]"]): u for u, d in dv_raw.items()}
        mv_by_sha = {harness.sha256_hex(d["BODY[]"]): u for u, d in mv_raw.items()}
        common = sorted(set(dv_by_sha) & set(mv_by_sha))
        harness.log("fetch oracle: %d messages sent, Dovecot %d, mailvault %d, matched %d" % (
            len(self.msgs), len(dv_by_sha), len(mv_by_sha), len(common)))
        self.assertGreaterEqual(len(common), min(200, len(self.msgs)))
        dv_items, st = dv.fetch("1:*", FETCH)
        self.assertIn(b" OK", st)
        mv_items, st = mv.fetch("1:*", FETCH)
        self.assertIn(b" OK", st)
        diffs = {}
        equal = {}
        quirks = {}  # item -> count of plain_7bit_quirk cases
        for h in common:
            du, mu = dv_by_sha[h], mv_by_sha[h]
            for item in ITEMS:
                a = canonical(dv_items[du].get(item))
                b = canonical(mv_items[mu].get(item))
                if a == b:
                    equal[item] = equal.get(item, 0) + 1
                elif item in ("BODY", "BODYSTRUCTURE") and plain_7bit_quirk(a, b):
                    quirks[item] = quirks.get(item, 0) + 1
                else:
                    diffs.setdefault(item, []).append((h[:12], a, b))
            # BINARY per message: an unknown encoding fails the command with [UNKNOWN-CTE].
            a, sa = dv.fetch(du, "(BINARY.PEEK[1])")
            b, sb = mv.fetch(mu, "(BINARY.PEEK[1])")
            status = lambda s: re.match(rb"t\d+ (\w+)( \[[^\]]*\])?", s).group(0).split(b" ", 1)[1]  # noqa: E731
            va = (status(sa), canonical(a.get(du, {}).get("BINARY[1]")))
            vb = (status(sb), canonical(b.get(mu, {}).get("BINARY[1]")))
            if va == vb:
                equal["BINARY[1]"] = equal.get("BINARY[1]", 0) + 1
            elif (part_one_is_container(canonical(mv_items[mu]["BODYSTRUCTURE"])) or
                  non_mime_cte_quirk(va, canonical(mv_items[mu]["BODYSTRUCTURE"]))):
                quirks["BINARY[1]"] = quirks.get("BINARY[1]", 0) + 1
            else:
                diffs.setdefault("BINARY[1]", []).append((h[:12], va, vb))
        for item in ITEMS + ["BINARY[1]"]:
            harness.log("fetch oracle: %-14s equal %4d, known differences %3d, different %4d" % (
                item, equal.get(item, 0), quirks.get(item, 0), len(diffs.get(item, []))))
        report = []
        for item, rows in diffs.items():
            for sha, a, b in rows[:5]:
                report.append("%s %s\n  dovecot:   %r\n  mailvault: %r" % (
                    item, sha, repr(a)[:1500], repr(b)[:1500]))
        self.assertFalse(report, "\n".join(report))


if __name__ == "__main__":
    unittest.main()
