#!/usr/bin/env bash
# Peak resident memory of a CPU `train` with the MLproject defaults (batch 128 x 256 tokens) on
# 3,509 rows of the shared train split, for each token budget given (0: the batch whole).
# Usage: scripts/train_memory.sh OUT_DIR [BUDGET ...]     (default budgets: 0 4096 2048)
# Needs GNU time (Debian package `time`) and ../shared/data.
# Prints one line per budget: budget, peak RSS (GNU time), the run's peak_rss_mb, wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1"; shift
budgets=("${@:-0 4096 2048}")
mkdir -p "$out"
python3 ../shared/data/make_splits.py --out "$out/splits" >/dev/null
.venv/bin/python - "$out" <<'PY'
import sys
import pandas as pd
out = sys.argv[1]
for name, rows in (("train", 3509), ("valid", 1000)):
    frame = pd.read_csv(f"{out}/splits/{name}.csv", keep_default_na=False, na_values=[""])
    frame.sample(rows, random_state=0).to_csv(f"{out}/{name}.csv", index=False)
PY
export MLFLOW_TRACKING_URI="sqlite:///$out/mlflow.db"
for budget in ${budgets[*]}; do
  /usr/bin/time -v .venv/bin/python steps/train.py --train_data "$out/train.csv" \
    --valid_data "$out/valid.csv" --epochs 1 --max_batch_tokens "$budget" > "$out/train_$budget.log" 2>&1
  peak_kb=$(grep "Maximum resident" "$out/train_$budget.log" | awk '{print $NF}')
  wall=$(grep "Elapsed (wall clock)" "$out/train_$budget.log" | awk '{print $NF}')
  metric=$(.venv/bin/python -c "
import mlflow
runs = mlflow.search_runs(search_all_experiments=True, filter_string=\"params.max_batch_tokens = '$budget'\")
print(round(runs['metrics.peak_rss_mb'].iloc[0]))")
  echo "max_batch_tokens=$budget peak_rss_kb=$peak_kb peak_rss_mb_metric=$metric wall=$wall"
done
