#!/usr/bin/env python3
"""filter-ftok.py — FTOK test helper for the ft-filter cases, written from DESIGN.md §3
independently of lib/format/ftok.c.

  filter-ftok.py write OUT [--vocab V] [--tokid ID] [--mask]  < records.jsonl
      each input line: {"tokens":[...]} optionally with "mask":[0/1...]
  filter-ftok.py read IN                                       > records.jsonl
      one {"tokens":[...], "mask":[...]} line per record (mask only when the header has one)
"""
import json, struct, sys


def write(path, vocab, tokid, mask):
    out = open(path, "wb")
    out.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 1 if mask else 0, vocab, 0, tokid, 0))
    for line in sys.stdin:
        r = json.loads(line)
        t = r["tokens"]
        out.write(struct.pack("<II", len(t), 0) + struct.pack("<%dI" % len(t), *t))
        if mask:
            m = r.get("mask", [1] * len(t))
            nb = (len(t) + 7) // 8
            bits = bytearray((nb + 3) // 4 * 4)
            for i, b in enumerate(m):
                if b:
                    bits[i // 8] |= 1 << (i % 8)
            out.write(bytes(bits))
    out.close()


def read(path):
    data = open(path, "rb").read()
    assert data[:4] == b"FTOK", "bad magic"
    ver, flags, vocab, _, tokid, _ = struct.unpack_from("<HHIIQQ", data, 4)
    hdr = data[:32]
    p = 32
    while p < len(data):
        if data[p:p + 4] == b"FTOK":
            assert data[p:p + 32] == hdr, "header mismatch"
            p += 32
            continue
        n, z = struct.unpack_from("<II", data, p)
        assert z == 0
        p += 8
        toks = list(struct.unpack_from("<%dI" % n, data, p))
        p += 4 * n
        rec = {"tokens": toks}
        if flags & 1:
            nb = (n + 7) // 8
            padded = (nb + 3) // 4 * 4
            bits = data[p:p + padded]
            p += padded
            rec["mask"] = [(bits[i // 8] >> (i % 8)) & 1 for i in range(n)]
        print(json.dumps(rec, separators=(",", ":")))
    assert p == len(data), "trailing bytes"


if __name__ == "__main__":
    if sys.argv[1] == "write":
        a = sys.argv[3:]
        vocab = int(a[a.index("--vocab") + 1]) if "--vocab" in a else 0
        tokid = int(a[a.index("--tokid") + 1]) if "--tokid" in a else 0
        write(sys.argv[2], vocab, tokid, "--mask" in a)
    else:
        read(sys.argv[2])
