"""MLproject entry point 'main': train, evaluate and register in one parent run."""

from pathlib import Path

from toxicity_pyfunc.jobs.cli import parse_params, setup_logging
from toxicity_pyfunc.jobs.config import project_defaults
from toxicity_pyfunc.jobs.pipeline import run_pipeline

if __name__ == "__main__":
    setup_logging()
    mlproject = Path(__file__).resolve().parent.parent / "MLproject"
    run_pipeline(parse_params("main", mlproject), train_defaults=project_defaults("train", mlproject))
