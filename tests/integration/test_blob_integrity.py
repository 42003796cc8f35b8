"""A blob changed on disk after it was archived is never served as the archived message.

Every read checks the bytes against the SHA-256 recorded when the message was archived; the
server's body cache (`serve --body-cache-mb`) only ever holds bytes that passed that check.

Three messages are ingested over gRPC into one server (its own PostgreSQL). Then, for a message
whose blob file is replaced by a well-formed zstd frame of other bytes (so that only the
SHA-256 check can tell) and for one whose frame is cut short:

* with the cache off (`--body-cache-mb 0`): GetRawMessage and GetMessage answer DATA_LOSS naming
  the SHA-256, IMAP `UID FETCH BODY.PEEK[]` answers NO, the untouched message is still served
  byte-identical, and once the file is put back the message reads again;
* a FETCH of all three through the read-ahead threads with the middle one changed: the message
  before it is served byte-identical, the changed one and the one after it are not, the command
  answers NO, and the connection goes on working;
* with the cache on: a message read (and so verified) twice before its file changed (the cache
  keeps a body from its second read on) is still served with its archived bytes, one never
  read before is DATA_LOSS, and after a restart (empty cache) the changed file is DATA_LOSS
  again.
"""

import imaplib
import os
import re
import struct

import harness

PASSWORD = "ida-integrity-7"


def message(n):
    return (b"From: sender%d@example.org\r\nTo: archive@example.org\r\n"
            b"Subject: integrity %d\r\nMessage-ID: <integrity-%d@example.org>\r\n"
            b"Date: Thu, 07 Mar 2024 10:0%d:00 +0000\r\n\r\nBody of message %d.\r\n" % (n, n, n, n, n))


def zstd_raw_frame(data):
    """A valid zstd frame holding `data` in raw (stored) blocks, content size declared: what the
    archive reads back decompresses without error, so only the SHA-256 check can reject it."""
    out = bytearray(struct.pack("<I", 0xFD2FB528))
    out.append(0xA0)  # Single_Segment, Frame_Content_Size in 4 bytes, no checksum, no dictionary
    out += struct.pack("<I", len(data))
    for at in range(0, max(len(data), 1), 1 << 17):
        block = data[at:at + (1 << 17)]
        last = 1 if at + (1 << 17) >= len(data) else 0
        out += struct.pack("<I", last | (len(block) << 3))[:3]  # Block_Type 0: raw
        out += block
    return bytes(out)


