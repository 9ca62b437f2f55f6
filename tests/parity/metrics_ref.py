#!/usr/bin/env python3
"""metrics_ref.py — reference side of the metrics parity tests (tests/parity/metrics-*.sh).

  gen OUT.jsonl [N]            deterministic corpus of hypothesis/reference pairs: punctuation,
                               numbers, Unicode (incl. U+0130, U+212A, odd spaces), HTML entities,
                               empty strings, newlines, and 1-3 references per record
  bleu CORPUS [REPORT PER TOK EVERY]...  check ft-eval's BLEU/chrF reports + per-record files
                               against sacrebleu (sentence scores of every EVERY-th record)
  rouge CORPUS [REPORT PER STEM]...      check ft-eval's ROUGE against rouge-score (STEM: 0/1)
  porter-words OUT / porter WORDS STEMS   Porter stems vs nltk's PorterStemmer()
  choice-data OUT / choice MODEL DATA REPORT PER   ft-eval choice vs a NumPy log-likelihood
Exits 1 with the first mismatches printed; tolerance 1e-6 (the issue's bar).
"""
import json
import random
import sys

TOL = 1e-6

WORDS = """the a an of and to in is was for on that with as by at from it this be are or
cat dog mat sat house running runs ran flies flying happiness generalization agreed dying lying
tying skies sky news innings inning outings proceed succeeded exceed hopping hoped filing relational
conditional electrical adjustment communism activate probate controlling rolling roll caresses
ponies ties feed bled sing conflated troubled sized hoping falling hissing fizzed failing happy
triplicate formative formalize electricity hopeful goodness revival allowance inference airliner
gyroscopic adjustable defensible irritant replacement dependent adoption homologous effective
bowdlerize analogies biology fully generously yelling boys says enjoying toy sizing meeting meetings
analysis analyses criteria oscillators operations operational connecting connection nationality
rationalization sensibility ability abilities studies studying study played playing cried crying
""".split()

UNI = ["café", "naïve", "Straße", "İstanbul", "İ", "\u212aelvin", "东京", "日本語", "Ελληνικά", "ΟΔΟΣ",
       "Σίσυφος", "😀", "€100", "½", "x²", "Ⅻ", "١٢٣", "٫", "Ñandú", "ﬁne", "Ǆ", "résumé", "über",
       "مرحبا", "שלום", "한국어", "Привет", "мир", "°C", "™", "∑", "→", "🎉🎉", "e\u0301", "ß"]

PUNCT = [",", ".", "!", "?", ";", ":", "(", ")", "\"", "'", "—", "–", "…", "«", "»", "¿", "¡", "-",
         "&amp;", "&lt;", "&gt;", "&quot;", "<skipped>", "/", "\\", "[", "]", "{", "}", "@", "#", "%",
         "*", "+", "=", "$", "^", "~", "|", "`", "_", "<", ">", "&", "...", "?!", "',", "\".", "、", "。"]

NUMS = ["3.14", "1,000", "2024", "-5", "10-20", "7", "0.5", "1,234,567.89", "42.", ",5", "9-",
        "1st", "2nd", "100%", "$3.50", "12:30", "3/4", "1e-6", "v2.0"]

SPACES = [" ", " ", " ", " ", " ", "  ", "\u00a0", "\u3000", "\t", "\u2028", "\u2009", "\x85", "\x1f"]


def token(rng):
    r = rng.random()
    if r < 0.62:
        w = rng.choice(WORDS)
        c = rng.random()
        if c < 0.1:
            w = w.capitalize()
        elif c < 0.13:
            w = w.upper()
        return w
    if r < 0.75:
        return rng.choice(PUNCT)
    if r < 0.86:
        return rng.choice(NUMS)
    return rng.choice(UNI)


def sentence(rng, n):
    out = []
    for i in range(n):
        t = token(rng)
        if out:
            # punctuation often attaches to the previous word
            out.append("" if (t in PUNCT and rng.random() < 0.6) else rng.choice(SPACES))
        out.append(t)
    if n and rng.random() < 0.5:
        out.append(rng.choice([".", "!", "?", "...", "", ":"]))
    return "".join(out)


