#!/usr/bin/env bash
# Recipe experiments for the `train` entry point on the full shared splits, several at once on
# one GPU (MiniLM leaves an H100 mostly idle: one run is bound by its host thread). Each
# experiment is `mlflow run . -e train` with its own -P settings; the runs' parameters and
# per-epoch validation metrics come back in OUT_DIR/runs.json. Transport: scripts/gpu_env.sh.
# The base model is .gpu/minilm unless an experiment names its own (-P base_model=FOLDER).
# Usage: scripts/gpu_experiments.sh OUT_DIR "NAME -P key=value ..." ["NAME -P ..." ...]
set -euo pipefail
out="$1"; shift
source scripts/gpu_env.sh
pids=()
for spec in "$@"; do
  read -r name params <<< "$spec"
  [[ "$params" == *base_model=* ]] || params="-P base_model=.gpu/minilm $params"
  # shellcheck disable=SC2086  # params are words on purpose
  python3 -m mlflow run . -e train --env-manager local --experiment-name experiments --run-name "$name" \
    -P train_data="$data/train.csv" -P valid_data="$data/valid.csv" $params \
    > "$out/$name.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
grep -h "epoch [0-9]*: valid\|Error" "$out"/*.log || true
python3 scripts/run_summary.py --experiment experiments --history valid_ > "$out/runs.json"
exit $status
