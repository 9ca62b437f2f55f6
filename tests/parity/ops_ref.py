"""ops_ref.py — NumPy (float64) references for the CPU op table's attention and fused LM-head
cross-entropy, compared with the arrays `test_ops_attn --dump` wrote.

Usage: ops_ref.py attention|xent DIR   -> prints max abs diffs; exit 1 when above tolerance.
Tolerance: the C ops run in float32 on O(1) inputs; every output is a sum of at most a few
hundred float32 products, so rounding stays near 1e-6 of the output scale. 2e-5 relative to the
largest magnitude leaves 10x margin and is far below any semantic error (a mask off by one
position moves outputs by O(0.1)).
"""
import sys
import numpy as np

TOL = 2e-5


def load(d, name, dtype, shape):
    return np.fromfile(f"{d}/{name}", dtype=dtype).reshape(shape)


def check(name, got, want):
    err = float(np.max(np.abs(got.astype(np.float64) - want)))
    scale = max(float(np.max(np.abs(want))), 1e-6)
    ok = err <= TOL * scale
    print(f"{name}: max abs diff {err:.3e} (max |ref| {scale:.3g}) {'ok' if ok else 'FAIL'}")
    return ok


def attention(d):
    B, T, Hq, Hkv, D = map(int, open(f"{d}/meta.txt").read().split())
    q = load(d, "q.f32", "<f4", (B, T, Hq, D)).astype(np.float64)
    k = load(d, "k.f32", "<f4", (B, T, Hkv, D)).astype(np.float64)
    v = load(d, "v.f32", "<f4", (B, T, Hkv, D)).astype(np.float64)
    doc = load(d, "doc.i32", "<i4", (B, T))
    k = np.repeat(k, Hq // Hkv, axis=2)  # kv head of query head h is h // (Hq/Hkv)
    v = np.repeat(v, Hq // Hkv, axis=2)
    s = np.einsum("bthd,bshd->bhts", q, k) / np.sqrt(D)
    causal = np.tril(np.ones((T, T), dtype=bool))
    same = doc[:, :, None] == doc[:, None, :]                  # (B, T, S)
    allowed = (causal[None] & same)[:, None]                   # (B, 1, T, S)
    s = np.where(allowed, s, -np.inf)
    mx = s.max(-1, keepdims=True)
    p = np.exp(s - mx)
    z = p.sum(-1, keepdims=True)
    lse = (mx + np.log(z))[..., 0]                             # (B, H, T)
    out = np.einsum("bhts,bshd->bthd", p / z, v)
    ok = check("attention out", load(d, "out.f32", "<f4", (B, T, Hq, D)), out)
    ok &= check("attention lse", load(d, "lse.f32", "<f4", (B, Hq, T)), lse)
    print(f"documents per row: {[len(np.unique(r)) for r in doc]}")
    return ok


def xent(d):
    N, C, V, loss = open(f"{d}/meta.txt").read().split()
    N, C, V, loss = int(N), int(C), int(V), float(loss)
    h = load(d, "h.f32", "<f4", (N, C)).astype(np.float64)
    w = load(d, "w.f32", "<f4", (V, C)).astype(np.float64)
    t = load(d, "target.i32", "<i4", (N,))
    m = load(d, "mask.u8", "u1", (N,)).astype(bool)
    z = h @ w.T
    mx = z.max(-1, keepdims=True)
    logp = z - mx - np.log(np.exp(z - mx).sum(-1, keepdims=True))
    ref = -logp[np.arange(N), t][m].sum()
    g = np.exp(logp)
    g[np.arange(N), t] -= 1
    g[~m] = 0
    ok = abs(loss - ref) <= 1e-6 * abs(ref)
    print(f"xent loss {loss:.9g} ref {ref:.9g} rel diff {abs(loss - ref) / abs(ref):.2e} {'ok' if ok else 'FAIL'}")
    ok &= check("xent dh", load(d, "dh.f32", "<f4", (N, C)), g @ w)
    ok &= check("xent dw", load(d, "dw.f32", "<f4", (V, C)), g.T @ h)
    return ok


if __name__ == "__main__":
    sys.exit(0 if {"attention": attention, "xent": xent}[sys.argv[1]](sys.argv[2]) else 1)
