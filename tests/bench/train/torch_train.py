# torch_train.py — the PyTorch + PEFT peer of tests/bench/train/run.sh: the same job as ft-train's
# (rows x seq tokens per step of random ids, AdamW, LoRA r16 alpha32 on all linears or full
# fine-tuning) on the same model (the GGUF ft reads, dequantized by transformers), f32 or bf16
# autocast, and prints the mean tokens/s of the steps after the first (warm-up).
#   python torch_train.py MODEL.gguf lora|full f32|bf16 STEPS THREADS ROWS SEQ
import os, sys, time

import torch
from transformers import AutoModelForCausalLM

path, method, prec, steps, threads, rows, seq = sys.argv[1:8]
steps, threads, rows, seq = int(steps), int(threads), int(rows), int(seq)
torch.set_num_threads(threads)
torch.manual_seed(0)
model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                             torch_dtype=torch.float32)
if method == "lora":
    from peft import LoraConfig, get_peft_model
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, task_type="CAUSAL_LM",
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                             "up_proj", "down_proj"]))
model.train()
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
V = model.config.vocab_size
g = torch.Generator().manual_seed(1)
rates = []
for s in range(steps):
    ids = torch.randint(3, V, (rows, seq), generator=g)
    t0 = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=prec == "bf16"):
        loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    rates.append(rows * seq / (time.perf_counter() - t0))
r = rates[1:] or rates
print("%.1f" % (sum(r) / len(r)))
