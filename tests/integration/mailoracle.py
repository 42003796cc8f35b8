"""Independent reference implementations the integration tests compare mailvault against.

Nothing here calls mailvault.  It re-derives, from the raw files and the written contract:

* which messages `mailvault import PATH...` must find (walk rules, mbox splitting with the
  From_/empty-line/Content-Length rules) and their exact bytes;
* a per-message search document (decoded headers, addresses, text parts, attachments) parsed
  with Python's `email` package, plus a word tokenizer close to Xapian's TermGenerator and the
  Snowball English stemmer, so that search results can be computed without the index.
"""

import ctypes
import ctypes.util
import datetime
import email
import email.header
import email.policy
import email.utils
import hashlib
import html.parser
import os
import re
import unicodedata

UTC = datetime.timezone.utc

# --------------------------------------------------------------------------------------------
# What `mailvault import` must find
# --------------------------------------------------------------------------------------------

# Mail-store control files importers skip silently (dovecot indexes, markers, locks, ...).
_CONTROL_EXACT = {"maildirfolder", "subscriptions", ".DS_Store", ".notmuch", ".git", ".svn", ".hg",
                  ".mbsyncstate", ".uidvalidity", "courierimapuiddb", "courierimapkeywords",
                  "courierimapacl", "courierimapsubscribed"}


def _is_control(name):
    return (name in _CONTROL_EXACT or name.startswith("dovecot") or name.startswith("._")
            or name.endswith(".lock") or name.endswith(".msf") or name.startswith(".mbsyncstate")
            or name.startswith("courierimap"))


_BOM = b"\xef\xbb\xbf"
_MONTHS = {m: i + 1 for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split())}
_HEADER_FIELD = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")


def _has_date(words):
    """True if the words (after the envelope sender) contain an asctime or RFC 5322 date."""
    def num(w, n):
        return w.isdigit() and 1 <= len(w) <= n

    def time_ok(w):
        return re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", w) is not None

    def year_ok(w):
        return (len(w) == 4 and w.isdigit() and int(w) >= 1900) or (len(w) == 2 and w.isdigit())
    words = [w.rstrip(",") for w in words]
    for i, w in enumerate(words):
        if w.lower() not in _MONTHS:
            continue
        # asctime: Mon Jan  3 01:05:34 [zone] 1996 [zone]
        if i + 2 < len(words) and num(words[i + 1], 2) and time_ok(words[i + 2]):
            if any(year_ok(x) for x in words[i + 3:i + 5]):
                return True
        # RFC 5322: 3 Jan 1996 01:05:34
        if i > 0 and i + 2 < len(words) and num(words[i - 1], 2) and year_ok(words[i + 1]) \
                and time_ok(words[i + 2]):
            return True
        return False
    return False


def is_strict_from_line(line):
    line = line.rstrip(b"\r\n")
    if not line.startswith(b"From "):
        return False
    words = line[5:].decode("latin-1").split()
    if not words:
        return False
    if words == ["-"]:
        return True
    return _has_date(words[1:])


