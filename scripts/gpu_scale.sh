#!/usr/bin/env bash
# Training throughput of the `train` step on one GPU and, under torchrun, on two, side by side on
# one machine, on the full shared splits. Transport: scripts/gpu_env.sh.
# Usage: scripts/gpu_scale.sh OUT_DIR [GPUS:BATCH_PER_GPU:LEARNING_RATE ...]
# (default: 1:64:0.0001 1:128:0.0002 2:64:0.0001 2:128:0.0002)
set -euo pipefail
out="$1"; shift
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(1:64:0.0001 1:128:0.0002 2:64:0.0001 2:128:0.0002)
source scripts/gpu_env.sh
export MLFLOW_EXPERIMENT_NAME=scale
nvidia-smi --query-gpu=name --format=csv,noheader > "$out/gpus.txt"
common=(--train_data "$data/train.csv" --valid_data "$data/valid.csv" --base_model .gpu/minilm
        --epochs 2 --max_length 256 --max_batch_tokens 0)
run() { echo "== $*"; "$@" 2>&1 | grep --line-buffered -E "epoch [0-9]+: valid|Error|error" || true; }
for spec in "${specs[@]}"; do
  IFS=: read -r gpus batch rate <<< "$spec"
  if [ "$gpus" = 1 ]; then
    run env CUDA_VISIBLE_DEVICES=0 python3 steps/train.py "${common[@]}" --batch_size "$batch" --learning_rate "$rate"
  else
    run python3 -m torch.distributed.run --standalone --nproc-per-node "$gpus" steps/train.py "${common[@]}" \
      --batch_size "$batch" --learning_rate "$rate"
  fi
  python3 scripts/run_summary.py --experiment scale > "$out/runs.json"  # after each, in case of a cut
done
