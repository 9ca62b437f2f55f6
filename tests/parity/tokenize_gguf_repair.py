#!/usr/bin/env python3
"""tokenize_gguf_repair.py — restore llama.cpp vocab GGUF files that went through a UTF-8
decode with errors="replace" (every byte sequence that was not valid UTF-8 became U+FFFD).

The copies in ../shared/testdata/tokenizer/ arrived like that: token strings are intact
(they are UTF-8), but binary numbers with bytes >= 0x80 (array counts, long string lengths,
token ids, float scores) lost those bytes. This script re-builds the original byte stream
value by value: each value is chosen among candidates (counts from where the next key
starts, ids from the token types, SentencePiece scores among -(i - k), 0, -1000, -1e9 ...)
and accepted only if an incremental UTF-8 "replace" decoder fed with the rebuilt bytes
reproduces the damaged file at that point. At the end the whole rebuilt file is mangled
again and must equal the damaged file byte for byte, or nothing is written.

Usage: tokenize_gguf_repair.py DAMAGED.gguf OUT.gguf   (an intact file is copied as is)
"""
import codecs
import functools
import itertools
import re
import struct
import sys

FFFD = b"\xef\xbf\xbd"
FMT = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "B", 10: "Q", 11: "q", 12: "d"}


def mangle(b):
    return b.decode("utf-8", "replace").encode("utf-8")


class Rebuild:
    """Original bytes being rebuilt, checked against the damaged bytes as they are emitted."""

    def __init__(self, damaged):
        self.d = damaged
        self.dpos = 0
        self.dec = codecs.getincrementaldecoder("utf-8")("replace")
        self.out = bytearray()

    def emit(self, b):
        if not self.dec.getstate()[0]:   # fast path: nothing pending and b is whole valid UTF-8
            try:
                b.decode("utf-8")
                if self.d.startswith(b, self.dpos):
                    self.dpos += len(b)
                    self.out += b
                    return True
                return False
            except UnicodeDecodeError:
                pass
        st = self.dec.getstate()
        txt = self.dec.decode(b).encode("utf-8")
        if self.d[self.dpos:self.dpos + len(txt)] != txt:
            self.dec.setstate(st)
            return False
        self.dpos += len(txt)
        self.out += b
        return True

    def must(self, b, what):
        if not self.emit(b):
            raise SystemExit(f"repair: {what}: bytes do not fit the damaged file at {self.dpos}")

    def pick(self, cands, what):
        for c in cands:
            if self.emit(c):
                return c
        raise SystemExit(f"repair: {what}: no candidate fits the damaged file at {self.dpos}")

    def peek(self, n):
        """Up to n original-byte guesses ahead: literal bytes, None for each U+FFFD."""
        out, p = [], self.dpos
        pending = len(self.dec.getstate()[0])
        if pending:   # bytes of an unfinished sequence: their U+FFFD (or char) is still ahead
            p += 3 if self.d[p:p + 3] == FFFD else pending
        while len(out) < n and p < len(self.d):
            if self.d[p:p + 3] == FFFD:
                out.append(None)
                p += 3
            else:
                out.append(self.d[p])
                p += 1
        return out


@functools.lru_cache(maxsize=None)
def lost_expansions(k):
    """Byte strings of length k that a UTF-8 'replace' decoder turns into ONE U+FFFD."""
    if k == 1:
        return tuple(bytes([b]) for b in range(0x80, 0x100))
    cont = range(0x80, 0xC0)
    if k == 2:   # a 3- or 4-byte sequence cut after its second byte
        out = []
        for a in range(0xE0, 0xF5):
            lo, hi = (0xA0, 0xC0) if a == 0xE0 else (0x80, 0xA0) if a == 0xED else (0x90, 0xC0) if a == 0xF0 \
                else (0x80, 0x90) if a == 0xF4 else (0x80, 0xC0)
            out += [bytes([a, c]) for c in range(lo, hi)]
        return tuple(out)
    return tuple(bytes([a, c, e]) for a in range(0xF0, 0xF5)
                 for c in range(0x90 if a == 0xF0 else 0x80, 0x90 if a == 0xF4 else 0xC0) for e in cont)


