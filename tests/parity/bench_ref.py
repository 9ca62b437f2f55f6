#!/usr/bin/env python3
"""bench_ref.py — an independent reference of lm-evaluation-harness's scoring of the `ft-eval
bench` tasks, in Python from lm-eval's sources (lm_eval/api/task.py ConfigurableTask,
lm_eval/api/model.py TemplateLM, the task YAMLs and utils.py): the YAML's doc_to_text /
doc_to_choice / doc_to_target strings rendered by jinja2 as lm_eval.utils.apply_template does
(StrictUndefined, keep_trailing_newline) and read back the way the harness reads them
(feature name, ast.literal_eval, isdigit), HellaSwag's process_docs and WinoGrande's
functions, the fewshot_context of MMLU (description, first_n from dev, target delimiter " ",
fewshot delimiter "\\n\\n"), construct_requests (multiple input), process_results (acc,
acc_norm = lls / len(choice), acc_bytes), _encode_pair with HF `tokenizers`, and the
log-likelihoods from the NumPy float64 forward of model_ref.py.

  bench_ref.py requests DATA_DIR DUMP.jsonl TASKS K LIMIT
      ft-eval bench --dump-requests output vs the reference's requests (exact strings)
  bench_ref.py scores MODEL TOKENIZER_JSON DATA_DIR OUT_DIR TASKS K LIMIT
      per-record log-likelihoods (1e-3), predictions and acc/acc_norm/acc_bytes of
      ft-eval bench --out-dir OUT_DIR against the reference's
Exit 1 with the first mismatches printed.
"""
import ast
import json
import os
import re
import sys

import jinja2

ENV = jinja2.Environment(loader=jinja2.BaseLoader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def apply_template(t, doc):
    return ENV.from_string(t).render(**doc)


# ---- the tasks' own code (lm_eval/tasks/hellaswag/utils.py, winogrande/preprocess_winogrande.py)
def hs_preprocess(text):
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    text = text.replace("  ", " ")
    return text


def hs_process(doc):
    ctx = doc["ctx_a"] + " " + doc["ctx_b"].capitalize()
    return {**doc, "query": hs_preprocess(doc["activity_label"] + ": " + ctx),
            "choices": [hs_preprocess(e) for e in doc["endings"]], "gold": int(doc["label"])}


def wg_text(doc):
    return {"1": 0, "2": 1}[doc["answer"]]


def wg_target(doc):
    idx = doc["sentence"].index("_") + 1
    return doc["sentence"][idx:].strip()


def wg_choice(doc):
    idx = doc["sentence"].index("_")
    return [doc["sentence"][:idx] + opt for opt in [doc["option1"], doc["option2"]]]


def boolq_process(doc):
    # the data is google/boolq (answer: bool); lm-eval's super_glue/boolq has label = int(answer)
    return doc if "label" in doc else {**doc, "label": int(doc["answer"])}


ARC = dict(text="Question: {{question}}\nAnswer:", target="{{choices.label.index(answerKey)}}", choice="{{choices.text}}")
TASKS = {
    "arc_easy": ARC, "arc_challenge": ARC,
    "hellaswag": dict(process=hs_process, text="{{query}}", target="{{label}}", choice="choices"),
    "piqa": dict(text="Question: {{goal}}\nAnswer:", target="label", choice="{{[sol1, sol2]}}"),
    "winogrande": dict(text=wg_text, target=wg_target, choice=wg_choice),
    "boolq": dict(process=boolq_process, text="{{passage}}\nQuestion: {{question}}?\nAnswer:", target="label",
                  choice=["no", "yes"]),
    "sciq": dict(text="{{support.lstrip()}}\nQuestion: {{question}}\nAnswer:", target=3,
                 choice="{{[distractor1, distractor2, distractor3, correct_answer]}}"),
    "openbookqa": dict(text="question_stem", target="{{choices.label.index(answerKey.lstrip())}}", choice="{{choices.text}}"),
    "mmlu": dict(text="{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:",
                 target="answer", choice=["A", "B", "C", "D"], fewshot="mmlu_dev.jsonl"),
}


# ---- ConfigurableTask's doc_to_* ----------------------------------------------------------
def doc_to_text(cfg, doc):
    t = cfg["text"]
    if callable(t):
        return t(doc)
    if t in doc:
        return doc[t]
    s = apply_template(t, doc)
    return ast.literal_eval(s) if s.isdigit() else s


def doc_to_target(cfg, doc):
    t = cfg["target"]
    if isinstance(t, int):
        return t
    if callable(t):
        return t(doc)
    if t in doc:
        return doc[t]
    s = apply_template(t, doc)
    return ast.literal_eval(s) if s.isdigit() else s


def doc_to_choice(cfg, doc):
    c = cfg["choice"]
    if isinstance(c, list):
        return c
    if callable(c):
        return c(doc)
    if c in doc:
        return doc[c]
    return ast.literal_eval(apply_template(c, doc))


def requests(task, doc, shots, k):
    """(contexts, continuations, choices, gold) of one document, as construct_requests makes them."""
    cfg = TASKS[task]
    if "process" in cfg:
        doc = cfg["process"](doc)
    multiple_input = callable(cfg["text"])   # WinoGrande: doc_to_text returns an int
    prefix = ""
    if task == "mmlu":
        subject = doc["subject"]
        prefix = f"The following are multiple choice questions (with answers) about {' '.join(subject.split('_'))}.\n\n"
        fs = [d for d in shots if d["subject"] == subject][:k] if k else []   # first_n sampler
        if len(fs) < k:
            raise ValueError("not enough few-shot examples")
        for d in fs:
            prefix += doc_to_text(cfg, d) + " " + doc_to_choice(cfg, d)[doc_to_target(cfg, d)] + "\n\n"
    choices = doc_to_choice(cfg, doc)
    if multiple_input:
        cont = " " + doc_to_target(cfg, doc)
        ctxs = [prefix + c for c in choices]
        conts = [cont] * len(choices)
        gold = doc_to_text(cfg, doc)
    else:
        ctx = prefix + doc_to_text(cfg, doc)
        ctxs = [ctx] * len(choices)
        conts = [" " + c for c in choices]
        gold = doc_to_target(cfg, doc)
        if isinstance(gold, str):
            gold = choices.index(gold)
    return ctxs, conts, choices, gold


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f]


