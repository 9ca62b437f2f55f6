#!/usr/bin/env python3
"""pref_ref.py — a NumPy reference of TRL's preference losses (DPOTrainer loss_type sigmoid,
ipo, hinge, robust; CPOTrainer loss_type simpo; ORPOTrainer), written from TRL's formulas, on
the float64 forward of tests/parity/model_ref.py.

  pref_ref.py write-pairs OUT.tok SEED N_PAIRS VOCAB   random preference pairs as FTOK (mask + pairs flags):
                                                      a shared prompt (no target) and two completions
  pref_ref.py write-labeled OUT.tok SEED N VOCAB       random KTO records (labels flag): prompt + completion, label
  pref_ref.py check OBJ LOSS_TYPE BETA EPS GAMMA POLICY REF DATA.tok LOG STEP BEFORE AFTER [LR [BATCH]]
      (kto: the data in file order in micro-batches of BATCH records, each with its own KL
      estimate from the cyclically mismatched prompt/completion pairs, held constant)
      the loss of ft-train's log line STEP against the reference with the HF dirs POLICY (the
      parameters at that step) and REF (the reference model; "-" for none), and ft's gradient
      of that step, recovered from the parameters BEFORE -> AFTER (ft-train ran AdamW with
      beta1 = beta2 = 0, eps = 1, constant lr (default 1), no clipping, no decay:
      p -= lr * g / (|g| + 1)), against
      central finite differences of the reference loss on sampled parameters.
  pref_ref.py ln2 LOG                                  step 1 of a DPO sigmoid log: loss = ln 2, rewards 0
"""
import json
import math
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_ref  # noqa: E402


