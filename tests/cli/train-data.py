#!/usr/bin/env python3
"""train-data.py — toy FTOK data for the ft-train CLI cases (written independently of lib/format/ftok.c).

  train-data.py OUT.tok SEED N_RECORDS [--task reverse|copy] [--vocab V]

Each record: 1 (bos) + prompt + 2 + answer + 2, loss mask on the answer and its end token.
"""
import random
import struct
import sys


def write(path, recs, vocab):
    with open(path, "wb") as f:
        f.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 1, vocab, 0, 0, 0))
        for toks, mask in recs:
            f.write(struct.pack("<II", len(toks), 0))
            f.write(struct.pack("<%dI" % len(toks), *toks))
            bits = bytearray((len(toks) + 7) // 8)
            for i, m in enumerate(mask):
                if m:
                    bits[i // 8] |= 1 << (i % 8)
            while len(bits) % 4:
                bits.append(0)
            f.write(bytes(bits))


def main():
    path, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    task = sys.argv[sys.argv.index("--task") + 1] if "--task" in sys.argv else "reverse"
    vocab = int(sys.argv[sys.argv.index("--vocab") + 1]) if "--vocab" in sys.argv else 300
    r = random.Random(seed)
    recs = []
    for _ in range(n):
        k = r.randint(2, 6)
        p = [r.randint(3, 40) for _ in range(k)]
        a = p[::-1] if task == "reverse" else p
        toks = [1] + p + [2] + a + [2]
        mask = [0] * (k + 2) + [1] * (k + 1)
        recs.append((toks, mask))
    write(path, recs, vocab)


if __name__ == "__main__":
    main()