def task_docs(data, task, limit):
    name, subject = (("mmlu", task[5:]) if task.startswith("mmlu_") else (task, None))
    docs = load(os.path.join(data, name + ".jsonl"))
    if subject:
        docs = [d for d in docs if d["subject"] == subject]
    if limit >= 0:
        docs = docs[:limit]
    shots = load(os.path.join(data, TASKS[name]["fewshot"])) if "fewshot" in TASKS[name] else []
    return name, docs, shots


class Checker:
    def __init__(self):
        self.bad = 0

    def fail(self, what):
        self.bad += 1
        if self.bad <= 20:
            print("MISMATCH " + what, file=sys.stderr)

    def done(self, what):
        if self.bad:
            sys.exit(f"{what}: {self.bad} mismatches")


def check_requests(data, dump, tasks, k, limit):
    got = load(dump)
    chk = Checker()
    i = n = 0
    for task in tasks.split(","):
        name, docs, shots = task_docs(data, task, limit)
        for j, doc in enumerate(docs):
            ctxs, conts, choices, gold = requests(name, doc, shots, k)
            if i >= len(got):
                chk.fail(f"{task} record {j}: missing in the dump")
                continue
            g = got[i]
            i += 1
            want = dict(task=task, ctx=ctxs, cont=conts, gold=gold, chars=[len(c) for c in choices],
                        bytes=[len(c.encode("utf-8")) for c in choices])
            for key, v in want.items():
                if g.get(key) != v:
                    chk.fail(f"{task} record {j} {key}: ft {g.get(key)!r} reference {v!r}")
            n += 1
    if i != len(got):
        chk.fail(f"the dump has {len(got)} records, the reference {i}")
    chk.done("requests")
    print(f"requests: {n} documents of {tasks} identical to the reference ({k}-shot)")


def encode_pair(tok, context, continuation):
    """TemplateLM._encode_pair + loglikelihood's empty-context rule (HF tokenizers)."""
    enc = lambda s: tok.encode(s, add_special_tokens=True).ids
    if context == "":
        raise ValueError("empty context")
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole, cenc = enc(context + continuation), enc(context)
    return cenc, whole[len(cenc):]


def check_scores(model, tokjson, data, out, tasks, k, limit):
    import numpy as np
    from tokenizers import Tokenizer
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import model_ref
    c, w = model_ref.load(model)
    tok = Tokenizer.from_file(tokjson)
    chk = Checker()
    worst = 0.0
    for task in tasks.split(","):
        name, docs, shots = task_docs(data, task, limit)
        rep = json.load(open(os.path.join(out, task + ".json")))
        rows = load(os.path.join(out, task + ".records.jsonl"))
        if len(rows) != len(docs):
            chk.fail(f"{task}: {len(rows)} per-record rows, {len(docs)} documents")
            continue
        sums = dict(acc=0.0, acc_norm=0.0, acc_bytes=0.0)
        for j, doc in enumerate(docs):
            ctxs, conts, choices, gold = requests(name, doc, shots, k)
            lls = []
            for cx, ct in zip(ctxs, conts):
                cenc, cont = encode_pair(tok, cx, ct)
                logits = model_ref.forward(c, w, cenc + cont)
                lp = logits - logits.max(-1, keepdims=True)
                lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
                lls.append(float(sum(lp[len(cenc) - 1 + i, t] for i, t in enumerate(cont))))
            lls = np.array(lls)
            pred = int(np.argmax(lls))
            pred_norm = int(np.argmax(lls / np.array([float(len(x)) for x in choices])))
            pred_bytes = int(np.argmax(lls / np.array([float(len(x.encode("utf-8"))) for x in choices])))
            r = rows[j]
            for q, (a, b) in enumerate(zip(r["ll"], lls)):
                worst = max(worst, abs(a - b))
                if not abs(a - b) <= 1e-3:
                    chk.fail(f"{task} record {j} choice {q}: ft {a} reference {b}")
            for key, v in (("label", gold), ("pred", pred), ("pred_norm", pred_norm), ("pred_bytes", pred_bytes)):
                if r[key] != v:
                    chk.fail(f"{task} record {j} {key}: ft {r[key]} reference {v} (lls {list(lls)})")
            sums["acc"] += pred == gold
            sums["acc_norm"] += pred_norm == gold
            sums["acc_bytes"] += pred_bytes == gold
        for m, s in sums.items():
            if abs(rep[m] - s / len(docs)) > 1e-12:
                chk.fail(f"{task} {m}: ft {rep[m]} reference {s / len(docs)}")
        print(f"{task}: {len(docs)} records, acc {sums['acc'] / len(docs):.4f} acc_norm {sums['acc_norm'] / len(docs):.4f} "
              f"acc_bytes {sums['acc_bytes'] / len(docs):.4f} (reference)")
    chk.done("scores")
    print(f"scores: log-likelihoods within 1e-3 of the reference (max diff {worst:.2e}), predictions identical")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "requests":
        check_requests(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif cmd == "scores":
        check_scores(*sys.argv[2:7], int(sys.argv[7]), int(sys.argv[8]))
    else:
        sys.exit("unknown command " + cmd)
