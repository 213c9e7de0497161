#!/usr/bin/env bash
# Recipes side by side, one per GPU: `mlflow run . -e train` then `-e evaluate` on the model it
# logged (test split, behavioural suite, SemEval toxic-spans test), all in one MLflow file store.
# No register step (a `main` run per GPU did not fit one ten-minute call). Returns OUT_DIR/runs.json,
# the logs (OUT_DIR/logs.tgz past five recipes), and the store without model weights
# (OUT_DIR/mlruns.tgz). Transport: scripts/gpu_env.sh.
# Usage: [DEADLINE=S] scripts/gpu_train_evaluate.sh OUT_DIR "NAME -P key=value ..." ...   (one per GPU)
# Two copies of the tree side by side on one host (two versions of the code): FIRST_GPU=2 for the
# second, and HOST_RECIPES=4 (all recipes on the host) in both, so that they share its cores.
# RUNS_PER_GPU=N puts N recipes on each GPU: three runs on one H100 trained at the speed of one
# alone (2026-11-27 21:23 UTC, about 37 s an epoch each), so a study costs a third of the GPUs.
set -euo pipefail
out="$1"; shift
source scripts/gpu_env.sh
python3 -c "import mlflow; mlflow.set_experiment('study')"
threads=$(( $(nproc) / ${HOST_RECIPES:-$#} ))  # CPU work (ONNX Runtime, the companion) shares the host's cores
one() {  # name gpu params...
  local name="$1" gpu="$2"; shift 2
  export CUDA_VISIBLE_DEVICES="$gpu" TOXICITY_THREADS="$threads" OMP_NUM_THREADS="$threads"
  python3 -m mlflow run . -e train --env-manager local --experiment-name study --run-name "$name" \
    -P train_data="$data/train.csv" -P valid_data="$data/valid.csv" \
    -P train_spans="$data/tsd_train.csv" -P valid_spans="$data/tsd_trial.csv" -P max_batch_tokens=0 "$@" > "$out/$name.log" 2>&1
  uri=$(grep -o "logged model models:/m-[0-9a-f]*" "$out/$name.log" | tail -1 | cut -d' ' -f3)
  python3 -m mlflow run . -e evaluate --env-manager local --experiment-name study --run-name "$name-evaluate" \
    -P model_uri="$uri" -P test_data="$data/test.csv" -P train_data="$data/train.csv" \
    -P test_spans="$data/tsd_test.csv" >> "$out/$name.log" 2>&1
}
pids=(); index=0
for spec in "$@"; do
  read -r -a words <<< "$spec"
  one "${words[0]}" "$(( ${FIRST_GPU:-0} + index / ${RUNS_PER_GPU:-1} ))" "${words[@]:1}" &
  pids+=($!); index=$((index + 1))
done
# DEADLINE (seconds): steps still running then are stopped, so that what finished comes back.
[ -z "${DEADLINE:-}" ] || (sleep "$DEADLINE"; pkill -ABRT -f "steps/(train|evaluate).py") &
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
grep -h "epoch [0-9]*: valid\|span F1\|test mean ROC-AUC\|Error" "$out"/*.log || true
python3 scripts/run_summary.py --experiment study --history valid_ > "$out/runs.json"
tar --exclude='*/models/*/artifacts' -czf "$out/mlruns.tgz" -C /tmp mlruns
# At most 8 files come back from a call: past five recipes the logs travel as one archive.
if [ "$#" -gt 5 ]; then (cd "$out" && tar -czf logs.tgz ./*.log && rm -f ./*.log); fi
exit $status
