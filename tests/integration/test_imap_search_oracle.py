"""IMAP SEARCH with Dovecot as the oracle: the same real mail served by a private Dovecot without
FTS (which then answers every SEARCH by an exact scan) and by mailvault's IMAP server; every
SEARCH command below must match the same set of messages on both, compared by the SHA-256 of
BODY.PEEK[] (UIDs differ between the two servers). The corpus and both servers are set up by
imap_oracle.OracleCase (shared with test_imap_sort_thread_oracle).

Commands cover every text key (FROM TO CC BCC SUBJECT HEADER BODY TEXT), HEADER on a field no
index keeps and with an empty value, substrings inside words, 1- and 2-character strings, case
differences, non-ASCII with CHARSET UTF-8 as a literal, dates, sizes, and OR/NOT/parentheses
mixing text and non-text keys. Where Dovecot answers differently for a principled reason the
difference is listed in EXCEPTIONS with that reason and checked to be exactly that; nothing else
is tolerated.

Run with MAILVAULT_TIMINGS=1 to print both servers' latency per command.
"""

import hashlib
import json
import os
import time
import unittest

import dovecot
import harness
from imap_oracle import Literal, OracleCase, send_command, sha_by_uid


# (name, program): program is a list of arguments; Literal pieces are sent as literals.
COMMANDS = [
    ("all", ["ALL"]),
    ("from word", ["FROM", "john"]),
    ("from domain part", ["FROM", "example.com"]),
    ("from case", ["FROM", "JoHn"]),
    ("from inside word", ["FROM", "ohn"]),
    ("from at sign", ["FROM", "@"]),
    ("to word", ["TO", "notmuch"]),
    ("to substring", ["TO", "otmu"]),
    ("cc", ["CC", "org"]),
    ("cc empty", ["CC", '""']),
    ("bcc", ["BCC", "a"]),
    ("subject word", ["SUBJECT", "test"]),
    ("subject prefix", ["SUBJECT", "Re:"]),
    ("subject two words", ["SUBJECT", '"Re: ["']),
    ("subject one char", ["SUBJECT", "x"]),
    ("subject two chars", ["SUBJECT", "qu"]),
    ("subject inside word", ["SUBJECT", "atch"]),
    ("header message-id", ["HEADER", "Message-ID", "mail"]),
    ("header non-indexed", ["HEADER", "X-Mailer", "mutt"]),
    ("header received", ["HEADER", "Received", "localhost"]),
    ("header empty value", ["HEADER", "In-Reply-To", '""']),
    ("header empty absent", ["HEADER", "X-No-Such-Header", '""']),
    ("header content-type", ["HEADER", "Content-Type", "multipart"]),
    ("header list-id", ["HEADER", "List-Id", "notmuch"]),
    ("body common word", ["BODY", "the"]),
    ("body rare word", ["BODY", "patch"]),
    ("body inside word", ["BODY", "ssag"]),
    ("body case", ["BODY", "THANKS"]),
    ("body two words", ["BODY", '"of the"']),
    ("body punctuation", ["BODY", '"http://"']),
    ("body one char", ["BODY", "z"]),
    ("body two-word and", ["BODY", "thanks", "BODY", "patch"]),
    ("text common", ["TEXT", "mail"]),
    ("text header only", ["TEXT", "localhost"]),
    ("text two chars", ["TEXT", "zz"]),
    ("text utf8 literal", ["CHARSET", "UTF-8", "TEXT", Literal("é".encode())]),
    ("body utf8 literal", ["CHARSET", "UTF-8", "BODY", Literal("für".encode())]),
    ("subject utf8 upper", ["CHARSET", "UTF-8", "SUBJECT", Literal("Ü".encode())]),
    ("from utf8", ["CHARSET", "UTF-8", "FROM", Literal("ö".encode())]),
    ("or text", ["OR", "SUBJECT", "patch", "FROM", "carl"]),
    ("not text", ["NOT", "BODY", "the"]),
    ("paren mixed", ["(BODY", "thanks", "LARGER", "3000)"]),
    ("or not nested", ["OR", "(FROM", "john", "NOT", "BODY", "patch)", "SMALLER", "1500"]),
    ("not or", ["NOT", "OR", "TO", "notmuch", "CC", "notmuch"]),
    ("larger", ["LARGER", "10000"]),
    ("smaller", ["SMALLER", "2000"]),
    ("since", ["SINCE", "1-Mar-2021"]),
    ("before and body", ["BEFORE", "1-Mar-2021", "BODY", "the"]),
    ("on", ["ON", "2-Jan-2021"]),
    ("sentsince", ["SENTSINCE", "1-Jan-2005"]),
    ("sentbefore text", ["SENTBEFORE", "1-Jan-2003", "TEXT", "list"]),
    # UIDs and sequence numbers differ between the two servers (mailvault's All Mail is in
    # archive order), so sets are not compared here; test_imap_server covers them.
]