def int_cands(rb, fmt):
    """Integers whose encoding may have produced the damaged bytes ahead (a U+FFFD stands for
    one to three lost bytes), most likely first (one byte per U+FFFD); the caller checks each
    by emitting it."""
    size = struct.calcsize("<" + fmt)
    pat = rb.peek(size)

    def rec(i, acc, lost, maxk):
        if len(acc) == size:
            yield struct.unpack("<" + fmt, acc)[0]
            return
        if i >= len(pat) or lost > 2:
            return
        if pat[i] is not None:
            yield from rec(i + 1, acc + bytes([pat[i]]), lost, maxk)
            return
        for k in range(1, maxk + 1):
            if len(acc) + k <= size:
                for e in lost_expansions(k):
                    yield from rec(i + 1, acc + e, lost + 1, maxk)

    yield from rec(0, b"", 0, 1)
    for v in rec(0, b"", 0, 3):
        yield v   # (repeats the one-byte ones; harmless: they were rejected already)


def lazy(f):
    yield from f()


def read_int(rb, fmt, what):
    size = struct.calcsize("<" + fmt)
    raw = rb.d[rb.dpos:rb.dpos + size]
    if len(raw) == size and max(raw) < 0x80 and not rb.dec.getstate()[0]:
        rb.dpos += size
        rb.out += raw
        return struct.unpack("<" + fmt, raw)[0]
    pat = rb.peek(size)
    if None not in pat:
        v = struct.unpack("<" + fmt, bytes(pat))[0]
        rb.must(struct.pack("<" + fmt, v), what)
        return v
    return None


def looks_like_key(rb):
    pat = rb.peek(8)
    if None in pat or len(pat) < 8:
        return False
    n = struct.unpack("<Q", bytes(pat))[0]
    k = rb.d[rb.dpos + 8:rb.dpos + 8 + n]
    if not (1 <= n <= 200 and len(k) == n and re.fullmatch(rb"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+", k)):
        return False
    ty = rb.d[rb.dpos + 8 + n:rb.dpos + 12 + n]
    return len(ty) == 4 and struct.unpack("<I", ty)[0] < 13


def plausible_next(d, p, depth):
    """Do the damaged bytes at p read as `depth` more length-prefixed strings (or a key)?"""
    if depth == 0 or p >= len(d):
        return True
    ln = d[p:p + 8]
    if FFFD in ln:
        return True
    if len(ln) < 8 or ln[4:] != b"\0\0\0\0":
        return False
    n = struct.unpack("<Q", ln)[0]
    if n > 65536:
        return False
    s = d[p + 8:p + 8 + n]
    if b"\0" in s or FFFD in s:
        return len(s) == n and b"\0" not in s and re.fullmatch(rb"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+", s) is not None
    try:
        s.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return plausible_next(d, p + 8 + n, depth - 1) or re.fullmatch(rb"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+", s) is not None


def read_string(rb, what):
    n = read_int(rb, "Q", what + " length")
    if n is None:   # a long string: its length lost a byte; the text itself is intact
        for c in int_cands(rb, "Q"):
            body = rb.d[rb.dpos:]   # not consumed yet: check the text of that length decodes
            st, dp, ol = rb.dec.getstate(), rb.dpos, len(rb.out)
            if rb.emit(struct.pack("<Q", c)):
                s = rb.d[rb.dpos:rb.dpos + c]
                try:
                    s.decode("utf-8")
                    ok = FFFD not in s and rb.emit(s)
                except UnicodeDecodeError:
                    ok = False
                if ok and plausible_next(rb.d, rb.dpos, 3):
                    return s
                rb.dec.setstate(st)
                rb.dpos = dp
                del rb.out[ol:]
            del body
        raise SystemExit(f"repair: {what}: no length fits")
    s = rb.d[rb.dpos:rb.dpos + n]
    rb.must(s, what)
    return s