def text(rng):
    r = rng.random()
    if r < 0.04:
        return ""
    if r < 0.06:
        return rng.choice([" ", "\n", "  \t", ".", "!!", "&amp;", "\n\n"])
    nsent = 1 if rng.random() < 0.7 else rng.randint(2, 4)
    sents = [sentence(rng, rng.randint(1, 25)) for _ in range(nsent)]
    sep = rng.choice(["\n", " ", "\n", "-\n", "\n\n"])
    s = sep.join(sents)
    if rng.random() < 0.1:
        s = rng.choice([" ", "  ", "\t", "\n", "\u00a0"]) + s + rng.choice([" ", "\n", "\u3000", " \t"])
    return s


def perturb(rng, ref):
    r = rng.random()
    if r < 0.08:
        return ref
    if r < 0.12:
        return ""
    if r < 0.2:
        return text(rng)
    toks = ref.split(" ")
    out = []
    for t in toks:
        q = rng.random()
        if q < 0.1:
            continue
        if q < 0.2:
            out.append(token(rng))
        elif q < 0.25:
            out.extend([t, t])
        elif q < 0.3 and t:
            out.append(t.lower())
        else:
            out.append(t)
    if len(out) > 3 and rng.random() < 0.3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


def gen(path, n=1200):
    rng = random.Random(20261128)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            refs = [text(rng)]
            if rng.random() < 0.25:
                refs += [text(rng) if rng.random() < 0.3 else perturb(rng, refs[0])
                         for _ in range(rng.randint(1, 2))]
            hyp = perturb(rng, refs[rng.randrange(len(refs))])
            rec = {"id": f"r{i}", "output": hyp, "reference": refs if len(refs) > 1 or rng.random() < 0.3 else refs[0]}
            f.write(json.dumps(rec, ensure_ascii=rng.random() < 0.5) + "\n")


def load(path):
    hyps, refs = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            hyps.append(r["output"])
            refs.append(r["reference"] if isinstance(r["reference"], list) else [r["reference"]])
    return hyps, refs


