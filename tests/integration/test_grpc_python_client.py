"""The gRPC API through Python's grpcio with stubs generated from proto/mailvault/v1/archive.proto.

* Ingest: STORED, then DUPLICATE for the same bytes (same id and SHA-256, also twice in one
  stream), REJECTED with a reason for an empty message; outcomes in request order.
* Search: walking next_page_token visits every hit exactly once (several page sizes), the sort
  orders (newest first, oldest first, relevance) are respected, summaries carry the fields of
  the message (SHA-256 of the bytes, Date, size, subject, from, attachments); syntax errors are
  INVALID_ARGUMENT naming the column.
* GetMessage: parsed view (headers, text, attachments, placements); NOT_FOUND for unknown ids.
* GetRawMessage: a > 1 MiB message arrives in several chunks, total_size on the first, the
  concatenation byte-identical; by SHA-256 too.
* Auth: no token, a wrong token, a non-Bearer scheme -> UNAUTHENTICATED on every method.
* grpc.health.v1.Health/Check -> SERVING; server reflection lists mailvault.v1.ArchiveService
  and serves its descriptor (hand-encoded protobuf, generic calls).
"""

import collections
import hashlib
import os
import random
import unittest

import harness
import mailoracle

N_MESSAGES = harness.scale(300, 150)
FRESH = (b"From: once@example.net\nTo: bench@example.org\nSubject: fresh\n"
         b"Message-ID: <fresh-1@example.net>\n\nnew body\n")


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_field(num, wire, payload):
    """One protobuf field: wire 0 takes an int, wire 2 bytes."""
    if wire == 0:
        return varint(num << 3) + varint(payload)
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def pb_parse(data):
    """[(field number, wire type, value)] of a protobuf message (varint and length-delimited)."""
    out = []
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = _read_varint(data, i)
        elif wire == 2:
            n, i = _read_varint(data, i)
            val = data[i:i + n]
            i += n
        elif wire == 1:
            val = data[i:i + 8]
            i += 8
        elif wire == 5:
            val = data[i:i + 4]
            i += 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((num, wire, val))
    return out


def _read_varint(data, i):
    shift = 0
    val = 0
    while True:
        b = data[i]
        i += 1
        val |= (b & 0x7F) << shift
        if not b & 0x80:
            return val, i
        shift += 7


def big_message(size):
    """A plain-text message of about `size` bytes (random words, 76-char lines)."""
    rng = random.Random(7)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
    lines = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(words) for _ in range(12))
        lines.append(line)
        total += len(line) + 1
    head = ("From: Big Sender <big@example.net>\nTo: bench@example.org\nSubject: the big one\n"
            "Date: Tue, 05 Mar 2024 10:00:00 +0000\nMessage-ID: <big-one@example.net>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n")
    return (head + "\n".join(lines) + "\n").encode()


