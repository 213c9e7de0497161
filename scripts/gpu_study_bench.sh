#!/usr/bin/env bash
# A study, the toxic-spans gate on each of its models, and the GPU serving report of its first
# recipe's model, in one lease: scripts/gpu_train_evaluate.sh (RUNS_PER_GPU as there), then
# scripts/span_gate_study.py over every model of the store (validation: SemEval trial; report:
# SemEval test), then `tools.bench --gpu` on the first recipe's model alone on the machine.
# Returns OUT_DIR/runs.json, mlruns.tgz, logs, gate.jsonl, spans_dump.json.xz and bench.json.
# Usage: scripts/gpu_study_bench.sh OUT_DIR "NAME -P key=value ..." ...
set -uo pipefail
out="$1"; first="${2%% *}"
mkdir -p "$out"
bash scripts/gpu_train_evaluate.sh "$@"
source scripts/gpu_env.sh
python3 scripts/span_gate_study.py --valid "$data/tsd_trial.csv" --test "$data/tsd_test.csv" \
  --dump "$out/spans_dump.json.xz" > "$out/gate.jsonl" 2> "$out/gate.log"
uri=$(python3 - "$first" <<'PY'
import sys

from mlflow.tracking import MlflowClient

client = MlflowClient()
experiment = client.get_experiment_by_name("study")
runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.mlflow.runName = '{sys.argv[1]}'")
print(f"models:/{runs[0].outputs.model_outputs[0].model_id}")
PY
)
python3 -m tools.bench --gpu --model-uri "$uri" --texts-file "$data/test.csv" --texts 8192 \
  --client-seconds 12 --gpu-workers 1 4 8 > "$out/bench.json" 2> "$out/bench.log"
tail -c 3000 "$out/bench.log"; cat "$out/bench.json"