def split_mbox(data):
    """[(offset, length)] of the messages of an mbox file (bytes), by the import contract:

    a message starts after a From_ line at the start of the file (after an optional UTF-8 BOM)
    or after a "From " line that follows an empty line, or a well-formed From_ line followed by
    a header field (Netscape); the From_ line and the separator (empty line, or the line break
    before a Netscape From_ line) are not part of the message; an empty last line is dropped; a
    Content-Length header of the top-level header block is honoured when it ends at EOF or right
    before a From_ line."""
    size = len(data)
    pos = len(_BOM) if data.startswith(_BOM) else 0
    assert data.startswith(b"From ", pos)
    # line table: (begin, end) with end after the '\n'
    lines = []
    i = pos
    while i < size:
        j = data.find(b"\n", i)
        j = size if j < 0 else j + 1
        lines.append((i, j))
        i = j

    def is_empty(k):
        b, e = lines[k]
        return data[b:e] in (b"\n", b"\r\n")

    def eol_len(k):
        b, e = lines[k]
        seg = data[b:e]
        return 2 if seg.endswith(b"\r\n") else (1 if seg.endswith(b"\n") else 0)

    def starts_message(k):
        b, e = lines[k]
        if not data.startswith(b"From ", b):
            return False
        if k > 0 and is_empty(k - 1):
            return True
        if not is_strict_from_line(data[b:e]):
            return False
        return _HEADER_FIELD.match(data[e:e + 256]) is not None

    def line_at(offset):
        lo, hi = 0, len(lines)
        while lo < hi:
            mid = (lo + hi) // 2
            if lines[mid][0] < offset:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(lines) and lines[lo][0] == offset else None

    out = []
    k = 0  # index of the current From_ line
    while k < len(lines):
        start = lines[k][1]
        m = k + 1
        in_headers = True
        content_length = None
        end = None
        next_k = None
        while m < len(lines):
            if starts_message(m):
                end = max(start, lines[m][0] - eol_len(m - 1))
                next_k = m
                break
            b, e = lines[m]
            if in_headers:
                if is_empty(m):
                    in_headers = False
                    if content_length is not None:
                        at = e + content_length
                        jump = None
                        if at == size:
                            jump = (at, None)
                        elif at < size:
                            rest = data[at:at + 7]
                            if rest in (b"\n", b"\r\n") and at + len(rest) == size:
                                jump = (at, None)
                            elif rest.startswith(b"\nFrom "):
                                jump = (at, line_at(at + 1))
                            elif rest.startswith(b"\r\nFrom "):
                                jump = (at, line_at(at + 2))
                            elif rest.startswith(b"From ") and at > start and data[at - 1:at] == b"\n":
                                eol = 2 if data[at - 2:at] == b"\r\n" and at - 2 >= start else 1
                                jump = (at - eol, line_at(at))
                        if jump is not None:
                            end = max(start, jump[0])
                            next_k = jump[1] if jump[1] is not None else len(lines)
                            break
                else:
                    mm = re.match(rb"(?i)content-length[ \t]*:[ \t]*(\d{1,18})[ \t\r\n]*$",
                                  data[b:e])
                    if content_length is None and mm:
                        content_length = int(mm.group(1))
            m += 1
        if end is None:  # end of file
            last = len(lines) - 1
            end = lines[last][0] if last > k and is_empty(last) else size
            next_k = len(lines)
        out.append((start, end - start))
        k = next_k
    return out


def expected_import(paths):
    """What importing `paths` must yield: {(path, offset or None): bytes}, and the list of
    (path, reason-kind) expected to be reported as problems (only for empty mbox messages)."""
    found = {}
    problems = []

    def file_(path, name, maildir_message):
        with open(path, "rb") as fh:
            data = fh.read()
        if maildir_message:
            found[(path, None)] = data
            return
        if not data and (name.lower().endswith(".mbox") or name.lower().endswith(".mbx")):
            return
        head = data[3:8] if data.startswith(_BOM) else data[:5]
        if not name.lower().endswith(".eml") and head == b"From ":
            for off, length in split_mbox(data):
                if length == 0:
                    problems.append((path, off))
                else:
                    found[(path, off)] = data[off:off + length]
        else:
            found[(path, None)] = data

    def directory(path):
        entries = sorted(os.listdir(path), key=lambda n: n + "/" if os.path.isdir(os.path.join(path, n)) else n)
        is_maildir = any(n in ("cur", "new", "tmp") and os.path.isdir(os.path.join(path, n)) for n in entries)
        for n in entries:
            p = os.path.join(path, n)
            if _is_control(n) or os.path.islink(p):
                continue
            if os.path.isdir(p):
                if is_maildir and n in ("cur", "new"):
                    for f in sorted(os.listdir(p)):
                        fp = os.path.join(p, f)
                        if f.startswith(".") or _is_control(f) or not os.path.isfile(fp) or os.path.islink(fp):
                            continue
                        file_(fp, f, True)
                elif is_maildir and n == "tmp":
                    continue
                else:
                    directory(p)
            elif os.path.isfile(p):
                file_(p, n, False)

    for p in paths:
        if os.path.isdir(p):
            directory(p)
        else:
            file_(p, os.path.basename(p), False)
    return found, problems


# --------------------------------------------------------------------------------------------
# Words and stems
# --------------------------------------------------------------------------------------------

# Xapian's TermGenerator: a word is a run of word characters (letters, marks, digits, connector
# punctuation); an apostrophe (also U+2019), '&' or middle dot between two word characters stays
# inside the word, and so do '.' and ',' between digits. Terms are lower-cased.
_WORD = re.compile(r"[\w\u0300-\u036f]+(?:(?:['\u2019&\u00b7][\w\u0300-\u036f]+)|(?:(?<=\d)[.,](?=\d)\d*))*")
_CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31f0-\u31ff"
                  r"\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def words(text):
    """Lower-cased words of `text` (apostrophe U+2019 normalised to ')."""
    if not text:
        return []
    text = unicodedata.normalize("NFC", text)
    return [w.replace("\u2019", "'").lower() for w in _WORD.findall(text)]


