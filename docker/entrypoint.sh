#!/bin/sh
# Serving image entrypoint: serve MODEL_URI from the registry at MLFLOW_TRACKING_URI.
# Credentials come only from the environment (docker run -e AWS_ACCESS_KEY_ID ...).
# FOLLOW_ALIAS=SECONDS swaps in the version the alias moves to without a restart; WORKERS=N
# runs N server processes (in Kubernetes, prefer more pods of one worker each).
set -eu
: "${MLFLOW_TRACKING_URI:?set MLFLOW_TRACKING_URI to the tracking server, e.g. http://mlflow:5000}"
MODEL_URI="${MODEL_URI:-models:/toxicity@champion}"
set -- -m "$MODEL_URI" -h "${HOST:-0.0.0.0}" -p "${PORT:-5001}" --workers "${WORKERS:-1}"
if [ -n "${FOLLOW_ALIAS:-}" ]; then
  set -- "$@" --follow-alias "$FOLLOW_ALIAS"
fi
exec toxicity-serve "$@"
