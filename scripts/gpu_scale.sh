#!/usr/bin/env bash
# Training throughput of the `train` step on one GPU and, under torchrun, on two, side by side on
# one machine, on the full shared splits. Same transport as scripts/gpu_main.sh (.whl/, .gpu/).
# Usage: scripts/gpu_scale.sh OUT_DIR
set -euo pipefail
out="$1"
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
run env CUDA_VISIBLE_DEVICES=0 python3 steps/train.py "${common[@]}" --batch_size 64 --learning_rate 0.0001
run env CUDA_VISIBLE_DEVICES=0 python3 steps/train.py "${common[@]}" --batch_size 128 --learning_rate 0.0002
if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
  run python3 -m torch.distributed.run --standalone --nproc-per-node 2 steps/train.py "${common[@]}" --batch_size 64 --learning_rate 0.0001
  run python3 -m torch.distributed.run --standalone --nproc-per-node 2 steps/train.py "${common[@]}" --batch_size 128 --learning_rate 0.0002
fi
python3 scripts/run_summary.py --experiment scale > "$out/runs.json"
