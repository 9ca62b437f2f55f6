#!/usr/bin/env python3
"""tokenize_parity.py — helpers for the ft-tokenize parity tests against HF `tokenizers`.

  corpus OUT.jsonl [KB]        deterministic mixed corpus (>= 1 MB by default) as {"text"} lines
  build-all CORPUS KIND...     build each KIND into ./KIND/ (one training per family)
  build KIND CORPUS DIR        train a small tokenizer with `tokenizers` and save DIR/tokenizer.json
                               KIND: bytelevel | llama3 | normalized | spm | metaspace
  derive SRC VARIANT DIR       SRC's model with another pre-tokenizer layout (see PRETOK_VARIANTS;
                               "added-flags" and, over the spm model, "gemma" change other parts)
  variants                     list those layouts
  qwen2-json SRC DIR            Qwen2's normalizer + pre-tokenizer over SRC's byte-level model
  to-gguf TOKENIZER.json PRE OUT.gguf   gpt2-model GGUF vocabulary with tokenizer.ggml.pre = PRE
  from-gguf MODEL.gguf DIR     HF tokenizer.json equivalent of a gpt2-style GGUF vocabulary (SmolLM2)
  encode TOKENIZER.json IN OUT HF ids: {"input_ids"} per line (add_special_tokens=False)
  compare WANT GOT             input_ids must be equal line by line
  roundtrip IN DECODED         decoded {"text"} lines must equal the input texts
  decode-compare TOK IDS DEC   ft's decode must equal HF decode of the same ids
"""
import json
import random
import sys

WORDS = ("the of and to in is was that for on with as by at from his her they this which be or an had not are but were "
         "their one all there been has have would when who will more no if out so said what up its about into than them "
         "can only other new some could time these two may then do first any my now such like our over man me even most "
         "made after also did many before must through back years where much your way well down should because each just "
         "those people Mr how too little state good very make world still own see men work long get here between both life "
         "being under never day same another know while last might us great old year off come since against go came right "
         "used take three tokenizer merges vocabulary byte-level fine-tuning gradient adapter Llama's don't we'll I'm "
         "you're they've she'd HELLO World NASA naïve café résumé Zürich Ångström façade coöperate").split()

CODE = [
    'def {f}(x, y=None):\n    """Return {f} of x."""\n    if y is None:\n        y = x ** 2\n    return [i * y for i in range(x)]\n',
    'int {f}(const char *s, size_t n) {{\n\tint h = 0;\n\tfor (size_t i = 0; i < n; i++) h = h * 31 + s[i];\n\treturn h & 0x7fffffff;\n}}\n',
    'fn {f}(v: &[u32]) -> Option<u32> {{\n    v.iter().copied().filter(|x| x % 2 == 0).max()\n}}\n',
    'function {f}(a, b) {{\n  const r = a.map((x) => x + b);\n  return r.length > 0 ? r : null; // TODO\n}}\n',
    'SELECT id, name, COUNT(*) AS n FROM {f} WHERE created_at >= \'2024-01-01\' GROUP BY id, name ORDER BY n DESC;\n',
    '<div class="{f}">\n  <p>Hello &amp; welcome &lt;user&gt;</p>\n  <a href="https://example.com/{f}?q=1&x=2">link</a>\n</div>\n',
    'package main\n\nimport "fmt"\n\nfunc {f}() {{\n\tfmt.Println("hi", 42, 3.14)\n}}\n',
    '#!/bin/sh\nfor f in *.txt; do\n  echo "$f" | tr a-z A-Z >> {f}.log 2>&1 || exit 1\ndone\n',
    '{{"name": "{f}", "values": [1, 2.5, -3e10, true, null], "nested": {{"k": "v\\n"}}}}\n',
    '    if (x != 0 && y <= 10) {{ z += x << 2; }} else {{ z = ~z; }}  /* {f} */\n',
]

