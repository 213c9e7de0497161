#!/usr/bin/env bash
# Training throughput of the `train` step on one GPU and, under torchrun, on two, side by side on
# one machine, on the full shared splits. Same transport as scripts/gpu_main.sh (.whl/, .gpu/).
# Usage: scripts/gpu_scale.sh OUT_DIR [GPUS:BATCH_PER_GPU:LEARNING_RATE ...]
# (default: 1:64:0.0001 1:128:0.0002 2:64:0.0001 2:128:0.0002)
set -euo pipefail
out="$1"; shift
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(1:64:0.0001 1:128:0.0002 2:64:0.0001 2:128:0.0002)
site=/tmp/site
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl
export PYTHONPATH="$PWD:$site" PATH="$site/bin:$PATH" PYTHONUNBUFFERED=1
export MLFLOW_ALLOW_FILE_STORE=true MLFLOW_TRACKING_URI=file:///tmp/mlruns MLFLOW_EXPERIMENT_NAME=scale
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
data=/tmp/data; mkdir -p "$data"
for split in train valid; do xz -dc ".gpu/data/$split.csv.xz" > "$data/$split.csv"; done
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$out/gpus.txt"
common=(--train_data "$data/train.csv" --valid_data "$data/valid.csv" --base_model .gpu/minilm
        --epochs 2 --max_length 256)
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