# name -> (reason, SHA-256 prefixes of the messages on which the answers differ). Each entry
# must match the observed difference exactly, so a regression elsewhere, or a fix, fails the
# test until this table is updated (MAILVAULT_ORACLE_DUMP=FILE writes the observed differences).
# None is a known bug. Policy differences: mailvault searches HTML as the text a reader sees
# (tags dropped, entities decoded), Dovecot without FTS the decoded HTML source; mailvault reads
# malformed Date: headers leniently (the archive's date: filter uses the same reading).
EXCEPTIONS = {
    'before and body': ("the 'body common word' messages within the date range",
        {'362f1b5e39cb', '50723313adba', '5c336877f9bb'}),
    'body common word': ("Dovecot without FTS searches the HTML source: 'the' is only inside tags or attributes of two text/html messages and of the HTML alternative of a third; mailvault searches the text a reader sees",
        {'362f1b5e39cb', '50723313adba', '5c336877f9bb'}),
    'body inside word': ('Dovecot without FTS searches the decoded HTML source (tags, attributes, entities) where mailvault searches the text extracted from HTML',
        {'362f1b5e39cb', '50723313adba', 'cb909bcaa3ce', 'f1f7b32ff58f', '6a391f001ab8', '7185a37964a6', '265325385323', 'f041f3dcb861'}),
    'body one char': ("HTML source vs extracted text (as 'body inside word')",
        {'7c9385c8ec27', '1801fb3cdaba', '68e63134ecde', 'e7fb437a4d54', '8ae4595b5ad2', '50723313adba', '78f03d540838', '73ce221d75aa', '8108dcbf22a9', '539d6fe3cd65', '856f584bbfc5', '43cfdaea0ae8', 'cd87c0986150', '60a80cff7008', '1dacfe4a0f30', '9e21c66d5384', '8b8a1e98b280', 'e48d4a019301', 'ee5ef90b0205', '362f1b5e39cb', 'e3e29f88c8f3', '7185a37964a6', '265325385323', 'efd3820ae82b'}),
    'body punctuation': ("HTML source vs extracted text: 'http://' inside href attributes is only in the source",
        {'5c336877f9bb', '8378114863c0', '7c9385c8ec27', '8ebb369fdecc', '68e63134ecde', '8ae4595b5ad2', '5efd3174e0d5', '5ca90770238e', '8108dcbf22a9', '60e1446fb978', '539d6fe3cd65', '0bb326dae8f0', 'f041f3dcb861', '8f6fb61a509d', '60a80cff7008', '9e21c66d5384', '8b8a1e98b280', '362f1b5e39cb', 'cb909bcaa3ce', 'e3e29f88c8f3', '09079f1f7670', 'efd3820ae82b'}),
    'body utf8 literal': ("HTML entity &uuml; decoded in mailvault's extracted text, not in Dovecot's HTML source",
        {'60e1446fb978'}),
    'not text': ("the complement of 'body common word' (same 3 messages)",
        {'362f1b5e39cb', '50723313adba', '5c336877f9bb'}),
    'sentbefore text': ("the Date: header is an RFC 2047 encoded-word, which Dovecot does not read as a date and mailvault's lenient parser does (as 'sentsince')",
        {'41d486816fff'}),
    'sentsince': ("Date: headers Dovecot cannot parse ('2012-12-08 00:48', a 12-hour clock with PM, an encoded-word) match no SENT* key there; mailvault's lenient parser reads them",
        {'79e68825e751', '41afc68494c1', '41d486816fff'}),
    'text common': ("HTML source vs extracted text ('mail' only in the markup of a text/html message)",
        {'50723313adba'}),
    'text two chars': ("HTML source vs extracted text (as 'body inside word')",
        {'362f1b5e39cb', '50723313adba', '60a80cff7008', '8e07d08bb62e'}),
    'text utf8 literal': ("HTML entities (&eacute;) decoded in mailvault's extracted text but not in Dovecot's HTML source",
        {'25c8bbceb1dc', '2e71274da2f0', 'dc517c95a6e1'}),
}


