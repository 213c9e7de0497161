# Everything runs inside .venv, which `make setup` creates or updates (safe to run twice).
PYTHON_BIN ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
STACK_URI := http://127.0.0.1:5000

.PHONY: setup demo test test-unit typecheck test-services bench stack-up stack-down lint format sample-data clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v $(PYTHON_BIN) >/dev/null || { echo "need $(PYTHON_BIN) on PATH (or make PYTHON_BIN=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON_BIN) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup stack-up
	MLFLOW_TRACKING_URI=$(STACK_URI) bash scripts/demo.sh

test: setup test-services
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The fast unit tests alone: no servers, no Spark, no training (a minute or two on 2 cores).
test-unit: setup
	$(BIN)/python -m pytest -m "not services"

typecheck: setup
	$(BIN)/mypy

# The served model against MLflow's transformers flavor; the last line is JSON (docs/performance.md).
bench: setup
	$(BIN)/python -m tools.bench $(BENCH_ARGS)

# Programs the tests start themselves, from Debian: PostgreSQL, Chromium for the demo page, Prometheus.
test-services:
	@missing=""; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	command -v prometheus >/dev/null 2>&1 || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then echo "installing from Debian:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

# S3 (moto) on :9000 and the MLflow tracking server on :5000, state under .stack/.
stack-up: setup
	$(BIN)/python -m tools.stack up

stack-down:
	$(BIN)/python -m tools.stack down

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

sample-data:
	$(PYTHON_BIN) scripts/make_sample_data.py

clean: stack-down
	rm -rf mlruns mlartifacts mlflow.db outputs .stack .pytest_cache .ruff_cache
