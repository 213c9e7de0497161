#!/bin/sh
# Serving image entrypoint: serve MODEL_URI from the registry at MLFLOW_TRACKING_URI.
# Credentials come only from the environment (docker run -e AWS_ACCESS_KEY_ID ...).
set -eu
: "${MLFLOW_TRACKING_URI:?set MLFLOW_TRACKING_URI to the tracking server, e.g. http://mlflow:5000}"
MODEL_URI="${MODEL_URI:-models:/toxicity@champion}"
exec toxicity-serve -m "$MODEL_URI" -h "${HOST:-0.0.0.0}" -p "${PORT:-5001}"
