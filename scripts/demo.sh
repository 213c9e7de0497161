#!/usr/bin/env bash
# The README's main command (after `make stack-up`): train -> evaluate -> register on the sample
# data against the local tracking server, show that the weights are in the S3 bucket, then serve
# the champion on port 5001, from an empty folder, in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MLFLOW_TRACKING_URI:?set by the Makefile}"
PORT="${PORT:-5001}"
export PATH="$PWD/.venv/bin:$PATH"

echo "== mlflow run . -e main (tracking: $MLFLOW_TRACKING_URI)"
# The defaults are the full-data recipe; 363 sample rows learn better in batches of 16.
mlflow run . -e main --env-manager local --experiment-name toxicity -P batch_size=16 -P max_length=128

echo "== the weights are objects in the bucket"
python -m tools.stack objects 2>&1 | grep 'classifier/model.safetensors' | tail -1

empty="$(mktemp -d)"
echo "== serving models:/toxicity@champion on http://127.0.0.1:$PORT from the empty folder $empty"
(cd "$empty" && exec toxicity-serve -m "models:/toxicity@champion" -h 127.0.0.1 -p "$PORT") &
server=$!
trap 'kill $server 2>/dev/null || true' INT TERM EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/ping" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "server exited"; exit 1; }
  sleep 1
done

request='{"dataframe_records": [{"text": "you are a stupid idiot"}, {"text": "have a nice day"}]}'
echo "== sample request"
echo "curl -X POST http://127.0.0.1:$PORT/invocations -H 'Content-Type: application/json' -d '$request'"
curl -fsS -X POST "http://127.0.0.1:$PORT/invocations" -H 'Content-Type: application/json' -d "$request"
echo
echo "== serving until Ctrl-C (then: make stack-down)"
wait "$server"
