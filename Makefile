# Everything runs inside .venv, which `make setup` creates or updates (safe to run twice).
PYTHON_BIN ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export MLFLOW_TRACKING_URI ?= sqlite:///$(abspath mlflow.db)

.PHONY: setup demo test lint format sample-data clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v $(PYTHON_BIN) >/dev/null || { echo "need $(PYTHON_BIN) on PATH (or make PYTHON_BIN=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON_BIN) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	bash scripts/demo.sh

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

sample-data:
	$(PYTHON_BIN) scripts/make_sample_data.py

clean:
	rm -rf mlruns mlartifacts mlflow.db outputs .pytest_cache .ruff_cache