def repair(data):
    rb = Rebuild(data)
    rb.must(b"GGUF", "magic")
    read_int(rb, "I", "version")
    n_tensors = read_int(rb, "Q", "n_tensors")
    n_kv = read_int(rb, "Q", "n_kv")
    assert n_tensors == 0, "only vocabulary-only files are handled"
    kv, types = {}, None
    for _ in range(n_kv):
        key = read_string(rb, "key").decode()
        t = read_int(rb, "I", key + " type")
        if t == 8:
            kv[key] = read_string(rb, key).decode("utf-8", "replace")
        elif t == 9:
            et = read_int(rb, "I", key + " element type")
            n = read_int(rb, "Q", key + " count")
            if n is None:
                if et == 8:   # count by parsing strings until the next key, then check the count fits
                    st, dp, ol = rb.dec.getstate(), rb.dpos, len(rb.out)
                    probe = None
                    for c in int_cands(rb, "Q"):
                        if c < (1 << 24) and rb.emit(struct.pack("<Q", c)):   # a plausible count
                            probe = c
                            break
                    assert probe is not None, key
                    items = []
                    while not looks_like_key(rb):
                        items.append(read_string(rb, f"{key}[{len(items)}]"))
                    if len(items) != probe:   # redo with the count that the structure says
                        rb.dec.setstate(st); rb.dpos = dp; del rb.out[ol:]
                        rb.must(struct.pack("<Q", len(items)), key + " count")
                        for i, s in enumerate(items):
                            rb.must(struct.pack("<Q", len(s)) + s, f"{key}[{i}]")
                    kv[key] = [s.decode("utf-8", "replace") for s in items]
                    continue
                n = len(kv["tokenizer.ggml.tokens"])
                rb.must(struct.pack("<Q", n), key + " count")
            if et == 8:
                kv[key] = [read_string(rb, f"{key}[{i}]").decode("utf-8", "replace") for i in range(n)]
                continue
            fmt = FMT[et]
            vals, prev = [], 0.0
            for i in range(n):
                v = read_int(rb, fmt, f"{key}[{i}]")
                if v is None:
                    if et != 6:
                        raise SystemExit(f"repair: {key}[{i}]: damaged integer in an array")
                    # SentencePiece scores: -(id - k) for normal pieces, 0 / -1000 / -10000 / -1e9
                    # for special ones; last resort any completion of the lost bytes (only
                    # added tokens end up there, whose scores a BPE tokenizer never reads)
                    cands = itertools.chain([-(i - 259.0), 0.0, -1000.0, -10000.0, -1e9, prev - 1, prev, prev + 1],
                                            (-(i - k) * 1.0 for k in range(0, 600)))
                    pats = itertools.chain((struct.pack("<f", c) for c in cands),
                                           (struct.pack("<I", c) for c in lazy(lambda: int_cands(rb, "I"))))
                    v = struct.unpack("<f", rb.pick(pats, f"{key}[{i}]"))[0]
                vals.append(v)
                prev = v
            kv[key] = vals
            if key == "tokenizer.ggml.token_type":
                types = vals
        else:
            fmt = FMT[t]
            v = read_int(rb, fmt, key)
            if v is None:
                if key.endswith("_token_id"):
                    cands = sorted(set(c for c in itertools.islice(int_cands(rb, fmt), 300000) if 0 <= c < len(kv["tokenizer.ggml.tokens"])))
                    ctl = [c for c in cands if types and types[c] == 3]
                    assert len(ctl) == 1, f"{key}: {len(cands)} candidates, {len(ctl)} of them control tokens"
                    rb.must(struct.pack("<" + fmt, ctl[0]), key)
                else:   # model hyper-parameters do not matter to a tokenizer
                    common = [1e-5, 1e-6, 1e-12, 1e4, 1e5, 1e6, 5e5] if fmt in "fd" else []
                    ufmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[struct.calcsize("<" + fmt)]
                    pats = itertools.chain((struct.pack("<" + fmt, c) for c in common),
                                           (struct.pack("<" + ufmt, c) for c in lazy(lambda: int_cands(rb, ufmt))))
                    rb.pick(pats, key)
                    print(f"note: {key}: value reconstructed approximately (not a tokenizer key)", file=sys.stderr)
    rb.must(data[rb.dpos:], "padding")
    rb.must(b"", "end")
    return bytes(rb.out)


def main():
    data = open(sys.argv[1], "rb").read()
    if FFFD not in data:   # intact
        open(sys.argv[2], "wb").write(data)
        return
    fixed = repair(data)
    if mangle(fixed) != data:
        sys.exit(f"{sys.argv[1]}: repair does not reproduce the damaged file; refusing")
    open(sys.argv[2], "wb").write(fixed)


if __name__ == "__main__":
    main()