class Stemmer:
    """Snowball English: the python3-snowballstemmer module when present, else the C library
    libstemmer.so.0d (package libstemmer0d, a dependency of dovecot-core) through ctypes."""

    def __init__(self):
        self._cache = {}
        self._py = None
        self._c = None
        try:
            import snowballstemmer  # noqa: PLC0415
            self._py = snowballstemmer.stemmer("english")
            self.backend = "snowballstemmer"
            return
        except ImportError:
            pass
        name = ctypes.util.find_library("stemmer") or "libstemmer.so.0d"
        lib = ctypes.CDLL(name)
        lib.sb_stemmer_new.restype = ctypes.c_void_p
        lib.sb_stemmer_new.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        lib.sb_stemmer_stem.restype = ctypes.c_void_p
        lib.sb_stemmer_stem.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.sb_stemmer_length.restype = ctypes.c_int
        lib.sb_stemmer_length.argtypes = [ctypes.c_void_p]
        self._lib = lib
        self._c = lib.sb_stemmer_new(b"english", b"UTF_8")
        if not self._c:
            raise RuntimeError("libstemmer: no english stemmer")
        self.backend = name

    def stem(self, word):
        s = self._cache.get(word)
        if s is not None:
            return s
        if self._py is not None:
            s = self._py.stemWord(word)
        else:
            b = word.encode("utf-8")
            p = self._lib.sb_stemmer_stem(self._c, b, len(b))
            n = self._lib.sb_stemmer_length(self._c)
            s = ctypes.string_at(p, n).decode("utf-8", "replace")
        self._cache[word] = s
        return s


_stemmer = None


def stemmer():
    global _stemmer
    if _stemmer is None:
        _stemmer = Stemmer()
    return _stemmer


# --------------------------------------------------------------------------------------------
# The search document of one message
# --------------------------------------------------------------------------------------------

def _decode_header_value(raw_value):
    """RFC 2047-decoded text of a header value (str from compat32), tolerant of junk."""
    if raw_value is None:
        return ""
    if isinstance(raw_value, email.header.Header):
        raw_value = str(raw_value)
    try:
        parts = email.header.decode_header(raw_value)
    except Exception:  # noqa: BLE001
        return str(raw_value)
    out = []
    for chunk, cs in parts:
        if isinstance(chunk, bytes):
            try:
                out.append(chunk.decode(cs or "latin-1", "replace"))
            except LookupError:
                out.append(chunk.decode("latin-1", "replace"))
        else:
            out.append(chunk)
    text = "".join(out)
    return re.sub(r"\s+", " ", text).strip()


def _addresses(values):
    """[(display name, lower-case address)] from header values (compat32 strings)."""
    out = []
    for name, addr in email.utils.getaddresses([str(v) for v in values if v is not None]):
        out.append((_decode_header_value(name), addr.strip().lower()))
    return out


class _Messy:
    """Context manager: swallows parse errors of one section and marks the doc messy."""

    def __init__(self, doc):
        self.doc = doc

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, Exception):
            self.doc.messy = True
            return True
        return False


def _part_text(part):
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    try:
        cs = part.get_content_charset() or "us-ascii"
    except Exception:  # noqa: BLE001
        cs = "latin-1"
    try:
        return payload.decode(cs, "replace")
    except LookupError:
        return payload.decode("latin-1", "replace")