def per_record(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


class Checker:
    def __init__(self):
        self.bad = 0

    def close(self, what, got, want, tol=TOL):
        if abs(got - want) > tol:
            self.bad += 1
            if self.bad <= 15:
                print(f"MISMATCH {what}: ft-eval {got!r} reference {want!r}")

    def equal(self, what, got, want):
        if got != want:
            self.bad += 1
            if self.bad <= 15:
                print(f"MISMATCH {what}: ft-eval {got!r} reference {want!r}")

    def done(self, label):
        if self.bad:
            print(f"{label}: {self.bad} mismatches")
            sys.exit(1)
        print(f"{label}: ok")


def check_bleu(corpus, report, per, tok, every=1):
    import sacrebleu
    from sacrebleu.metrics import BLEU, CHRF
    hyps, refs = load(corpus)
    nmax = max(len(r) for r in refs)
    streams = [[r[k] if k < len(r) else None for r in refs] for k in range(nmax)]
    rep = json.load(open(report, encoding="utf-8"))
    rows = per_record(per)
    c = Checker()
    bleu = BLEU(tokenize=tok)
    b = bleu.corpus_score(hyps, streams)
    c.close("corpus BLEU", rep["bleu"], b.score)
    c.equal("BLEU signature", rep["bleu_signature"], str(bleu.get_signature()))
    c.equal("BLEU counts", [int(x) for x in rep["bleu_detail"]["counts"]], list(b.counts))
    c.equal("BLEU totals", [int(x) for x in rep["bleu_detail"]["totals"]], list(b.totals))
    c.equal("BLEU lengths", (rep["bleu_detail"]["hyp_len"], rep["bleu_detail"]["ref_len"]), (b.sys_len, b.ref_len))
    c.close("BLEU bp", rep["bleu_detail"]["bp"], b.bp)
    chrf = CHRF()
    cs = chrf.corpus_score(hyps, streams)
    c.close("corpus chrF", rep["chrf"], cs.score)
    c.equal("chrF signature", rep["chrf_signature"], str(chrf.get_signature()))
    sb = BLEU(tokenize=tok, effective_order=True)
    for i, (h, r) in enumerate(zip(hyps, refs)):
        if i % every:
            continue
        c.close(f"record {i} sentence BLEU", rows[i]["bleu"], sb.sentence_score(h, r).score)
        c.close(f"record {i} sentence chrF", rows[i]["chrf"], chrf.sentence_score(h, r).score)
    print(f"BLEU[{tok}] {b.score:.6f} vs ft-eval {rep['bleu']:.6f}; chrF {cs.score:.6f} vs {rep['chrf']:.6f}; "
          f"{len(hyps)} records, sacrebleu {sacrebleu.__version__}")
    c.done(f"bleu/chrf tok={tok}")


def check_rouge(corpus, report, per, stem):
    from rouge_score import rouge_scorer
    types = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    hyps, refs = load(corpus)
    rep = json.load(open(report, encoding="utf-8"))
    rows = per_record(per)
    sc = rouge_scorer.RougeScorer(types, use_stemmer=bool(int(stem)))
    c = Checker()
    sums = {t: 0.0 for t in types}
    for i, (h, r) in enumerate(zip(hyps, refs)):
        s = sc.score_multi(r, h)
        for t in types:
            c.close(f"record {i} {t}", rows[i][t], s[t].fmeasure)
            sums[t] += s[t].fmeasure
    for t in types:
        c.close(f"mean {t}", rep[t], sums[t] / len(hyps))
    c.equal("rouge_stem", rep["rouge_stem"], bool(int(stem)))
    print("ROUGE stem=%s: " % stem + ", ".join(f"{t} {sums[t] / len(hyps):.6f} vs {rep[t]:.6f}" for t in types))
    c.done(f"rouge stem={stem}")


def porter_words(path):
    """Words exercising every Porter rule (roots x suffixes) plus random letter strings."""
    rng = random.Random(7)
    suffixes = ["", "s", "es", "ies", "sses", "ss", "ied", "eed", "ed", "ing", "y", "ly", "ying", "ational",
                "tional", "enci", "anci", "izer", "bli", "alli", "entli", "eli", "ousli", "ization", "ation",
                "ator", "alism", "iveness", "fulness", "ousness", "aliti", "iviti", "biliti", "fulli", "logi",
                "icate", "ative", "alize", "iciti", "ical", "ful", "ness", "al", "ance", "ence", "er", "ic",
                "able", "ible", "ant", "ement", "ment", "ent", "sion", "tion", "ou", "ism", "ate", "iti", "ous",
                "ive", "ize", "e", "ll", "ated", "ating", "ized", "izing", "bled", "bling", "ssed", "lled",
                "zzed", "tted", "ering", "ously", "fully", "alli", "ousli"]
    roots = ["h", "at", "by", "sky", "run", "hop", "fil", "troub", "gener", "relat", "condit", "control", "rol",
             "formal", "sens", "digit", "electr", "happ", "cr", "d", "l", "t", "plast", "conflat", "motor", "agr",
             "f", "bl", "s", "tann", "fall", "hiss", "fizz", "fail", "analog", "biolog", "ca", "pon", "ti", "say",
             "yell", "toy", "boy", "syzygy", "yy", "oy", "ey", "rhythm", "queue", "feud", "ion", "opinion", "adopt",
             "depend", "irrit", "defens", "adjust", "gyroscop", "airlin", "infer", "allow", "reviv", "good",
             "hope", "electric", "triplic", "probat", "activ", "communis", "nation", "ration", "oper", "oscill"]
    words = set(WORDS)
    for r in roots:
        for suf in suffixes:
            words.add(r + suf)
    letters = "abcdeeeiioouuyyyrstlnmpgkhwxz"
    for _ in range(6000):
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(1, 14))))
    words |= {"news", "howe", "innings", "cannings", "outings", "proceed", "exceed", "succeed", "dying",
              "lying", "tying", "skies", "sky", "ies", "ied", "y", "ys"}
    with open(path, "w") as f:
        for w in sorted(words):
            f.write(w + "\n")


