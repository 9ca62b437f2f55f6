#!/usr/bin/env python3
"""tokenize_suite.py — llama.cpp vocab test suites (../shared/testdata/tokenizer/*.inp/.out).

  tokenize_suite.py inp FILE.inp > cases.jsonl      one {"text": case} line per case
  tokenize_suite.py check FILE.out ids.jsonl        compare input_ids with the .out lines
"""
import json
import sys

SEP = "\n__ggml_vocab_test__\n"


def cases(path):
    text = open(path, encoding="utf-8").read()
    parts = text.split(SEP)
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def main():
    if sys.argv[1] == "inp":
        for c in cases(sys.argv[2]):
            print(json.dumps({"text": c}, ensure_ascii=False))
        return 0
    want = [[int(x) for x in line.split()] for line in open(sys.argv[2], encoding="utf-8").read().split("\n")]
    if want and want[-1] == [] and len(want) > 1:
        want.pop()
    got = [json.loads(line)["input_ids"] for line in open(sys.argv[3], encoding="utf-8")]
    bad = 0
    if len(got) != len(want):
        print(f"{len(got)} results for {len(want)} cases", file=sys.stderr)
        return 1
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            bad += 1
            print(f"case {i}: got {g}\n         want {w}", file=sys.stderr)
    print(f"{len(want) - bad}/{len(want)} cases match")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
