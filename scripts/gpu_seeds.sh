#!/usr/bin/env bash
# "The same result as one GPU up to noise": the `train` step at one global batch, once as one GPU
# with BATCH rows and once under torchrun as two GPUs with BATCH/2 rows each, for several seeds,
# on the full shared splits (2 epochs, max_length 256, MLproject's other defaults). The one-GPU
# runs of two seeds run side by side, one per GPU. First, the GPU serving report
# (python -m tools.bench --gpu) on GPU 0 alone. Transport: scripts/gpu_env.sh.
# Usage: scripts/gpu_seeds.sh OUT_DIR BATCH LEARNING_RATE SEED_A SEED_B
set -euo pipefail
out="$1"; batch="$2"; rate="$3"; seed_a="$4"; seed_b="$5"
source scripts/gpu_env.sh > "$out/gpus.txt"
export MLFLOW_EXPERIMENT_NAME=seeds
CUDA_VISIBLE_DEVICES=0 python3 -m tools.bench --gpu --base-model .gpu/minilm --texts-file "$data/test.csv" --texts 8192 \
  2> "$out/bench.log" | tee "$out/bench_gpu.json"
common=(--train_data "$data/train.csv" --valid_data "$data/valid.csv" --base_model .gpu/minilm
        --epochs 2 --max_length 256 --learning_rate "$rate" --max_batch_tokens 0)
show() { grep --line-buffered -E "epoch [0-9]+: valid|Error" || true; }
CUDA_VISIBLE_DEVICES=0 python3 steps/train.py "${common[@]}" --batch_size "$batch" --seed "$seed_a" 2>&1 | show &
CUDA_VISIBLE_DEVICES=1 python3 steps/train.py "${common[@]}" --batch_size "$batch" --seed "$seed_b" 2>&1 | show &
wait
python3 scripts/run_summary.py --experiment seeds --history valid_ > "$out/runs.json"
for seed in "$seed_a" "$seed_b"; do
  python3 -m torch.distributed.run --standalone --nproc-per-node 2 steps/train.py "${common[@]}" \
    --batch_size $((batch / 2)) --seed "$seed" 2>&1 | show
  python3 scripts/run_summary.py --experiment seeds --history valid_ > "$out/runs.json"
done