def check_porter(words, stems):
    from nltk.stem import porter
    st = porter.PorterStemmer()
    ws = open(words).read().split("\n")[:-1]
    got = open(stems).read().split("\n")[:-1]
    c = Checker()
    c.equal("number of stems", len(got), len(ws))
    for w, g in zip(ws, got):
        c.equal(f"stem({w})", g, st.stem(w))
    print(f"Porter: {len(ws)} words vs nltk PorterStemmer()")
    c.done("porter")


def choice_data(path, n=24):
    """Multiple-choice records: contexts (some ending in a space), 2-4 choices, labels."""
    rng = random.Random(11)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            ctx = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))
            ctx += rng.choice(["", " ", ":", "? ", "\n"])
            k = rng.randint(2, 4)
            ch = [rng.choice(["", " "]) + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
                  for _ in range(k)]
            f.write(json.dumps({"id": i, "context": ctx, "choices": ch, "label": rng.randrange(k)}) + "\n")


def check_choice(model, data, report, per):
    """Log-likelihoods by the NumPy float64 forward of model_ref.py and HF tokenizers, encoded
    as lm-evaluation-harness does; acc / acc_norm recomputed from them."""
    import os
    import numpy as np
    from tokenizers import Tokenizer
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import model_ref
    c, w = model_ref.load(model)
    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    enc = lambda s: tok.encode(s, add_special_tokens=False).ids
    rows = per_record(per)
    rep = json.load(open(report))
    chk = Checker()
    acc = accn = 0
    recs = [json.loads(l) for l in open(data, encoding="utf-8")]
    for i, r in enumerate(recs):
        ctx = r["context"]
        n_sp = len(ctx) - len(ctx.rstrip())
        lls = []
        for ch in r["choices"]:
            cx, cont = (ctx[:-n_sp], ctx[-n_sp:] + ch) if n_sp else (ctx, ch)
            whole, cenc = enc(cx + cont), enc(cx)
            cont_enc = whole[len(cenc):]
            toks = cenc + cont_enc
            logits = model_ref.forward(c, w, toks)
            lp = logits - logits.max(-1, keepdims=True)
            lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
            lls.append(float(sum(lp[len(cenc) - 1 + j, t] for j, t in enumerate(cont_enc))))
        for k, (g, want) in enumerate(zip(rows[i]["ll"], lls)):
            chk.close(f"record {i} choice {k} log-likelihood", g, want, 1e-3)
        pred = int(np.argmax(lls))
        predn = int(np.argmax([l / len(ch.encode()) for l, ch in zip(lls, r["choices"])]))
        chk.equal(f"record {i} pred", rows[i]["pred"], pred)
        chk.equal(f"record {i} pred_norm", rows[i]["pred_norm"], predn)
        acc += pred == r["label"]
        accn += predn == r["label"]
    chk.close("acc", rep["acc"], acc / len(recs), 1e-12)
    chk.close("acc_norm", rep["acc_norm"], accn / len(recs), 1e-12)
    print(f"choice: acc {acc / len(recs):.4f} acc_norm {accn / len(recs):.4f} on {len(recs)} records (NumPy reference)")
    chk.done("choice")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1200)
    elif cmd == "bleu":   # CORPUS then (REPORT PER TOK EVERY) groups: one process for all runs
        assert len(sys.argv) >= 7 and (len(sys.argv) - 3) % 4 == 0, "bleu CORPUS [REPORT PER TOK EVERY]..."
        for k in range(3, len(sys.argv), 4):
            check_bleu(sys.argv[2], sys.argv[k], sys.argv[k + 1], sys.argv[k + 2], int(sys.argv[k + 3]))
    elif cmd == "choice-data":
        choice_data(sys.argv[2])
    elif cmd == "choice":
        check_choice(*sys.argv[2:6])
    elif cmd == "porter-words":
        porter_words(sys.argv[2])
    elif cmd == "porter":
        check_porter(sys.argv[2], sys.argv[3])
    elif cmd == "rouge":  # CORPUS then (REPORT PER STEM) groups
        assert len(sys.argv) >= 6 and (len(sys.argv) - 3) % 3 == 0, "rouge CORPUS [REPORT PER STEM]..."
        for k in range(3, len(sys.argv), 3):
            check_rouge(sys.argv[2], sys.argv[k], sys.argv[k + 1], sys.argv[k + 2])
    else:
        sys.exit("unknown command " + cmd)
