#!/usr/bin/env bash
# The full-data run of record, on one GPU: `mlflow run . -e main` with MLproject's defaults
# (scripts/gpu_main.sh), the same recipe with other seeds beside it (scripts/gpu_experiments.sh;
# each `train` run logs its validation ROC-AUC with and without the TF-IDF companion),
# then the GPU serving report of the champion (python -m tools.bench --gpu).
# Usage: scripts/gpu_report.sh OUT_DIR
set -euo pipefail
out="$1"
scripts/gpu_main.sh "$out" > "$out/main_stdout.log" 2>&1 &
main=$!
sleep 30  # gpu_main.sh has unpacked the data by then
mkdir -p /tmp/ablations
scripts/gpu_experiments.sh /tmp/ablations \
  "seed7 -P seed=7" "seed11 -P seed=11" "seed13 -P seed=13" > /dev/null 2>&1 || true
cp /tmp/ablations/runs.json "$out/ablations.json"
wait "$main"
source scripts/gpu_env.sh > /dev/null
python3 -m tools.bench --gpu --model-uri models:/toxicity@champion \
  --texts-file /tmp/data/test.csv --texts 8192 2> "$out/bench.log" | tee "$out/bench_gpu.json"