class BlobIntegrity(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.dburl = cls.pg.create_database()
        cls.data = os.path.join(cls.tmp, "data")
        cls.server = None
        try:
            cls.start_server(cache_mb=0)
            with cls.server.client() as c:
                outcomes = c.ingest([message(n) for n in range(3)]).outcomes
            assert [o.kind for o in outcomes] == [c.pb2.IngestOutcome.STORED] * 3, outcomes
            cls.ids = [o.id for o in outcomes]
            cls.shas = [o.sha256 for o in outcomes]
            r = harness.run_cli(["user", "add", "ida", "--data-dir", cls.data, "--role", "auditor",
                                 "--password-stdin"], input=(PASSWORD + "\n").encode())
            assert r.returncode == 0, r.describe()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.stop()
        cls.pg.cleanup()
        harness.remove_tree(cls.tmp)

    @classmethod
    def start_server(cls, cache_mb):
        if cls.server:
            cls.server.stop()
        cls.server = harness.Server(cls.data, database_url=cls.dburl,
                                    extra_args=["--body-cache-mb", str(cache_mb)])
        cls.server.start()
        cls.imap_port = cls.server.listen_port()

    def blob_path(self, n):
        sha = self.shas[n]
        return os.path.join(self.data, "blobs", sha[:2], sha[2:4], sha)

    def replace_blob(self, n, content):
        """Replaces message n's blob file; returns a function that puts the original back."""
        path = self.blob_path(n)
        with open(path, "rb") as fh:
            original = fh.read()
        os.chmod(path, 0o644)
        with open(path, "wb") as fh:
            fh.write(content)

        def restore():
            with open(path, "wb") as fh:
                fh.write(original)
            os.chmod(path, 0o444)
        return restore

    def assert_data_loss(self, client, n):
        grpc = harness.grpc_module()
        with self.assertRaises(grpc.RpcError) as raw:
            client.get_raw(self.ids[n])
        self.assertEqual(raw.exception.code(), grpc.StatusCode.DATA_LOSS)
        with self.assertRaises(grpc.RpcError) as parsed:
            client.get_message(self.ids[n])
        self.assertEqual(parsed.exception.code(), grpc.StatusCode.DATA_LOSS)
        return raw.exception.details()

    def imap_fetch(self, n):
        """(status, the bytes of BODY.PEEK[] or None) of message n over IMAP."""
        m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        try:
            m.login("ida", PASSWORD)
            m.select('"All Mail"', readonly=True)
            typ, data = m.uid("SEARCH", "HEADER", "Message-ID", "integrity-%d@" % n)
            self.assertEqual(typ, "OK")
            uids = data[0].split()
            self.assertEqual(len(uids), 1, data)
            try:
                typ, data = m.uid("FETCH", uids[0].decode(), "(BODY.PEEK[])")
            except imaplib.IMAP4.error as e:  # imaplib raises on a tagged NO
                return "NO", str(e)
            body = next((part[1] for part in data if isinstance(part, tuple)), None)
            return typ, body
        finally:
            m.logout()

    def test_1_without_cache_a_changed_blob_is_never_served(self):
        self.start_server(cache_mb=0)
        forged = message(0).replace(b"Body of message 0.", b"Body of message X.")
        restore = self.replace_blob(0, zstd_raw_frame(forged))
        try:
            with self.server.client() as c:
                details = self.assert_data_loss(c, 0)
                self.assertIn(self.shas[0], details)
                self.assertIn("no longer match", details)
                self.assertEqual(c.get_raw(self.ids[1]), message(1))
            status, text = self.imap_fetch(0)
            self.assertEqual(status, "NO", text)
            self.assertEqual(self.imap_fetch(1), ("OK", message(1)))
        finally:
            restore()
        with self.server.client() as c:
            self.assertEqual(c.get_raw(self.ids[0]), message(0))
        self.assertEqual(self.imap_fetch(0), ("OK", message(0)))

        # A frame cut short is reported too (zstd cannot decode it). The file holds the message's
        # frame, then the search text's: 16 bytes end inside the first.
        with open(self.blob_path(2), "rb") as fh:
            whole = fh.read()
        restore = self.replace_blob(2, whole[:16])
        try:
            with self.server.client() as c:
                self.assertIn(self.shas[2], self.assert_data_loss(c, 2))
        finally:
            restore()

    def test_2_the_cache_holds_only_verified_bytes(self):
        self.start_server(cache_mb=16)
        # Message 1 is read twice (verified; cached on the second read) before its file changes;
        # message 2 is not read.
        with self.server.client() as c:
            self.assertEqual(c.get_raw(self.ids[1]), message(1))
        self.assertEqual(self.imap_fetch(1), ("OK", message(1)))
        restores = [self.replace_blob(n, zstd_raw_frame(message(n).upper())) for n in (1, 2)]
        try:
            with self.server.client() as c:
                self.assertEqual(c.get_raw(self.ids[1]), message(1))
                self.assertEqual(re.sub(rb"\s", b"", c.get_message(self.ids[1]).text.encode()),
                                 b"Bodyofmessage1.")
                self.assert_data_loss(c, 2)
            self.assertEqual(self.imap_fetch(1), ("OK", message(1)))
            self.assertEqual(self.imap_fetch(2)[0], "NO")
            # A restarted server has an empty cache: the changed file is caught again.
            self.start_server(cache_mb=16)
            with self.server.client() as c:
                self.assert_data_loss(c, 1)
        finally:
            for restore in restores:
                restore()
        with self.server.client() as c:
            self.assertEqual([c.get_raw(i) for i in self.ids], [message(n) for n in range(3)])

    def test_3_a_fetch_of_many_stops_at_a_changed_blob(self):
        # Several bodies are read ahead on the reader threads (--imap-fetch-threads, default 2):
        # the messages before the changed one are served, the changed one and those after it
        # are not, the command answers NO, and the connection goes on working.
        self.start_server(cache_mb=0)
        m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        try:
            m.login("ida", PASSWORD)
            m.select('"All Mail"', readonly=True)
            uid_of = {}
            for n in range(3):
                typ, data = m.uid("SEARCH", "HEADER", "Message-ID", "integrity-%d@" % n)
                self.assertEqual(typ, "OK")
                uid_of[n] = int(data[0])
            restore = self.replace_blob(1, zstd_raw_frame(message(1).upper()))
            try:
                m.send(b"f1 UID FETCH 1:* (UID BODY.PEEK[])\r\n")
                served = {}
                while True:
                    line = m.readline()
                    self.assertTrue(line, "connection closed during FETCH")
                    if line.startswith(b"f1 "):
                        status = line
                        break
                    lit = re.search(rb"\{(\d+)\}\r\n$", line)
                    if lit:
                        body = m.read(int(lit.group(1)))
                        rest = m.readline()
                        served[int(re.search(rb"UID (\d+)", line + rest).group(1))] = body
            finally:
                restore()
            self.assertTrue(status.startswith(b"f1 NO"), status)
            expected = {uid_of[n]: message(n) for n in range(3) if uid_of[n] < uid_of[1]}
            self.assertEqual(served, expected)
            typ, data = m.uid("FETCH", str(uid_of[2]), "(BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            self.assertEqual(next(part[1] for part in data if isinstance(part, tuple)), message(2))
        finally:
            m.logout()


if __name__ == "__main__":
    import unittest
    unittest.main()
