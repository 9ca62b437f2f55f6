#!/usr/bin/env bash
# run.sh — the `make test-hf` tier: builds the torch/transformers/peft venv when missing
# (HF_VENV, pip from PyPI; CPU only is used) and runs tests/hf/interop.py in a scratch dir with
# bin/ on PATH. Not part of `make test`, which stays free of torch.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${HF_VENV:-$HOME/.cache/ft/venv-hf}
if ! "$venv/bin/python" -c "import torch, transformers, peft, numpy, safetensors, tokenizers, gguf" 2>/dev/null; then
  echo "test-hf: building $venv (torch, transformers, peft from PyPI; this takes a while)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch transformers peft numpy safetensors tokenizers jinja2 gguf
fi
"$venv/bin/python" -c "import torch, transformers, peft; print(f'test-hf: torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__} (CPU)')"
work=$(mktemp -d "${TMPDIR:-/tmp}/ft-test-hf.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export FT_ROOT=$root PATH="$root/bin:$PATH" OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} CUDA_VISIBLE_DEVICES=
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false TRANSFORMERS_VERBOSITY=error
export HF_HUB_DISABLE_PROGRESS_BARS=1 TQDM_DISABLE=1 PYTHONWARNINGS=ignore
"$venv/bin/python" "$root/tests/hf/interop.py"
