# dpo.mk — preference tuning end to end, as a Makefile (re-running redoes only what is stale):
#
#   PAIRS ({"prompt","chosen","rejected"} JSONL) ─┬─ jq (prompt + chosen as a conversation) ─ ft-template
#                                                 │   ─ ft-tokenize ─ ft-train (SFT, LoRA) ─ ft-merge → sft.gguf
#                                                 └─ ft-template ─ ft-tokenize ─ ft-filter (shuffle) ─ ft-train
#   (--objective dpo on sft.gguf, LoRA: the reference is sft.gguf itself, the adapter switched off)
#   ─ ft-eval generate on HELDOUT's prompts with the SFT model and the DPO model ─ ft-eval score
#   (exact match with the chosen answer) ─ ft-eval compare (SFT vs DPO)
#
# Usage:  make -f pipelines/dpo.mk [MODEL=path/to/model.gguf PAIRS=... HELDOUT=... OUT=...]
# Variables (defaults below): MODEL (HF dir or .gguf; default: the cached SmolLM2-135M-Instruct),
# PAIRS, HELDOUT (preference pairs; held-out ones are DPO's --val: its eval lines carry the
# held-out reward accuracy and margin), OUT (work dir), FT (dir of the ft-* binaries), SFT_STEPS,
# DPO_STEPS, BATCH (pairs per micro-batch), SEQ_LEN, SFT_LR, DPO_LR, BETA, LOSS_TYPE, RANK,
# ALPHA, TARGETS, MAX_NEW (generation budget), MIN_GAIN (compare's gate, e.g. em=5).
# Outputs in OUT: sft.tok, pairs.tok/pairs-val.tok, sft/ (adapter) and sft.gguf, dpo/ (adapter on
# sft.gguf), sft.log.jsonl and dpo.log.jsonl (rewards/* per step, eval_rewards/* on HELDOUT),
# {sft,dpo}.{gen.jsonl,score.json}; the comparison table is printed at the end.

FT ?= bin/
MODEL ?= $(shell scripts/model.sh path)
PAIRS ?= examples/preference/train.jsonl
HELDOUT ?= examples/preference/heldout.jsonl
OUT ?= build/dpo
SFT_STEPS ?= 20
DPO_STEPS ?= 60
BATCH ?= 4
SEQ_LEN ?= 128
SFT_LR ?= 1e-3
DPO_LR ?= 5e-4
BETA ?= 0.1
LOSS_TYPE ?= sigmoid
RANK ?= 8
ALPHA ?= 16
TARGETS ?= all-linear
MAX_NEW ?= 32
SEED ?= 1
MIN_GAIN ?=
TRAIN_FLAGS ?=

ifeq ($(strip $(MODEL)),)
$(error MODEL is not set and no cached model was found: run 'make model' or pass MODEL=...)
endif

.PHONY: all report clean
.DELETE_ON_ERROR:
all: report

report: $(OUT)/sft.score.json $(OUT)/dpo.score.json
	@echo "== held-out pairs: DPO reward accuracy and margin (eval lines of $(OUT)/dpo.log.jsonl)"; \
	grep eval_loss $(OUT)/dpo.log.jsonl | jq -c '{step, eval_loss, acc: ."eval_rewards/accuracies", margin: ."eval_rewards/margins"}'; \
	echo "== held-out prompts: SFT vs DPO generations (exact match with the chosen answer)"; \
	$(FT)ft-eval compare $(if $(MIN_GAIN),--min-gain $(MIN_GAIN)) $(OUT)/sft.score.json $(OUT)/dpo.score.json

$(OUT):
	mkdir -p $@

# 1. SFT on the chosen answers
$(OUT)/sft.tok: $(PAIRS) | $(OUT)
	jq -c '{messages: [{role: "user", content: .prompt}, {role: "assistant", content: .chosen}]}' $< | \
	  $(FT)ft-template --model $(MODEL) | $(FT)ft-tokenize --tokenizer $(MODEL) -o $@
$(OUT)/sft/adapter_model.safetensors: $(OUT)/sft.tok
	rm -rf $(OUT)/sft
	$(FT)ft-train --model $(MODEL) --data $< --method lora --lora-r $(RANK) --lora-alpha $(ALPHA) \
	  --lora-targets $(TARGETS) --lr $(SFT_LR) --max-steps $(SFT_STEPS) --batch $(BATCH) --seq-len $(SEQ_LEN) \
	  --warmup 0.1 --seed $(SEED) --log $(OUT)/sft.log.jsonl $(TRAIN_FLAGS) -o $(OUT)/sft
$(OUT)/sft.gguf: $(OUT)/sft/adapter_model.safetensors
	$(FT)ft-merge --model $(MODEL) --adapter $(OUT)/sft --format gguf --dtype f16 -o $@

# 2. the pairs: each side rendered with the chat template, one FTOK unit per pair
$(OUT)/pairs.tok: $(PAIRS) | $(OUT)
	$(FT)ft-template --model $(MODEL) $< | $(FT)ft-tokenize --tokenizer $(MODEL) | \
	  $(FT)ft-filter --shuffle --seed $(SEED) -o $@
$(OUT)/pairs-val.tok: $(HELDOUT) | $(OUT)
	$(FT)ft-template --model $(MODEL) $< | $(FT)ft-tokenize --tokenizer $(MODEL) -o $@

# 3. DPO from the SFT model (LoRA; the reference is the SFT model, the adapter switched off)
$(OUT)/dpo/adapter_model.safetensors: $(OUT)/sft.gguf $(OUT)/pairs.tok $(OUT)/pairs-val.tok
	rm -rf $(OUT)/dpo
	$(FT)ft-train --model $(OUT)/sft.gguf --data $(OUT)/pairs.tok --val $(OUT)/pairs-val.tok --objective dpo \
	  --loss-type $(LOSS_TYPE) --beta $(BETA) --method lora --lora-r $(RANK) --lora-alpha $(ALPHA) \
	  --lora-targets $(TARGETS) --lr $(DPO_LR) --max-steps $(DPO_STEPS) --batch $(BATCH) --seq-len $(SEQ_LEN) \
	  --warmup 0.1 --eval-every 20 --seed $(SEED) --log $(OUT)/dpo.log.jsonl $(TRAIN_FLAGS) -o $(OUT)/dpo

# 4. generations on the held-out prompts (the chosen answer is the reference)
$(OUT)/heldout.prompts.jsonl: $(HELDOUT) | $(OUT)
	$(FT)ft-template --model $(MODEL) --generation-prompt -o $@ $<
$(OUT)/sft.gen.jsonl: $(OUT)/heldout.prompts.jsonl $(OUT)/sft.gguf
	$(FT)ft-eval --model $(OUT)/sft.gguf generate --max-new-tokens $(MAX_NEW) -o $@ $<
$(OUT)/dpo.gen.jsonl: $(OUT)/heldout.prompts.jsonl $(OUT)/dpo/adapter_model.safetensors
	$(FT)ft-eval --model $(OUT)/sft.gguf --adapter $(OUT)/dpo generate --max-new-tokens $(MAX_NEW) -o $@ $<
$(OUT)/%.score.json: $(OUT)/%.gen.jsonl
	$(FT)ft-eval score --metrics em,f1 --per-record $(OUT)/$*.score.records.jsonl -o $@ $<

clean:
	rm -rf $(OUT)
