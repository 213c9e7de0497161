#!/usr/bin/env bash
# `mlflow run . -e main` on the full shared data, on a GPU machine that has PyTorch but no
# network and no MLflow (what travels and how: scripts/gpu_env.sh).
# Then serves models:/toxicity@champion and asks it about two texts.
# Usage: scripts/gpu_main.sh OUT_DIR [extra `mlflow run` arguments such as -P epochs=3]
set -euo pipefail
out="$1"; shift
source scripts/gpu_env.sh

python3 -m mlflow run . -e main --env-manager local --experiment-name gpu \
  -P train_data="$data/train.csv" -P valid_data="$data/valid.csv" -P test_data="$data/test.csv" \
  "$@" 2>&1 | tee "$out/main.log"

python3 -m mlflow models serve -m models:/toxicity@champion --env-manager local -h 127.0.0.1 -p 5001 \
  > "$out/serve.log" 2>&1 &
for _ in $(seq 1 120); do curl -fsS http://127.0.0.1:5001/ping >/dev/null 2>&1 && break; sleep 1; done
curl -fsS -X POST http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \
  -d '{"dataframe_records": [{"text": "you are a stupid idiot"}, {"text": "have a nice day"}]}' \
  | tee "$out/served_answer.json"
echo
python3 scripts/run_summary.py --experiment gpu > "$out/runs.json"