class GrpcPythonClient(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.server = harness.Server(os.path.join(cls.tmp, "data"), database_url=cls.pg.create_database())
        try:
            cls.server.start()
            cls.client = cls.server.client()
            maildir = os.path.join(cls.tmp, "gen")
            harness.generate_corpus(maildir, N_MESSAGES, seed=7)
            cls.raws = []
            for f in harness.maildir_files(maildir):
                with open(f, "rb") as fh:
                    cls.raws.append((fh.read(), f))
            resp = cls.client.ingest([(raw, path) for raw, path in cls.raws], timeout=harness.slow(600))
            cls.outcomes = list(resp.outcomes)
            cls.big = big_message(3_300_000)
            cls.big_outcome = cls.client.ingest([cls.big]).outcomes[0]
            cls.docs = {}
            for raw, path in cls.raws + [(cls.big, None)]:
                d = mailoracle.parse_doc(raw, path)
                cls.docs[d.sha256] = d
            harness.wait_index_caught_up(cls.client, timeout=harness.slow(300))
        except Exception:
            cls.server.stop()
            cls.pg.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        try:
            cls.server.stop_checked()
        finally:
            cls.pg.cleanup()
            harness.remove_tree(cls.tmp)

    @property
    def pb2(self):
        return self.client.pb2

    def assertRpcError(self, code, fn, *args, contains=None, **kw):
        grpc = harness.grpc_module()
        with self.assertRaises(grpc.RpcError) as cm:
            r = fn(*args, **kw)
            if hasattr(r, "__iter__") and not isinstance(r, (bytes, str)):
                list(r)
        self.assertEqual(cm.exception.code(), getattr(grpc.StatusCode, code), cm.exception.details())
        if contains:
            self.assertIn(contains, cm.exception.details())
        return cm.exception

    # -- Ingest -----------------------------------------------------------------------------------
    def test_ingest_outcomes(self):
        pb2 = self.pb2
        self.assertEqual(len(self.outcomes), len(self.raws))
        for (raw, _), o in zip(self.raws, self.outcomes):
            self.assertEqual(o.kind, pb2.IngestOutcome.STORED, o.reason)
            self.assertEqual(o.sha256, hashlib.sha256(raw).hexdigest(), "outcomes out of order?")
            self.assertGreater(o.id, 0)
            d = self.docs[o.sha256]
            self.assertEqual(o.message_id, d.message_id)
        self.assertEqual(len({o.id for o in self.outcomes}), len(self.outcomes))
        self.assertEqual(self.big_outcome.kind, pb2.IngestOutcome.STORED)

        # the same bytes again, twice in one stream, with an empty message between them
        raw, _ = self.raws[3]
        fresh = FRESH
        resp = self.client.ingest([raw, fresh, b"", fresh, raw])
        kinds = [o.kind for o in resp.outcomes]
        self.assertEqual(kinds, [pb2.IngestOutcome.DUPLICATE, pb2.IngestOutcome.STORED,
                                 pb2.IngestOutcome.REJECTED, pb2.IngestOutcome.DUPLICATE,
                                 pb2.IngestOutcome.DUPLICATE])
        self.assertEqual(resp.outcomes[0].id, self.outcomes[3].id)
        self.assertEqual(resp.outcomes[0].sha256, self.outcomes[3].sha256)
        self.assertEqual(resp.outcomes[1].id, resp.outcomes[3].id)
        self.assertEqual(resp.outcomes[1].sha256, hashlib.sha256(fresh).hexdigest())
        self.assertTrue(resp.outcomes[2].reason, "REJECTED needs a reason")
        self.assertEqual(self.client.get_raw(resp.outcomes[1].id), fresh)
        harness.wait_index_caught_up(self.client, timeout=harness.slow(120))

    # -- Search -----------------------------------------------------------------------------------
    def all_ids(self):
        return {h.id for h in self.client.search_all("", page_size=1000)}

    def test_paging_visits_every_hit_once(self):
        total = harness.wait_index_caught_up(self.client).messages
        for query in ("", "object OR function", "to:bench@example.org"):
            full = self.client.search_all(query, page_size=1000)
            if query == "":
                self.assertEqual(len(full), total)
            self.assertGreater(len(full), 20, query)
            for size in (1, 7, 50):
                if size == 1 and len(full) > 200:
                    continue
                for sort in (0, 2, 3):
                    seen = []
                    token = ""
                    pages = 0
                    while True:
                        resp = self.client.search(query, page_size=size, page_token=token, sort=sort)
                        self.assertLessEqual(len(resp.results), size)
                        seen += [h.id for h in resp.results]
                        pages += 1
                        token = resp.next_page_token
                        if not token:
                            break
                        self.assertEqual(len(resp.results), size, "short page before the end")
                        self.assertLess(pages, 10000)
                    dup = [i for i, c in collections.Counter(seen).items() if c > 1]
                    self.assertEqual(dup, [], "query %r size %d sort %d: ids seen twice" % (query, size, sort))
                    self.assertEqual(set(seen), {h.id for h in full},
                                     "query %r size %d sort %d: pages != all hits" % (query, size, sort))
        # default page size 50, max 1000
        resp = self.client.search("", page_size=0)
        self.assertEqual(len(resp.results), min(50, total))
        resp = self.client.search("", page_size=5000)
        self.assertLessEqual(len(resp.results), 1000)

    def test_sort_orders(self):
        pb2 = self.pb2
        newest = self.client.search_all("", sort=pb2.SORT_ORDER_DATE_DESC)
        default = self.client.search_all("", sort=pb2.SORT_ORDER_UNSPECIFIED)
        oldest = self.client.search_all("", sort=pb2.SORT_ORDER_DATE_ASC)
        # messages without a Date: header sort by the time they were archived
        key = [(h.date or h.archived_at, h.id) for h in newest]
        self.assertEqual(key, sorted(key, reverse=True), "SORT_ORDER_DATE_DESC is not newest first")
        self.assertEqual([h.id for h in default], [h.id for h in newest], "unspecified = newest first")
        key = [(h.date or h.archived_at, h.id) for h in oldest]
        self.assertEqual(key, sorted(key), "SORT_ORDER_DATE_ASC is not oldest first")
        rel = self.client.search_all("object function", sort=pb2.SORT_ORDER_RELEVANCE)
        self.assertGreater(len(rel), 3)
        scores = [h.relevance for h in rel]
        self.assertEqual(scores, sorted(scores, reverse=True), "relevance order")
        # CLI --sort oldest agrees
        r = self.server.cli("search", "to:bench@example.org", "--sort", "oldest", "--json", "--limit", "0")
        self.assertCli(r)
        dates = [x["date"] for x in r.json_lines() if x["date"]]  # undated ones sort by archive time
        self.assertEqual(dates, sorted(dates))

    def test_summary_fields(self):
        hits = self.client.search_all("")
        got = {h.sha256 for h in hits}
        self.assertLessEqual(set(self.docs), got)
        self.assertLessEqual(got - set(self.docs), {hashlib.sha256(FRESH).hexdigest()})
        for h in hits:
            d = self.docs.get(h.sha256)
            if d is None:
                continue
            self.assertEqual(h.size, d.size)
            self.assertEqual(h.message_id, d.message_id)
            self.assertEqual(h.date, int(d.date.timestamp()) if d.date else 0, d.raw_path)
            self.assertEqual(h.subject, d.subject, d.raw_path)
            for _, addr in d.from_:
                self.assertIn(addr, getattr(h, "from").lower())
            self.assertEqual(h.has_attachments, d.has_attachment, d.raw_path)
            self.assertGreater(h.archived_at, 1_600_000_000)

    def test_snippets_highlight(self):
        hits = self.client.search_all("object", page_size=100)
        self.assertTrue(hits)
        with_b = [h for h in hits if "<b>" in h.snippet]
        self.assertGreater(len(with_b), len(hits) // 2, "snippets should highlight the matches")
        for h in with_b[:20]:
            self.assertIn("object", h.snippet.lower())

    def test_query_errors(self):
        for query, column in (("from:", None), ("(alpha beta", "column 1"), ("alpha )", "column 7"),
                              ("date:2024-13-01", None), ("a*b", None), ("larger:", None)):
            e = self.assertRpcError("INVALID_ARGUMENT", self.client.search, query)
            self.assertIn("column", e.details(), query)
            if column:
                self.assertIn(column, e.details(), query)
        self.assertRpcError("INVALID_ARGUMENT", self.client.search, "", page_token="garbage")

    # -- GetMessage -------------------------------------------------------------------------------
    def test_get_message(self):
        with_att = [(raw, path, o) for (raw, path), o in zip(self.raws, self.outcomes)
                    if self.docs[o.sha256].att_names]
        self.assertTrue(with_att, "the generated corpus has attachments")
        raw, path, o = with_att[0]
        d = self.docs[o.sha256]
        m = self.client.get_message(o.id)
        self.assertEqual(m.summary.id, o.id)
        self.assertEqual(m.summary.sha256, o.sha256)
        self.assertEqual(m.summary.subject, d.subject)
        self.assertEqual(sorted(a.filename for a in m.attachments), sorted(d.att_names))
        self.assertTrue(all(a.size > 0 and "/" in a.content_type for a in m.attachments))
        names = {h.name.lower() for h in m.headers}
        self.assertTrue({"from", "to", "subject", "date", "message-id"} <= names, names)
        first_words = mailoracle.words(d.body_plain[0])[:8]
        self.assertEqual(mailoracle.words(m.text)[:8], first_words)
        self.assertEqual([a.email.lower() for a in getattr(m, "from")], [a for _, a in d.from_])
        self.assertEqual([p.location for p in m.placements], [path])
        self.assertEqual(list(m.parse_problems), [])
        self.assertRpcError("NOT_FOUND", self.client.get_message, 999999999)

    # -- GetRawMessage ----------------------------------------------------------------------------
    def test_raw_multichunk(self):
        chunks = self.client.get_raw_chunks(self.big_outcome.id)
        self.assertGreaterEqual(len(chunks), 2, "a %d-byte message should come in several chunks" % len(self.big))
        self.assertEqual(chunks[0].total_size, len(self.big))
        data = b"".join(c.data for c in chunks)
        self.assertEqual(len(data), len(self.big))
        self.assertEqual(data, self.big)
        self.assertEqual(self.client.get_raw(sha256=self.big_outcome.sha256), self.big)
        for (raw, _), o in list(zip(self.raws, self.outcomes))[:40]:
            self.assertEqual(self.client.get_raw(o.id), raw)
        self.assertRpcError("NOT_FOUND", self.client.get_raw_chunks, 999999999)
        self.assertRpcError("NOT_FOUND", self.client.get_raw_chunks, sha256="0" * 64)

    def test_status(self):
        st = self.client.status()
        self.assertEqual(st.messages, len(self.all_ids()))
        self.assertEqual(st.indexed, st.messages)
        self.assertEqual(st.index_backlog, 0)
        self.assertGreaterEqual(st.bytes_raw, sum(d.size for d in self.docs.values()))
        self.assertTrue(st.version)

    # -- auth -------------------------------------------------------------------------------------
    def test_auth(self):
        pb2 = self.pb2
        stub = self.client.stub
        cases = {"no token": [], "wrong token": [("authorization", "Bearer not-the-token")],
                 "basic": [("authorization", "Basic " + self.server.token)],
                 "empty bearer": [("authorization", "Bearer ")]}
        for label, md in cases.items():
            with self.subTest(label):
                self.assertRpcError("UNAUTHENTICATED", stub.GetStatus, pb2.GetStatusRequest(), metadata=md)
                self.assertRpcError("UNAUTHENTICATED", stub.Search, pb2.SearchRequest(query=""), metadata=md)
                self.assertRpcError("UNAUTHENTICATED", stub.GetMessage,
                                    pb2.GetMessageRequest(id=self.outcomes[0].id), metadata=md)
                self.assertRpcError("UNAUTHENTICATED", stub.GetRawMessage,
                                    pb2.GetRawMessageRequest(id=self.outcomes[0].id), metadata=md)
                self.assertRpcError("UNAUTHENTICATED", stub.Ingest,
                                    iter([pb2.IngestRequest(raw=b"Subject: x\n\ny\n")]), metadata=md)
        before = self.client.status().messages
        self.assertEqual(self.client.status().messages, before, "rejected Ingest stored something")

    # -- health and reflection --------------------------------------------------------------------
    def test_health_check(self):
        ident = lambda b: b  # noqa: E731
        check = self.client.channel.unary_unary("/grpc.health.v1.Health/Check",
                                                request_serializer=ident, response_deserializer=ident)
        resp = check(b"", timeout=10)
        fields = pb_parse(resp)
        self.assertIn((1, 0, 1), fields, "HealthCheckResponse.status should be SERVING (1): %r" % fields)

    def test_reflection(self):
        ident = lambda b: b  # noqa: E731
        call = self.client.channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=ident, response_deserializer=ident)
        reqs = [pb_field(7, 2, b""),  # list_services
                pb_field(4, 2, b"mailvault.v1.ArchiveService")]  # file_containing_symbol
        responses = list(call(iter(reqs), timeout=10))
        self.assertEqual(len(responses), 2)
        # ListServiceResponse (field 6) -> repeated ServiceResponse (1) -> name (1)
        services = []
        for num, _, val in pb_parse(responses[0]):
            if num == 6:
                for n2, _, svc in pb_parse(val):
                    if n2 == 1:
                        services += [v.decode() for n3, _, v in pb_parse(svc) if n3 == 1]
        self.assertIn("mailvault.v1.ArchiveService", services)
        self.assertIn("grpc.health.v1.Health", services)
        # FileDescriptorResponse (field 4) -> repeated bytes file_descriptor_proto (1)
        from google.protobuf import descriptor_pb2  # noqa: PLC0415
        methods = set()
        for num, _, val in pb_parse(responses[1]):
            if num == 4:
                for n2, _, fd_bytes in pb_parse(val):
                    fd = descriptor_pb2.FileDescriptorProto.FromString(fd_bytes)
                    for svc in fd.service:
                        if fd.package + "." + svc.name == "mailvault.v1.ArchiveService":
                            methods = {m.name for m in svc.method}
        want = {m.name for m in self.pb2.DESCRIPTOR.services_by_name["ArchiveService"].methods}
        self.assertEqual(methods, want)


if __name__ == "__main__":
    unittest.main()
