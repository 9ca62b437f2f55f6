#!/usr/bin/env python3
"""interop.py — `make test-hf`: ft against torch + transformers + PEFT (CPU), both ways.

Run from a scratch directory with ft's bin/ on PATH and FT_ROOT set (tests/hf/run.sh does it).
Each check prints `PASS name: max rel diff X` or `FAIL name: why` (`REFUSED` where ft refuses a
field by design and says so); the exit status is the number of FAILs (0: all passed).

  1  PEFT adapter with alpha_pattern -> ft-eval --adapter, ft-merge (hf, gguf) == PEFT's logits
  2  rank_pattern, layers_to_transform, lora_bias, modules_to_save (lm_head and every norm), the
     same; ft-train adapters with --lora-rank-pattern/--lora-alpha-pattern/--lora-layers/
     --lora-bias loaded by PEFT == ft-eval's logits
  3  ft-merge --dtype bf16 (GGUF base, and HF base saying "dtype": "float32") loads as bfloat16
  4  AutoPeftModelForCausalLM opens ft adapters (HF base; GGUF base with --base-name)
  5  the real model: an HF dir merged from the GGUF in bf16 loads in transformers with its
     tokenizer, chat template and generation config, and greedy decoding gives ft-eval's tokens
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
import warnings

warnings.filterwarnings("ignore")

torch.set_num_threads(2)
ROOT = os.environ["FT_ROOT"]
PY = sys.executable
TOL = 1e-4
fails = []


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(args)} exited {r.returncode}: {r.stderr.strip()[-600:]}")
    return r


def report(name, ok, detail):
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
    if not ok:
        fails.append(name)


def rel(a, b):
    return float(np.abs(a - b).max() / max(1e-30, np.abs(b).max()))


def compare(name, got, want, tol=TOL):
    d = rel(np.asarray(got, np.float64), np.asarray(want, np.float64))
    report(name, d <= tol, f"max rel diff {d:.2e} (max abs {np.abs(np.asarray(got) - np.asarray(want)).max():.2e}, tol {tol:g})")


SEQS = [[5, 17, 99, 200, 3, 4, 250, 251, 10], [7, 8, 9, 10, 11, 12]]


def ft_logits(model, adapter=None):
    args = ["ft-eval", "--model", model] + (["--adapter", adapter] if adapter else []) + \
           ["ppl", "--dump-logits", "lg.f32", "d.tok"]
    sh(*args)
    a = np.fromfile("lg.f32", dtype="<f4")
    out, o = [], 0
    for s in SEQS:
        out.append(a[o:o + len(s) * 300].reshape(len(s), 300))
        o += len(s) * 300
    return out


def torch_logits(model):
    with torch.no_grad():
        return [model(torch.tensor([s])).logits[0].double().numpy() for s in SEQS]


def check_logits(name, got, want):
    compare(name, np.concatenate(got), np.concatenate(want))


def load_hf(d, **kw):
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, **kw).eval()


def peft_adapter(base_dir, out, seed, **cfg):
    """A PEFT adapter made by PEFT itself, every LoRA tensor random (non-zero)."""
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(seed)
    pm = get_peft_model(load_hf(base_dir), LoraConfig(task_type="CAUSAL_LM", init_lora_weights=False, **cfg))
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_" in n:
                p.normal_(0, 0.3)
            elif "modules_to_save" in n:   # the full copies, moved away from the base
                p.add_(torch.randn_like(p) * 0.3)
    pm.save_pretrained(out)
    return torch_logits(pm.eval())


def ft_side(tag, base, base_gguf, ad, want, merge=True):
    """ft-eval --adapter, ft-merge hf (ft-eval and transformers), ft-merge gguf against want."""
    try:
        check_logits(f"{tag}: ft-eval --adapter (PEFT adapter) vs PEFT", ft_logits(base, ad), want)
        if not merge:
            return
        sh("ft-merge", "--model", base, "--adapter", ad, "--dtype", "f32", "-o", f"{ad}-m", "-q")
        check_logits(f"{tag}: ft-merge hf, loaded by transformers, vs PEFT", torch_logits(load_hf(f"{ad}-m")), want)
        if base_gguf:
            sh("ft-merge", "--model", base_gguf, "--adapter", ad, "--dtype", "f32", "-o", f"{ad}-m.gguf", "-q")
            check_logits(f"{tag}: ft-merge gguf, run by ft-eval, vs PEFT", ft_logits(f"{ad}-m.gguf"), want)
    except Exception as e:  # noqa: BLE001
        report(tag, False, str(e))


def main():
    tiny = lambda *a: sh(PY, f"{ROOT}/tests/tools/make_tiny_model.py", *a)
    tiny("--hf", "base", "--gguf", "base.gguf", "--hidden", "32", "--intermediate", "64", "--layers", "3", "--heads",
         "4", "--kv-heads", "2", "--vocab", "300", "--seed", "7")
    tiny("--hf", "qb", "--arch", "qwen2", "--hidden", "32", "--intermediate", "64", "--layers", "2", "--heads", "4",
         "--kv-heads", "2", "--vocab", "300", "--seed", "8")
    sh(PY, f"{ROOT}/tests/parity/model_ref.py", "write-ftok", "d.tok", json.dumps(SEQS))
    sh(PY, f"{ROOT}/tests/cli/train-data.py", "train.tok", "1", "16")
    ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    base_logits = torch_logits(load_hf("base"))
    check_logits("0: base model, ft-eval vs transformers", ft_logits("base"), base_logits)

    # 1. alpha_pattern
    want = peft_adapter("base", "p-alpha", 1, r=4, lora_alpha=8, target_modules=ALL, alpha_pattern={"down_proj": 64})
    ft_side("1 alpha_pattern", "base", "base.gguf", "p-alpha", want)
    # 2. rank_pattern, layers_to_transform, lora_bias, modules_to_save
    want = peft_adapter("base", "p-rank", 2, r=4, lora_alpha=8, target_modules=ALL,
                        rank_pattern={"v_proj": 2, "model.layers.1.mlp.down_proj": 6}, alpha_pattern={"q_proj": 3})
    ft_side("2a rank_pattern", "base", "base.gguf", "p-rank", want)
    want = peft_adapter("base", "p-layers", 3, r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"],
                        layers_to_transform=[0, 2], layers_pattern="layers", exclude_modules=["model.layers.2.self_attn.v_proj"])
    ft_side("2b layers_to_transform", "base", "base.gguf", "p-layers", want)
    want = peft_adapter("qb", "p-bias", 4, r=2, lora_alpha=4, target_modules=["q_proj", "k_proj", "v_proj"], lora_bias=True)
    ft_side("2c lora_bias", "qb", None, "p-bias", want)
    want = peft_adapter("base", "p-save", 5, r=2, lora_alpha=4, target_modules=["q_proj"], modules_to_save=["lm_head", "norm"])
    ft_side("2d modules_to_save", "base", "base.gguf", "p-save", want)

    # ft-trained adapters with the per-module options, loaded by PEFT
    from peft import PeftModel
    for tag, base, extra in [
        ("2e ft-train --lora-rank-pattern/--lora-alpha-pattern/--lora-layers", "base",
         ["--lora-targets", "all-linear", "--lora-rank-pattern", "down_proj=2,model.layers.2.self_attn.q_proj=6",
          "--lora-alpha-pattern", "v_proj=20", "--lora-layers", "0,2"]),
        ("2f ft-train --lora-bias", "qb", ["--lora-targets", "q,k,v", "--lora-bias"]),
    ]:
        out = f"t-{tag[:2]}"
        try:
            sh("ft-train", "--model", base, "--data", "train.tok", "-o", out, "--seq-len", "32", "--batch", "4",
               "--max-steps", "3", "--lr", "1e-2", *extra)
            pm = PeftModel.from_pretrained(load_hf(base), out).eval()
            check_logits(f"{tag}: PEFT loads ft's adapter, vs ft-eval --adapter", torch_logits(pm), ft_logits(base, out))
        except Exception as e:  # noqa: BLE001
            report(tag, False, str(e))

    # 3. dtype
    from transformers import AutoModelForCausalLM
    sh("ft-merge", "--model", "base.gguf", "--adapter", "p-alpha", "--dtype", "bf16", "-o", "bf-gguf", "-q")
    m = AutoModelForCausalLM.from_pretrained("bf-gguf")
    report("3a ft-merge --dtype bf16 from the GGUF base loads as bfloat16", m.dtype == torch.bfloat16, str(m.dtype))
    c = json.load(open("base/config.json"))
    c["dtype"] = c["torch_dtype"] = "float32"
    json.dump(c, open("base/config.json", "w"))
    sh("ft-merge", "--model", "base", "--adapter", "p-alpha", "--dtype", "bf16", "-o", "bf-hf", "-q")
    m = AutoModelForCausalLM.from_pretrained("bf-hf")
    report("3b ft-merge --dtype bf16 from an HF base (\"dtype\": \"float32\") loads as bfloat16", m.dtype == torch.bfloat16,
           str(m.dtype))

    # 4. AutoPeftModelForCausalLM
    from peft import AutoPeftModelForCausalLM
    try:
        sh("ft-train", "--model", "base", "--data", "train.tok", "-o", "t-auto", "--seq-len", "32", "--batch", "4",
           "--max-steps", "2", "--lr", "1e-2")
        pm = AutoPeftModelForCausalLM.from_pretrained("t-auto", dtype=torch.float32).eval()
        check_logits("4a AutoPeftModelForCausalLM opens an ft adapter (HF base)", torch_logits(pm), ft_logits("base", "t-auto"))
        sh("ft-train", "--model", "base.gguf", "--data", "train.tok", "-o", "t-auto-g", "--seq-len", "32", "--batch", "4",
           "--max-steps", "2", "--lr", "1e-2", "--base-name", os.path.abspath("base"))
        pm = AutoPeftModelForCausalLM.from_pretrained("t-auto-g", dtype=torch.float32).eval()
        check_logits("4b AutoPeftModelForCausalLM opens an ft adapter (GGUF base, --base-name)", torch_logits(pm),
                     ft_logits("base.gguf", "t-auto-g"))
    except Exception as e:  # noqa: BLE001
        report("4 AutoPeftModelForCausalLM", False, str(e))

    # 5. the real model
    gg = subprocess.run([f"{ROOT}/scripts/model.sh", "path"], capture_output=True, text=True).stdout.strip()
    if not gg or not os.path.exists(gg):
        print("SKIP 5: the SmolLM2 GGUF is not cached (make model)")
    else:
        real(gg)
    print(f"{'all checks passed' if not fails else f'{len(fails)} failed: ' + ', '.join(fails)}")
    return len(fails)


def real(gg):
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig
    from safetensors.numpy import save_file
    os.makedirs("z", exist_ok=True)
    rng = np.random.default_rng(0)
    save_file({"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": (rng.standard_normal((2, 576)) * 0.01).astype(np.float32),
               "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": (rng.standard_normal((576, 2)) * 0.01).astype(np.float32)},
              "z/adapter_model.safetensors")
    json.dump({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"]}, open("z/adapter_config.json", "w"))
    sh("ft-merge", "--model", gg, "--adapter", "z", "--dtype", "bf16", "-o", "sm", "-q")
    m = AutoModelForCausalLM.from_pretrained("sm").eval()
    report("5a merged SmolLM2 (GGUF base, bf16) loads in transformers as bfloat16", m.dtype == torch.bfloat16, str(m.dtype))
    tok = AutoTokenizer.from_pretrained("sm")
    gen = GenerationConfig.from_pretrained("sm")
    msgs = [[{"role": "user", "content": "What is the capital of France?"}],
            [{"role": "user", "content": "Write a haiku about the sea."}]]
    text = tok.apply_chat_template(msgs[0], tokenize=False, add_generation_prompt=True)
    report("5b tokenizer and chat template load from the dir", text.startswith("<|im_start|>") and text.endswith("assistant\n"),
           repr(text[-60:]))
    report("5c generation_config.json has the EOS id", gen.eos_token_id == tok.eos_token_id == 2,
           f"eos {gen.eos_token_id}, tokenizer eos {tok.eos_token_id}, pad {gen.pad_token_id}")
    with open("p.jsonl", "w") as f:
        for ms in msgs:
            f.write(json.dumps({"messages": ms}) + "\n")
    r = sh("ft-eval", "--model", "sm", "generate", "--max-new-tokens", "24", "p.jsonl")
    ft_out = [json.loads(l)["output"] for l in r.stdout.splitlines()]
    m32 = AutoModelForCausalLM.from_pretrained("sm", dtype=torch.float32).eval()   # the bf16 weights, f32 arithmetic (as ft)
    res = {"float32": 0, "bfloat16": 0}
    for ms, fo in zip(msgs, ft_out):
        ids = tok.apply_chat_template(ms, add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
        print(f"  ft-eval:               {fo!r}")
        for name, mod in (("float32", m32), ("bfloat16", m)):
            with torch.no_grad():
                g = mod.generate(ids, max_new_tokens=24, do_sample=False, eos_token_id=gen.eos_token_id,
                                 pad_token_id=gen.pad_token_id)
            new = [t for t in g[0, ids.shape[1]:].tolist() if t != gen.eos_token_id]
            hf_text = tok.decode(new, skip_special_tokens=True)
            res[name] += hf_text == fo
            print(f"  transformers {name:8s}: {hf_text!r}")
    report("5d greedy generation: transformers on the bf16 dir (f32 compute, as ft) == ft-eval --model dir",
           res["float32"] == len(msgs), f"{res['float32']}/{len(msgs)} prompts give the same tokens")
    print(f"INFO 5e transformers computing in bfloat16 on the same dir: {res['bfloat16']}/{len(msgs)} prompts give "
          "ft's tokens (bf16 arithmetic rounds differently from ft's f32: greedy paths may part)")

if __name__ == "__main__":
    sys.exit(main())