def raw_search(m, tag, program):
    """Sends `tag UID SEARCH program` on imaplib connection m; returns (status line, set of
    UIDs)."""
    status, lines = send_command(m, tag, b"UID SEARCH", program)
    uids = set()
    for line in lines:
        if line.startswith(b"* SEARCH"):
            uids.update(int(x) for x in line.split()[2:])
    return status, uids


@unittest.skipIf(dovecot.dovecot_available(), dovecot.dovecot_available() or "")
class ImapSearchOracle(OracleCase):
    def test_search_matches_dovecot(self):
        mv, dv = self.connect()
        mv_sha, dv_sha = sha_by_uid(mv), sha_by_uid(dv)
        expected = {hashlib.sha256(m).hexdigest() for m in self.msgs}
        self.assertEqual(set(dv_sha.values()), expected)
        self.assertEqual(set(mv_sha.values()), expected)
        self.assertGreaterEqual(len(COMMANDS), 40)
        timings = []
        observed = {}
        failures = []
        for n, (name, program) in enumerate(COMMANDS):
            tag = b"o%d" % n
            t0 = time.monotonic()
            mv_status, mv_uids = raw_search(mv, tag, program)
            t1 = time.monotonic()
            dv_status, dv_uids = raw_search(dv, tag, program)
            t2 = time.monotonic()
            timings.append((name, t1 - t0, t2 - t1))
            if b" OK " not in dv_status + b" ":
                failures.append("%s: Dovecot said %r" % (name, dv_status))
                continue
            if b" OK " not in mv_status + b" ":
                failures.append("%s: mailvault said %r" % (name, mv_status))
                continue
            got = {mv_sha[u] for u in mv_uids}
            want = {dv_sha[u] for u in dv_uids}
            diff = got ^ want
            if diff:
                observed[name] = sorted(h[:12] for h in diff)
            if name in EXCEPTIONS:
                reason, allowed = EXCEPTIONS[name]
                if {h[:12] for h in diff} != allowed:
                    failures.append("%s: difference %s is not the documented one %s (%s)" %
                                    (name, sorted(h[:12] for h in diff), sorted(allowed), reason))
            elif diff:
                failures.append("%s %r: %d matched, Dovecot %d; only mailvault: %s; only "
                                "Dovecot: %s" % (name, program, len(got), len(want),
                                                 sorted(h[:12] for h in got - want)[:10],
                                                 sorted(h[:12] for h in want - got)[:10]))
        dump = os.environ.get("MAILVAULT_ORACLE_DUMP")
        if dump:  # every observed difference, in full, for maintaining EXCEPTIONS
            with open(dump, "w") as fh:
                json.dump(observed, fh, indent=1, sort_keys=True)
        if os.environ.get("MAILVAULT_TIMINGS"):
            for name, a, b in timings:
                harness.log("%-24s mailvault %7.1f ms  dovecot %7.1f ms" % (name, a * 1e3,
                                                                             b * 1e3))
        self.assertEqual(failures, [], "\n".join(failures))