CJK = [(0x4E00, 0x9FFF), (0x3040, 0x309F), (0x30A0, 0x30FF), (0xAC00, 0xD7A3)]
ARABIC = "مرحبا بالعالم هذا نص عربي للاختبار مع أرقام ١٢٣ و ٤٥٦ والكلمات المتعددة"
EMOJI = ["😀", "🦙", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇫🇷", "🧑🏻‍💻", "✨", "🙈", "👩‍🔬", "🤖"]
ODD = ["\ufffd", "\u0301e", "e\u0301", "\u200b", "\u200d", "\ufeff", "\u00a0", "\u2028", "\u0085", "\u3000", "\ue000",
       "\U0010FFFD", "\uFFFE", "\x7f", "\x01\x02", "\u202e", "\u0000", "Ǆ", "ﬁ", "①②", "½", "Ⅻ", "𝔘𝔫𝔦", "İ", "ß", "Σς"]
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>"]


def prose(r, n):
    out = []
    for _ in range(n):
        w = r.choice(WORDS)
        if r.random() < 0.08:
            w = w.capitalize()
        out.append(w)
        if r.random() < 0.1:
            out[-1] += r.choice([",", ".", ";", ":", "!", "?", "'s", ")", '"'])
    return " ".join(out)


def piece(r):
    k = r.random()
    if k < 0.35:
        return prose(r, r.randint(5, 80))
    if k < 0.55:
        return r.choice(CODE).format(f=r.choice(["foo", "bar_baz", "Compute", "x1", "parse_json", "main"]))
    if k < 0.63:
        lo, hi = r.choice(CJK)
        return "".join(chr(r.randint(lo, hi)) for _ in range(r.randint(3, 40)))
    if k < 0.68:
        return ARABIC[r.randint(0, 10):]
    if k < 0.74:
        return "".join(r.choice(EMOJI + [" ", "x"]) for _ in range(r.randint(1, 12)))
    if k < 0.80:
        return "".join(r.choice([" ", "  ", "\t", "\n", "\r\n", "\n\n", "   \t", " \n "]) for _ in range(r.randint(1, 8)))
    if k < 0.86:
        return " ".join(str(r.randint(0, 10 ** r.randint(1, 12))) for _ in range(r.randint(1, 6))) + r.choice(["", "3.14159", "1,000,000", "0x1F"])
    if k < 0.92:
        return "".join(r.choice(ODD) for _ in range(r.randint(1, 6)))
    return r.choice(SPECIAL)


def corpus(out, kb):
    r = random.Random(1234)
    total = 0
    with open(out, "w", encoding="utf-8") as f:
        while total < kb * 1024:
            text = "".join(piece(r) + r.choice(["", " ", "\n", ""]) for _ in range(r.randint(1, 30)))
            line = json.dumps({"text": text}, ensure_ascii=False)
            f.write(line + "\n")
            total += len(text.encode("utf-8"))


def texts(path):
    return [json.loads(line)["text"] for line in open(path, encoding="utf-8")]


_TRAINED = {}


def _trained(family, data):
    """One training per family per process (the kinds of a family share the model)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    if family not in _TRAINED:
        if family == "bytelevel":
            tok = Tokenizer(models.BPE())
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            tr = trainers.BpeTrainer(vocab_size=3000, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                     initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        else:
            tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
            tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
            tr = trainers.BpeTrainer(vocab_size=3000, special_tokens=["<unk>", "<s>", "</s>"], limit_alphabet=150,
                                     show_progress=False)
        tok.train_from_iterator(data, tr)
        _TRAINED[family] = tok.to_str()
    return Tokenizer.from_str(_TRAINED[family])


def build(kind, corpus_path, out_dir):
    import os
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers, Regex
    data = texts(corpus_path)[:1500]
    if kind in ("bytelevel", "llama3", "normalized"):
        tok = _trained("bytelevel", data)
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        if kind == "llama3":
            rx = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                  r"\s*[\r\n]+|\s+(?!\S)|\s+")
            tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(rx), "isolated"),
                                                         pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
            tok.add_special_tokens(["<|begin_of_text|>"])
            bos = tok.token_to_id("<|begin_of_text|>")
            tok.post_processor = processors.TemplateProcessing(single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", bos)])
        j = json.loads(tok.to_str())
        if kind == "llama3":
            j["model"]["ignore_merges"] = True
        if kind == "normalized":   # every normalizer kind on top of the byte-level model
            j["normalizer"] = {"type": "Sequence", "normalizers": [
                {"type": "NFKC"}, {"type": "Lowercase"}, {"type": "NFD"}, {"type": "NFC"},
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
                {"type": "Replace", "pattern": {"String": "\t"}, "content": "    "},
                {"type": "Strip", "strip_left": False, "strip_right": True}]}
    else:
        j = json.loads(_trained("spm", data).to_str())
        vocab = j["model"]["vocab"]
        n = max(vocab.values()) + 1
        for b in range(256):   # byte-fallback pieces, as SentencePiece vocabularies carry them
            name = "<0x%02X>" % b
            if name not in vocab:
                vocab[name] = n
                n += 1
        j["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
        if kind == "spm":   # Llama 2 legacy layout: normalizer does the work, no pre-tokenizer
            j["normalizer"] = {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
            j["pre_tokenizer"] = None
        else:               # newer conversions: Metaspace with prepend_scheme "first", no split
            j["normalizer"] = None
            j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
            j["decoder"] = {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
        j["post_processor"] = {"type": "TemplateProcessing",
                               "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                               "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                               "special_tokens": {"<s>": {"id": "<s>", "ids": [vocab["<s>"]], "tokens": ["<s>"]}}}
    os.makedirs(out_dir, exist_ok=True)
    s = json.dumps(j, ensure_ascii=False)
    Tokenizer.from_str(s)   # must load in HF
    open(f"{out_dir}/tokenizer.json", "w", encoding="utf-8").write(s)


def bl(**kw):
    return dict({"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}, **kw)


def split(rx, behavior="Isolated"):
    return {"type": "Split", "pattern": {"Regex": rx}, "behavior": behavior, "invert": False}


# DeepSeek LLM's letter class (cased letters), as code points: several of them (U+1F7D, U+1FBE,
# U+1FD3, U+1FDB, U+2126, U+212A) change under NFC, so they are never written as characters here.
DS_LETTERS = (
    "A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-"
    "\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-"
    "\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf"
    "\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-"
    "\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc"
    "\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115"
    "\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e"
    "\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-"
    "\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a"
    "\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-"
    "\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943")
CJK_HANGUL = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"

PRETOK_VARIANTS = {   # pre-tokenizer layouts run over the same byte-level model
    "merged-next": [{"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithNext", "invert": False}, bl()],
    "merged-prev": [{"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "MergedWithPrevious", "invert": False}, bl()],
    "contiguous": [{"type": "Punctuation", "behavior": "Contiguous"}, {"type": "Digits", "individual_digits": False}, bl()],
    "removed-invert": [{"type": "Split", "pattern": {"Regex": "[\\p{L}\\p{N} ]+"}, "behavior": "Removed", "invert": True}, bl()],
    "whitespace": [{"type": "Whitespace"}, bl()],
    "wsplit": [{"type": "WhitespaceSplit"}, bl()],
    "prefix-digits": [{"type": "Digits", "individual_digits": True},
                      {"type": "Split", "pattern": {"Regex": "[\\r\\n]"}, "behavior": "Isolated", "invert": False},
                      bl(add_prefix_space=True, use_regex=True)],
    # the layouts of real models' tokenizer.json files
    "deepseek-llm": [split("[\r\n]"), split("\\s?[" + DS_LETTERS + "]+"),
                     split("\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+"),
                     split("\\s+$"), split(CJK_HANGUL), {"type": "Digits", "individual_digits": False}, bl()],
    "deepseek-coder": [split("[\r\n]"), split("\\s?\\p{L}+"), split("\\s?\\p{P}+"), split(CJK_HANGUL),
                       {"type": "Digits", "individual_digits": True}, bl()],
    "falcon": [{"type": "Punctuation", "behavior": "Contiguous"}, bl(add_prefix_space=False, use_regex=True),
               {"type": "Digits", "individual_digits": False}, split("[0-9][0-9][0-9]")],
    "command-r": [{"type": "Digits", "individual_digits": True}, bl(use_regex=True)],
}


def derive(src_dir, variant, out_dir):
    import os
    from tokenizers import Tokenizer
    j = json.load(open(f"{src_dir}/tokenizer.json", encoding="utf-8"))
    if variant == "added-flags":   # added tokens with lstrip / rstrip / single_word, new ids in order
        n = max(j["model"]["vocab"].values()) + 1
        for a in j["added_tokens"]:
            a["lstrip"] = a["content"] == "<|im_start|>"
            a["rstrip"] = a["content"] == "<|im_end|>"
        extra = [("naïve", True, True, True), ("😀", True, False, False), ("Zürich", True, False, False),
                 ("used take", False, True, False), ("\u3000", False, False, False), ("résumé", False, False, False)]
        for k, (c, sw, ls, rs) in enumerate(extra):
            j["added_tokens"].append({"id": n + k, "content": c, "single_word": sw, "lstrip": ls, "rstrip": rs,
                                      "normalized": k == 5, "special": False})
    elif variant == "gemma":   # Gemma: SentencePiece-style BPE, spaces replaced, no prefix, no pre-tokenizer
        j["normalizer"] = {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}
        j["pre_tokenizer"] = None
        j["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}]}
    else:
        j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": PRETOK_VARIANTS[variant]}
    os.makedirs(out_dir, exist_ok=True)
    s = json.dumps(j, ensure_ascii=False)
    Tokenizer.from_str(s)
    open(f"{out_dir}/tokenizer.json", "w", encoding="utf-8").write(s)


QWEN2_RX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
            r"\s*[\r\n]+|\s+(?!\S)|\s+")


def qwen2_json(src_dir, out_dir):
    """Qwen2's layout (NFC, its Split regex, ByteLevel without regex) over SRC's byte-level model."""
    import os
    from tokenizers import Tokenizer
    j = json.load(open(f"{src_dir}/tokenizer.json", encoding="utf-8"))
    j["normalizer"] = {"type": "NFC"}
    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": QWEN2_RX}, "behavior": "Isolated", "invert": False},
        bl()]}
    os.makedirs(out_dir, exist_ok=True)
    s = json.dumps(j, ensure_ascii=False)
    Tokenizer.from_str(s)
    open(f"{out_dir}/tokenizer.json", "w", encoding="utf-8").write(s)


def to_gguf(tok_json, pre, out):
    """A gpt2-model GGUF vocabulary (tokens, types, merges, tokenizer.ggml.pre) of a byte-level
    tokenizer.json, written with the `gguf` package."""
    from gguf import GGUFWriter
    j = json.load(open(tok_json, encoding="utf-8"))
    vocab = dict(j["model"]["vocab"])
    for a in j["added_tokens"]:
        vocab[a["content"]] = a["id"]
    n = max(vocab.values()) + 1
    toks = ["[PAD%d]" % i for i in range(n)]
    for t, i in vocab.items():
        toks[i] = t
    special = {a["id"] for a in j["added_tokens"] if a.get("special")}
    types = [3 if i in special else 1 for i in range(n)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in j["model"]["merges"]]
    w = GGUFWriter(out, "llama")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(toks)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def from_gguf(path, out_dir):
    import os
    import numpy as np
    from gguf import GGUFReader
    from tokenizers import Tokenizer
    r = GGUFReader(path)

    def strs(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    def scalar(key):
        f = r.fields[key]
        return f.parts[f.data[0]].tolist()[0]

    toks, merges = strs("tokenizer.ggml.tokens"), strs("tokenizer.ggml.merges")
    types = [int(np.asarray(r.fields["tokenizer.ggml.token_type"].parts[i])[0]) for i in r.fields["tokenizer.ggml.token_type"].data]
    pre = bytes(r.fields["tokenizer.ggml.pre"].parts[r.fields["tokenizer.ggml.pre"].data[0]]).decode()
    assert pre in ("smollm", "starcoder"), pre
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, t in enumerate(toks) if types[i] == 3]
    j = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Digits", "individual_digits": True},
             {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
         "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
         "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
         "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                   "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                   "vocab": {t: i for i, t in enumerate(toks)}, "merges": merges}}
    os.makedirs(out_dir, exist_ok=True)
    s = json.dumps(j, ensure_ascii=False)
    Tokenizer.from_str(s)
    open(f"{out_dir}/tokenizer.json", "w", encoding="utf-8").write(s)
    print(f"bos {scalar('tokenizer.ggml.bos_token_id')} eos {scalar('tokenizer.ggml.eos_token_id')}", file=sys.stderr)


def encode(tok_path, inp, out):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tok_path)
    data = texts(inp)
    encs = tok.encode_batch(data, add_special_tokens=False)
    with open(out, "w") as f:
        for e in encs:
            f.write(json.dumps({"input_ids": e.ids}) + "\n")


def compare(want, got, inp=None):
    w = [json.loads(line)["input_ids"] for line in open(want)]
    g = [json.loads(line)["input_ids"] for line in open(got)]
    if len(w) != len(g):
        print(f"{len(g)} records, expected {len(w)}", file=sys.stderr)
        return 1
    bad = [i for i in range(len(w)) if w[i] != g[i]]
    ntok = sum(len(x) for x in w)
    for i in bad[:3]:
        k = next(k for k in range(min(len(w[i]), len(g[i])) + 1) if k >= min(len(w[i]), len(g[i])) or w[i][k] != g[i][k])
        print(f"record {i + 1}: first difference at token {k}: want {w[i][max(0, k - 3):k + 5]} got {g[i][max(0, k - 3):k + 5]}",
              file=sys.stderr)
        if inp:
            print("  text: " + repr(texts(inp)[i][:300]), file=sys.stderr)
    print(f"{len(w) - len(bad)}/{len(w)} records identical ({ntok} tokens)", file=sys.stderr)
    return 1 if bad else 0


def roundtrip(inp, dec, spm=False):
    """decode(encode(x)) == x. A SentencePiece-style tokenizer is lossless only on texts without
    special tokens (HF prepends "▁" after each) and not starting with a space (the decoder
    strips one): those are left out for it."""
    a, b = texts(inp), texts(dec)
    if len(a) != len(b):
        return 1
    keep = [i for i in range(len(a)) if not spm or (not a[i].startswith(" ") and not any(s in a[i] for s in SPECIAL))]
    print(f"{len(keep)} records checked", file=sys.stderr)
    bad = [i for i in keep if a[i] != b[i]]
    for i in bad[:3]:
        print(f"record {i + 1}: decode(encode(x)) != x\n  x   = {a[i][:200]!r}\n  got = {b[i][:200]!r}", file=sys.stderr)
    return 1 if bad or len(a) != len(b) else 0


def decode_compare(tok_path, ids_path, dec):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tok_path)
    ids = [json.loads(line)["input_ids"] for line in open(ids_path)]
    want = tok.decode_batch(ids, skip_special_tokens=False)
    got = texts(dec)
    bad = [i for i in range(len(want)) if want[i] != got[i]]
    for i in bad[:3]:
        print(f"record {i + 1}: ft decode != HF decode\n  HF = {want[i][:200]!r}\n  ft = {got[i][:200]!r}", file=sys.stderr)
    return 1 if bad else 0


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "corpus":
        corpus(a[0], int(a[1]) if len(a) > 1 else 1100)
    elif cmd == "build":
        build(a[0], a[1], a[2])
    elif cmd == "build-all":   # every KIND into ./KIND/, one training per family
        for k in a[1:]:
            build(k, a[0], k)
    elif cmd == "derive":
        derive(a[0], a[1], a[2])
    elif cmd == "variants":
        print(" ".join(list(PRETOK_VARIANTS) + ["added-flags"]))
    elif cmd == "qwen2-json":
        qwen2_json(a[0], a[1])
    elif cmd == "to-gguf":
        to_gguf(a[0], a[1], a[2])
    elif cmd == "from-gguf":
        from_gguf(a[0], a[1])
    elif cmd == "encode":
        encode(a[0], a[1], a[2])
    elif cmd == "compare":
        return compare(a[0], a[1], a[2] if len(a) > 2 else None)
    elif cmd == "roundtrip":
        return roundtrip(a[0], a[1], len(a) > 2 and a[2] == "spm")
    elif cmd == "decode-compare":
        return decode_compare(a[0], a[1], a[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
