#!/usr/bin/env python3
"""gen.py OUTDIR — the malformed-file corpus for ft-info (tests/cli/malformed-corpus.sh).

Writes OUTDIR/NAME files and OUTDIR/MANIFEST lines "NAME EXPECT" where EXPECT is
  1    the file is malformed: ft-info must exit 1 with a message
  0|1  a random byte flip: either accepted or refused, never a crash
  0    a valid stream (FTOK prefixes that end on a record boundary)
Cases: llama.cpp's GGUF CVE history, safetensors header rules, FTOK damage, every
truncation of a small valid GGUF / safetensors / FTOK file, and seeded random byte flips.
Files are built here with struct, independently of ft's writers.
"""
import json, os, random, struct, sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
manifest = []


def put(name, data, expect="1"):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    manifest.append(f"{name} {expect}")


# ---- GGUF --------------------------------------------------------------------------------
def s(x):
    b = x.encode() if isinstance(x, str) else x
    return struct.pack("<Q", len(b)) + b


def gguf(version=3, n_tensors=None, n_kv=None, kvs=None, tensors=None, data=None, align=32):
    kvs = kvs if kvs is not None else [s("general.architecture") + struct.pack("<I", 8) + s("llama"),
                                      s("t.arr") + struct.pack("<IIQ", 9, 4, 3) + struct.pack("<3I", 1, 2, 3)]
    tensors = tensors if tensors is not None else [
        s("a") + struct.pack("<I", 2) + struct.pack("<QQ", 8, 2) + struct.pack("<IQ", 0, 0),        # F32 64 B
        s("b") + struct.pack("<I", 1) + struct.pack("<Q", 32) + struct.pack("<IQ", 8, 64)]          # Q8_0 34 B
    h = b"GGUF" + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                              len(kvs) if n_kv is None else n_kv)
    h += b"".join(kvs) + b"".join(tensors)
    h += b"\0" * (-len(h) % align)
    if data is None:
        data = struct.pack("<16f", *range(16)) + struct.pack("<H", 0x3C00) + bytes(range(32))
    return h + data


def tinfo(name, dims, typ, off):
    return s(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", typ, off)


arch = s("general.architecture") + struct.pack("<I", 8) + s("llama")
valid_gguf = gguf()
put("gguf-valid-control.gguf", valid_gguf, "0")
put("gguf-n-tensors-max.gguf", gguf(n_tensors=2**64 - 1))
put("gguf-n-kv-max.gguf", gguf(n_kv=2**64 - 1))
put("gguf-key-len-2e63.gguf", gguf(kvs=[struct.pack("<Q", 2**63) + b"general.architecture" + struct.pack("<I", 8) + s("x")]))
put("gguf-str-len-2e63.gguf", gguf(kvs=[s("general.name") + struct.pack("<IQ", 8, 2**63) + b"x"]))
put("gguf-array-n-max.gguf", gguf(kvs=[s("t") + struct.pack("<IIQ", 9, 4, 2**64 - 1) + b"\0" * 12]))
put("gguf-str-array-n-2e62.gguf", gguf(kvs=[s("t") + struct.pack("<IIQ", 9, 8, 2**62) + s("a")]))
put("gguf-nested-deep.gguf", gguf(kvs=[s("t") + struct.pack("<I", 9) + struct.pack("<IQ", 9, 1) * 40 + struct.pack("<IQ", 0, 0)]))
put("gguf-n-dims-5.gguf", gguf(tensors=[tinfo("a", [1, 1, 1, 1, 16], 0, 0)]))
put("gguf-dim-2e42p1.gguf", gguf(tensors=[tinfo("a", [2**42 + 1, 2**42 + 1, 2**42 + 1, 2**42 + 1], 0, 0)]))
put("gguf-dim-2e42p1-single.gguf", gguf(tensors=[tinfo("a", [2**42 + 1], 0, 0)]))
put("gguf-dim-zero.gguf", gguf(tensors=[tinfo("a", [16, 0], 0, 0)]))
put("gguf-type-out-of-range.gguf", gguf(tensors=[tinfo("a", [16], 1000, 0)]))
put("gguf-type-removed-q4-2.gguf", gguf(tensors=[tinfo("a", [32], 4, 0)]))
put("gguf-q8-row-not-block.gguf", gguf(tensors=[tinfo("a", [33], 8, 0)]))
for a, nm in ((0, "0"), (13, "13")):
    put(f"gguf-alignment-{nm}.gguf", gguf(kvs=[arch, s("general.alignment") + struct.pack("<II", 4, a)]))
put("gguf-alignment-u64.gguf", gguf(kvs=[arch, s("general.alignment") + struct.pack("<IQ", 10, 32)]))
put("gguf-alignment-string.gguf", gguf(kvs=[arch, s("general.alignment") + struct.pack("<I", 8) + s("32")]))
put("gguf-offset-misaligned.gguf", gguf(tensors=[tinfo("a", [16], 0, 4)]))
put("gguf-offset-past-end.gguf", gguf(tensors=[tinfo("a", [16], 0, 1 << 40)]))
put("gguf-offset-wraps.gguf", gguf(tensors=[tinfo("a", [16], 0, 2**64 - 32)]))
put("gguf-overlap.gguf", gguf(tensors=[tinfo("a", [16], 0, 0), tinfo("b", [8], 0, 32)]))
put("gguf-dup-tensor.gguf", gguf(tensors=[tinfo("a", [8], 0, 0), tinfo("a", [8], 0, 32)]))
put("gguf-dup-key.gguf", gguf(kvs=[arch, arch]))
put("gguf-value-type-13.gguf", gguf(kvs=[s("t") + struct.pack("<I", 13) + b"\0" * 8]))
put("gguf-elem-type-99.gguf", gguf(kvs=[s("t") + struct.pack("<IIQ", 9, 99, 1) + b"\0" * 8]))
put("gguf-version-1.gguf", gguf(version=1))
put("gguf-version-big-endian.gguf", gguf(version=0x03000000))
put("gguf-bad-magic.gguf", b"GGUG" + valid_gguf[4:])
put("gguf-empty-name.gguf", gguf(tensors=[tinfo("", [16], 0, 0)]))
put("gguf-empty.gguf", b"")

# ---- safetensors ---------------------------------------------------------------------------
def st(header, data=b"", hl=None):
    h = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(h) if hl is None else hl) + h + data