def html_to_text(markup):
    class P(html.parser.HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.out = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            if tag in ("style", "script", "head", "title"):
                self.skip += 1
            self.out.append(" ")

        def handle_endtag(self, tag):
            if tag in ("style", "script", "head", "title") and self.skip:
                self.skip -= 1
            self.out.append(" ")

        def handle_data(self, d):
            if not self.skip:
                self.out.append(d)
    p = P()
    try:
        p.feed(markup)
        p.close()
    except Exception:  # noqa: BLE001
        pass
    return "".join(p.out)


class Doc:
    """What the oracle knows about one message."""

    __slots__ = ("sha256", "size", "raw_path", "date", "subject", "from_", "to", "cc", "bcc",
                 "message_id", "list_id", "body_plain", "body_html", "att_names", "att_texts",
                 "has_attachment", "raw", "messy", "_cache")

    def field_text(self, field):
        """List of text pieces of a field: subject, from, to, cc, bcc, body, attachment,
        filename, all."""
        if field == "subject":
            return [self.subject]
        if field in ("from", "to", "cc", "bcc"):
            lst = getattr(self, "from_" if field == "from" else field)
            return [n for n, _ in lst] + [a for _, a in lst]
        if field == "body":
            return self.body_plain if self.body_plain else self.body_html
        if field == "filename":
            return list(self.att_names)
        if field == "attachment":
            return list(self.att_names) + list(self.att_texts)
        if field == "all":
            out = [self.subject]
            for f in ("from", "to", "cc", "bcc", "body", "attachment"):
                out += self.field_text(f)
            return out
        raise ValueError(field)

    def tokens(self, field):
        """List (per text piece) of word lists."""
        key = ("tok", field)
        c = self._cache.get(key)
        if c is None:
            c = [words(t) for t in self.field_text(field)]
            self._cache[key] = c
        return c

    def word_set(self, field):
        key = ("set", field)
        c = self._cache.get(key)
        if c is None:
            c = set()
            for ws in self.tokens(field):
                c.update(ws)
            self._cache[key] = c
        return c

    def stem_set(self, field):
        key = ("stem", field)
        c = self._cache.get(key)
        if c is None:
            st = stemmer()
            c = {st.stem(w) for w in self.word_set(field)}
            self._cache[key] = c
        return c

    # -- conditions --------------------------------------------------------------------------
    def has_word(self, field, word, stem=True):
        w = words(word)
        assert len(w) == 1, "not one word: %r" % word
        w = w[0]
        if w in self.word_set(field):
            return True
        return stem and stemmer().stem(w) in self.stem_set(field)

    def has_prefix(self, field, prefix):
        prefix = prefix.lower()
        return any(w.startswith(prefix) for w in self.word_set(field))

    def has_phrase(self, field, phrase):
        want = words(phrase)
        n = len(want)
        for ws in self.tokens(field):
            for i in range(len(ws) - n + 1):
                if ws[i:i + n] == want:
                    return True
        return False

    def has_substring(self, field, text):
        return any(text.lower() in t.lower() for t in self.field_text(field))

    def has_address(self, field, addr):
        lst = getattr(self, "from_" if field == "from" else field)
        return addr.lower() in {a for _, a in lst}


def parse_doc(raw, path=None):
    """A Doc for the raw bytes of one message (Python's email package, compat32 + explicit
    RFC 2047 decoding; text parts decoded by their charset)."""
    d = Doc()
    d._cache = {}
    d.sha256 = hashlib.sha256(raw).hexdigest()
    d.size = len(raw)
    d.raw_path = path
    d.messy = False
    d.subject, d.from_, d.to, d.cc, d.bcc = "", [], [], [], []
    d.message_id = d.list_id = ""
    d.date = None
    d.body_plain, d.body_html, d.att_names, d.att_texts = [], [], [], []
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if msg.defects:
        d.messy = True
    with _Messy(d):
        d.subject = _decode_header_value(msg.get("Subject"))
    for attr, names in (("from_", ("From", "Sender")), ("to", ("To",)), ("cc", ("Cc",)), ("bcc", ("Bcc",))):
        with _Messy(d):
            setattr(d, attr, _addresses([v for n in names for v in msg.get_all(n, [])]))
    with _Messy(d):
        mid = str(msg.get("Message-ID") or "").strip()
        d.message_id = mid[1:-1] if mid.startswith("<") and mid.endswith(">") else mid
    with _Messy(d):
        lid = str(msg.get("List-Id") or "")
        m = re.search(r"<([^>]*)>", lid)
        d.list_id = (m.group(1) if m else lid).strip().lower()
    ds = msg.get("Date")
    if ds:
        try:
            dt = email.utils.parsedate_to_datetime(str(ds))
            if dt is not None:
                if dt.tzinfo is None:
                    dt = dt.replace(tzinfo=UTC)
                d.date = dt.astimezone(UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            d.date = None
            d.messy = True
    for part in msg.walk():
        if part.is_multipart():
            if part.defects:
                d.messy = True
            continue
        with _Messy(d):
            ctype = part.get_content_type()
            disp = str(part.get("Content-Disposition") or "").split(";")[0].strip().lower()
            fname = part.get_filename()
            if fname is not None:
                fname = _decode_header_value(fname)
            is_att = disp == "attachment" or (fname is not None and disp != "inline")
            if is_att:
                if fname:
                    d.att_names.append(fname)
                if part.get_content_maintype() == "text":
                    d.att_texts.append(_part_text(part))
                continue
            if ctype == "text/plain":
                d.body_plain.append(_part_text(part))
            elif ctype == "text/html":
                d.body_html.append(html_to_text(_part_text(part)))
    d.has_attachment = bool(d.att_names) or any(True for _ in d.att_texts)
    return d


def utc_day(d):
    return d.date.date() if d.date is not None else None
