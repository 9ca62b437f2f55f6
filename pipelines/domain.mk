# domain.mk — continued pre-training on raw domain text, mixed with general text against
# forgetting, with a perplexity regression gate:
#
#   DOMAIN ({"text"} JSONL) ─ ft-filter --quality --dedup near ─ ft-tokenize ─┐
#   GENERAL ({"text"} JSONL) ─ ft-tokenize ───────────────────────────────────┴─ ft-filter --mix
#   ─ ft-train ─ ft-eval ppl on HELDOUT (must gain) and on GENERAL (must not regress past the gate)
#
# Usage:  make -f pipelines/domain.mk MODEL=model.gguf [DOMAIN=... HELDOUT=... GENERAL=... OUT=...]
# Variables: MODEL (HF dir or .gguf), DOMAIN, HELDOUT (held-out domain documents), GENERAL,
# OUT, FT (dir of the ft-* binaries), MIX (domain:general weights, default 4:1), METHOD
# (lora|full), STEPS, BATCH, SEQ_LEN, LR, MIN_GAIN (domain ppl), MAX_REGRESSION (general ppl).

FT ?= bin/
MODEL ?= $(shell scripts/model.sh path)
DOMAIN ?= examples/domain/corpus.jsonl
HELDOUT ?= examples/domain/heldout.jsonl
GENERAL ?= examples/general/general.jsonl
OUT ?= build/domain
MIX ?= 4:1
METHOD ?= lora
STEPS ?= 30
BATCH ?= 2
SEQ_LEN ?= 256
LR ?= 5e-4
SEED ?= 1
MIN_GAIN ?= ppl=5%
MAX_REGRESSION ?= ppl=10%
TRAIN_FLAGS ?=

ifeq ($(strip $(MODEL)),)
$(error MODEL is not set and no cached model was found: run 'make model' or pass MODEL=...)
endif
w_domain := $(word 1,$(subst :, ,$(MIX)))
w_general := $(word 2,$(subst :, ,$(MIX)))

.PHONY: all report clean
.DELETE_ON_ERROR:
all: report

report: $(OUT)/base.heldout.json $(OUT)/tuned.heldout.json $(OUT)/base.general.json $(OUT)/tuned.general.json
	@echo "== domain perplexity ($(notdir $(HELDOUT))): base vs tuned"; \
	$(FT)ft-eval compare $(if $(MIN_GAIN),--min-gain $(MIN_GAIN)) $(OUT)/base.heldout.json $(OUT)/tuned.heldout.json; d=$$?; \
	echo "== general perplexity ($(notdir $(GENERAL))): base vs tuned"; \
	$(FT)ft-eval compare $(if $(MAX_REGRESSION),--max-regression $(MAX_REGRESSION)) $(OUT)/base.general.json $(OUT)/tuned.general.json; g=$$?; \
	[ $$d -eq 0 ] && [ $$g -eq 0 ]

$(OUT):
	mkdir -p $@

# curation on the text itself, then tokens (every token of a document is a target)
$(OUT)/domain.clean.jsonl: $(DOMAIN) | $(OUT)
	$(FT)ft-filter --quality --dedup near --stats-out $(OUT)/curation.json -o $@ $<
$(OUT)/%.tok: $(OUT)/%.clean.jsonl
	$(FT)ft-tokenize --tokenizer $(MODEL) -o $@ $<
$(OUT)/general.tok: $(GENERAL) | $(OUT)
	$(FT)ft-tokenize --tokenizer $(MODEL) -o $@ $<
$(OUT)/heldout.tok: $(HELDOUT) | $(OUT)
	$(FT)ft-tokenize --tokenizer $(MODEL) -o $@ $<
# the training stream: domain and general documents interleaved by weight, shuffled
$(OUT)/train.tok: $(OUT)/domain.tok $(OUT)/general.tok
	$(FT)ft-filter --mix $(OUT)/domain.tok:$(w_domain) $(OUT)/general.tok:$(w_general) --seed $(SEED) --shuffle -o $@

$(OUT)/model/train_config.json: $(OUT)/train.tok $(OUT)/heldout.tok
	rm -rf $(OUT)/model
	$(FT)ft-train --model $(MODEL) --data $(OUT)/train.tok --val $(OUT)/heldout.tok --method $(METHOD) \
	  --lr $(LR) --max-steps $(STEPS) --batch $(BATCH) --seq-len $(SEQ_LEN) --warmup 3 --eval-every 10 \
	  --seed $(SEED) --log $(OUT)/train.log.jsonl $(TRAIN_FLAGS) -o $(OUT)/model

# evaluation: LoRA output is applied with --adapter; full fine-tuning output is a model dir
tuned = $(if $(filter lora,$(METHOD)),--model $(MODEL) --adapter $(OUT)/model,--model $(OUT)/model)
$(OUT)/base.%.json: $(OUT)/%.tok
	$(FT)ft-eval --model $(MODEL) ppl -o $@ $<
$(OUT)/tuned.%.json: $(OUT)/%.tok $(OUT)/model/train_config.json
	$(FT)ft-eval $(tuned) ppl -o $@ $<

clean:
	rm -rf $(OUT)