hdr = {"__metadata__": {"format": "pt"}, "w": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]},
       "v": {"dtype": "I8", "shape": [4], "data_offsets": [12, 16]}}
valid_st = st(json.dumps(hdr, separators=(",", ":")) + "  ", bytes(range(16)))
put("st-valid-control.safetensors", valid_st, "0")
put("st-header-100mb.safetensors", st("{}", hl=100_000_001))
put("st-header-past-end.safetensors", st("{}", hl=1 << 20))
put("st-header-len-max.safetensors", st("{}", hl=2**64 - 1))
put("st-not-json.safetensors", st("{\"a\":"))
put("st-not-object.safetensors", st("[]"))
put("st-leading-space.safetensors", st(" {}"))
put("st-unknown-dtype.safetensors", st('{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', b"\0"))
put("st-shape-overflow.safetensors", st('{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}', b"\0" * 4))
put("st-shape-mismatch.safetensors", st('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', b"\0" * 8))
put("st-offsets-reversed.safetensors", st('{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}', b"\0" * 8))
put("st-gap.safetensors", st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"\0" * 8))
put("st-overlap.safetensors", st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"\0" * 8))
put("st-past-end.safetensors", st('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', b"\0" * 8))
put("st-trailing-bytes.safetensors", st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 12))
put("st-dup-key.safetensors", st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"\0" * 8))
put("st-metadata-not-string.safetensors", st('{"__metadata__":{"k":[1]}}'))
put("st-bad-utf8.safetensors", st(b'{"\xff\xfe":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4))
put("st-huge-offset.safetensors", st('{"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}}'))
put("st-too-short.safetensors", b"\x10\0\0")

# ---- FTOK ----------------------------------------------------------------------------------
def ftok_header(flags=1, version=1, vocab=1000, tid=0x1234):
    return b"FTOK" + struct.pack("<HHIIQQ", version, flags, vocab, 0, tid, 0)


def rec(tokens, mask=None):
    b = struct.pack("<II", len(tokens), 0) + struct.pack(f"<{len(tokens)}I", *tokens)
    if mask is not None:
        bits = bytearray((len(tokens) + 7) // 8)
        for i, m in enumerate(mask):
            if m: bits[i // 8] |= 1 << (i % 8)
        b += bytes(bits) + b"\0" * (-len(bits) % 4)
    return b


recs = [rec([1, 2, 3], [0, 1, 1]), rec(list(range(10)), [1] * 10), rec([7], [1])]
valid_ftok = ftok_header() + b"".join(recs)
put("ftok-valid-control.tok", valid_ftok, "0")
put("ftok-bad-version.tok", ftok_header(version=2) + recs[0])
put("ftok-bad-flags.tok", ftok_header(flags=6) + recs[0])
put("ftok-reserved-nonzero.tok", ftok_header()[:12] + b"\1\0\0\0" + ftok_header()[16:] + recs[0])
put("ftok-mismatched-header.tok", ftok_header() + recs[0] + ftok_header(vocab=999) + recs[1])
put("ftok-huge-record.tok", ftok_header() + struct.pack("<II", 0xFFFFFFFF, 0) + b"\0" * 64)
put("ftok-record-reserved.tok", ftok_header() + struct.pack("<II", 1, 5) + b"\0" * 8)
put("ftok-bad-magic.tok", b"FTOX" + valid_ftok[4:])
put("ftok-short-header.tok", valid_ftok[:20])

# ---- every truncation, seeded flips ---------------------------------------------------------
bounds = {32}
pos = 32
for r in recs:
    pos += len(r); bounds.add(pos)
for name, data, ext, ok in (("gguf", valid_gguf, "gguf", set()), ("st", valid_st, "safetensors", set()),
                            ("ftok", valid_ftok, "tok", bounds)):
    for n in range(len(data)):
        put(f"cut-{name}-{n:04d}.{ext}", data[:n], "0" if n in ok else "1")
rng = random.Random(20261128)
for name, data, ext in (("gguf", valid_gguf, "gguf"), ("st", valid_st, "safetensors"), ("ftok", valid_ftok, "tok")):
    for i in range(120):
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= rng.randint(1, 255)
        put(f"flip-{name}-{i:03d}.{ext}", bytes(b), "0|1")

with open(os.path.join(out, "MANIFEST"), "w") as f:
    f.write("\n".join(manifest) + "\n")