def write_pairs(path, seed, n, vocab):
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        f.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 3, 0, 0, 0, 0))
        for _ in range(n):
            prompt = list(rng.integers(3, vocab, rng.integers(3, 7)))
            sides = [list(rng.integers(3, vocab, rng.integers(2, 7))) for _ in range(2)]
            toks, mask = [], []
            for s in sides:
                toks += prompt + s
                mask += [0] * len(prompt) + [1] * len(s)
            split = len(prompt) + len(sides[0])
            f.write(struct.pack("<II", len(toks), split) + struct.pack(f"<{len(toks)}I", *[int(t) for t in toks]))
            nb = (len(toks) + 7) // 8
            bits = bytearray((nb + 3) // 4 * 4)
            for i, m in enumerate(mask):
                if m:
                    bits[i // 8] |= 1 << (i % 8)
            f.write(bytes(bits))


def write_labeled(path, seed, n, vocab):
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        f.write(b"FTOK" + struct.pack("<HHIIQQ", 1, 5, 0, 0, 0, 0))
        for i in range(n):
            prompt = [int(t) for t in rng.integers(3, vocab, rng.integers(3, 7))]
            comp = [int(t) for t in rng.integers(3, vocab, rng.integers(2, 7))]
            toks, mask = prompt + comp, [0] * len(prompt) + [1] * len(comp)
            f.write(struct.pack("<II", len(toks), int(i % 3 != 1)) + struct.pack(f"<{len(toks)}I", *toks))
            bits = bytearray(((len(toks) + 7) // 8 + 3) // 4 * 4)
            for j, m in enumerate(mask):
                if m:
                    bits[j // 8] |= 1 << (j % 8)
            f.write(bytes(bits))


def read_labeled(path):
    raw = open(path, "rb").read()
    assert raw[:4] == b"FTOK" and struct.unpack("<H", raw[6:8])[0] == 5
    o, out = 32, []
    while o < len(raw):
        n, label = struct.unpack("<II", raw[o:o + 8])
        o += 8
        toks = list(struct.unpack(f"<{n}I", raw[o:o + 4 * n]))
        o += 4 * n
        mask = [(raw[o + i // 8] >> (i % 8)) & 1 for i in range(n)]
        o += ((n + 7) // 8 + 3) // 4 * 4
        k = mask.index(1)
        out.append((toks[:k], toks[k:], label))
    return out


def kto_kl(c, w, cref, wref, recs, B):
    """per micro-batch of B records: TRL's KL estimate, max(0, mean(policy - reference)) of each
    prompt with the previous record's completion (cyclically)"""
    kls = []
    for m0 in range(0, len(recs), B):
        mb = recs[m0:m0 + B]
        d = []
        for i, (p, _, _) in enumerate(mb):
            comp = mb[i - 1][1]
            toks, mask = p + comp, [0] * len(p) + [1] * len(comp)
            d.append(seq_logp(c, w, toks, mask)[0] - seq_logp(cref, wref, toks, mask)[0])
        kls.append(max(0.0, float(np.mean(d))))
    return kls


def kto_loss(beta, c, w, ref, recs, B, kls):
    losses, rc, rr, lc, lr = [], [], [], [], []
    for i, (p, comp, label) in enumerate(recs):
        lp = seq_logp(c, w, p + comp, [0] * len(p) + [1] * len(comp))[0]
        r = lp - ref[i]
        kl = kls[i // B]
        if label:
            losses.append(1 - 1 / (1 + np.exp(-beta * (r - kl)))); rc.append(beta * r); lc.append(lp)
        else:
            losses.append(1 - 1 / (1 + np.exp(-beta * (kl - r)))); rr.append(beta * r); lr.append(lp)
    m = {"rewards/chosen": np.mean(rc), "rewards/rejected": np.mean(rr), "rewards/margins": np.mean(rc) - np.mean(rr),
         "logps/chosen": np.mean(lc), "logps/rejected": np.mean(lr), "kl": float(np.mean(kls))}
    return float(np.mean(losses)), m


def read_pairs(path):
    raw = open(path, "rb").read()
    assert raw[:4] == b"FTOK" and struct.unpack("<H", raw[6:8])[0] == 3
    o, out = 32, []
    while o < len(raw):
        n, split = struct.unpack("<II", raw[o:o + 8])
        o += 8
        toks = list(struct.unpack(f"<{n}I", raw[o:o + 4 * n]))
        o += 4 * n
        nb = (n + 7) // 8
        mask = [(raw[o + i // 8] >> (i % 8)) & 1 for i in range(n)]
        o += (nb + 3) // 4 * 4
        out.append(((toks[:split], mask[:split]), (toks[split:], mask[split:])))
    return out


def seq_logp(c, w, toks, mask):
    """sum of log p(token i | < i) over the target tokens i (mask bit set), and their count"""
    lg = model_ref.forward(c, w, toks)
    lg = lg - lg.max(-1, keepdims=True)
    lp = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
    s, k = 0.0, 0
    for i in range(1, len(toks)):
        if mask[i]:
            s += lp[i - 1, toks[i]]
            k += 1
    return s, k


def logsig(x):
    return -np.logaddexp(0.0, -x)


def pref_loss(obj, lt, beta, eps, gamma, pol, ref):
    """TRL's loss (mean over the pairs) and its logged metrics; pol/ref: [(lc, nc, lr, nr)]."""
    losses, rc, rr, lcs, lrs, extra = [], [], [], [], [], {}
    nll_sum, nll_cnt, ratios, odds = 0.0, 0, [], []
    for i, (lc, nc, lr, nr) in enumerate(pol):
        if obj == "dpo":
            rlc, _, rlr, _ = ref[i]
            cl, rl = lc - rlc, lr - rlr          # chosen_logratios, rejected_logratios
            d = cl - rl                           # delta_score (reverse KL)
            if lt == "sigmoid":
                L = -logsig(beta * d)
            elif lt == "hinge":
                L = max(0.0, 1 - beta * d)
            elif lt == "ipo":
                L = (cl / max(nc, 1) - rl / max(nr, 1) - 1 / (2 * beta)) ** 2
            elif lt == "robust":
                L = (-(1 - eps) * logsig(beta * d) - (-eps * logsig(-beta * d))) / (1 - 2 * eps)
            rc.append(beta * cl); rr.append(beta * rl); lcs.append(lc); lrs.append(lr)
        elif obj == "simpo":
            ac, ar = lc / nc, lr / nr             # average_log_prob
            z = (ac - ar) - gamma / beta
            L = -logsig(beta * z) * (1 - eps) - logsig(-beta * z) * eps
            rc.append(beta * ac); rr.append(beta * ar); lcs.append(ac); lrs.append(ar)
        elif obj == "orpo":
            ac, ar = lc / nc, lr / nr
            log_odds = (ac - ar) - (np.log1p(-np.exp(ac)) - np.log1p(-np.exp(ar)))
            ratio = logsig(log_odds)
            L = -beta * ratio                     # loss = nll - mean(beta * ratio)
            nll_sum -= lc; nll_cnt += nc
            ratios.append(ratio); odds.append(log_odds)
            rc.append(beta * ac); rr.append(beta * ar); lcs.append(ac); lrs.append(ar)
        losses.append(L)
    loss = float(np.mean(losses))
    if obj == "orpo":
        loss += nll_sum / nll_cnt
        extra = {"nll_loss": nll_sum / nll_cnt, "log_odds_ratio": float(np.mean(ratios)), "log_odds_chosen": float(np.mean(odds))}
    rc, rr = np.array(rc), np.array(rr)
    m = {"rewards/chosen": rc.mean(), "rewards/rejected": rr.mean(), "rewards/margins": (rc - rr).mean(),
         "rewards/accuracies": float((rc > rr).mean()), "logps/chosen": float(np.mean(lcs)), "logps/rejected": float(np.mean(lrs))}
    m.update(extra)
    return loss, m


def all_logps(c, w, pairs):
    out = []
    for (ct, cm), (rt, rm) in pairs:
        lc, nc = seq_logp(c, w, ct, cm)
        lr, nr = seq_logp(c, w, rt, rm)
        out.append((lc, nc, lr, nr))
    return out


def log_step(path, step):
    for line in open(path):
        j = json.loads(line)
        if j.get("step") == step and "loss" in j:
            return j
    sys.exit(f"{path}: no training line for step {step}")


def check(a):
    obj, lt, beta, eps, gamma = a[0], a[1], float(a[2]), float(a[3]), float(a[4])
    pol_dir, ref_dir, data, log, step, before, after = a[5], a[6], a[7], a[8], int(a[9]), a[10], a[11]
    lr = float(a[12]) if len(a) > 12 else 1.0
    c, w = model_ref.load(pol_dir)
    if obj == "kto":
        B = int(a[13])
        recs = read_labeled(data)
        cref, wref = model_ref.load(ref_dir)
        ref = [seq_logp(cref, wref, p + comp, [0] * len(p) + [1] * len(comp))[0] for p, comp, _ in recs]
        kls = kto_kl(c, w, cref, wref, recs, B)   # detached: constant under the finite differences

        def L(wt):
            return kto_loss(beta, c, wt, ref, recs, B, kls)
    else:
        pairs = read_pairs(data)
        ref = all_logps(*model_ref.load(ref_dir), pairs) if ref_dir != "-" else None

        def L(wt):
            return pref_loss(obj, lt, beta, eps, gamma, all_logps(c, wt, pairs), ref)

    loss, met = L(w)
    got = log_step(log, step)
    bad = 0
    # the log prints 6 decimals: agreement to 2e-6 absolute (float32 forward vs float64 reference)
    for k, v in [("loss", loss)] + list(met.items()):
        diff = abs(got[k] - v)
        tol = 2e-6 + 1e-5 * abs(v)
        if diff > tol:
            print(f"  {k}: ft {got[k]:.6f} reference {v:.6f}")
            bad += 1
    print(f"{obj}/{lt} step {step}: loss ft {got['loss']:.6f} reference {loss:.8f}; "
          f"accuracy {met.get('rewards/accuracies', float('nan')):.2f} margin {met['rewards/margins']:.3e}")
    # ft's gradient from the update, against central differences of the reference loss
    _, p0 = model_ref.load(before)
    _, p1 = model_ref.load(after)
    rng = np.random.default_rng(5)
    names = sorted(k for k in p0 if k != "lm_head.weight" or "lm_head.weight" in p1)
    worst, checked = 0.0, 0
    for name in names:
        for _ in range(3):
            idx = tuple(int(rng.integers(0, s)) for s in p0[name].shape)
            u = (float(p0[name][idx]) - float(p1[name][idx])) / lr
            g_ft = u / (1 - abs(u))
            wp = {k: v.astype(np.float64) for k, v in w.items()}
            h = 1e-4
            keep = wp[name][idx]
            wp[name][idx] = keep + h
            lp_ = L(wp)[0]
            wp[name][idx] = keep - h
            lm_ = L(wp)[0]
            g_ref = (lp_ - lm_) / (2 * h)
            err = abs(g_ft - g_ref) / (abs(g_ref) + 1e-4)
            worst = max(worst, err)
            checked += 1
            if abs(g_ft - g_ref) > 1e-6 + 2e-3 * abs(g_ref):
                print(f"  d/d {name}{list(idx)}: ft {g_ft:.6e} finite differences {g_ref:.6e}")
                bad += 1
    print(f"  gradient: {checked} parameters, worst relative difference {worst:.2e}")
    sys.exit(1 if bad else 0)


def main():
    cmd = sys.argv[1]
    if cmd == "write-pairs":
        write_pairs(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "write-labeled":
        write_labeled(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "check":
        check(sys.argv[2:])
    elif cmd == "ln2":
        j = log_step(sys.argv[2], 1)
        ok = j["loss"] == round(math.log(2), 6) and all(j[k] == 0 for k in ("rewards/chosen", "rewards/rejected", "rewards/margins"))
        print(f"step 1: loss {j['loss']} (ln 2 = {math.log(2):.6f}), rewards {j['rewards/chosen']} {j['rewards/rejected']}")
        sys.exit(0 if ok else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
