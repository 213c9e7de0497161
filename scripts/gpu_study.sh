#!/usr/bin/env bash
# Recipes side by side: one `mlflow run . -e main` per GPU on the full shared splits and the SemEval
# toxic-spans files (train on tsd_train, span threshold on tsd_trial, span F1 on tsd_test), each
# registering its own model name, all in one MLflow file store. What comes back: every run's
# params and metrics (OUT_DIR/runs.json), each run's log, and the store without model weights
# (OUT_DIR/mlruns.tgz). Transport: scripts/gpu_env.sh.
# Usage: scripts/gpu_study.sh OUT_DIR "NAME -P key=value ..." ["NAME -P ..." ...]   (one per GPU)
set -euo pipefail
out="$1"; shift
source scripts/gpu_env.sh
python3 -c "import mlflow; mlflow.set_experiment('study')"  # once, before the runs race to create it
pids=(); gpu=0
for spec in "$@"; do
  read -r name params <<< "$spec"
  # shellcheck disable=SC2086  # params are words on purpose
  CUDA_VISIBLE_DEVICES=$gpu timeout "${RUN_TIMEOUT:-3000}" python3 -m mlflow run . -e main --env-manager local --experiment-name study \
    --run-name "$name" -P base_model=.gpu/minilm -P registered_model="$name" \
    -P train_data="$data/train.csv" -P valid_data="$data/valid.csv" -P test_data="$data/test.csv" \
    -P train_spans="$data/tsd_train.csv" -P valid_spans="$data/tsd_trial.csv" -P test_spans="$data/tsd_test.csv" \
    $params > "$out/$name.log" 2>&1 &
  pids+=($!); gpu=$((gpu + 1))
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
grep -h "epoch [0-9]*: valid\|span F1\|span threshold\|test mean ROC-AUC\|Error" "$out"/*.log || true
python3 scripts/run_summary.py --experiment study --history valid_ > "$out/runs.json"
tar --exclude='*/models/*/artifacts' -czf "$out/mlruns.tgz" -C /tmp mlruns
exit $status
