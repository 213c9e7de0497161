"""MLproject entry point 'evaluate'."""

from pathlib import Path

from toxicity_pyfunc.jobs.cli import parse_params, setup_logging
from toxicity_pyfunc.jobs.config import EvaluateConfig
from toxicity_pyfunc.jobs.evaluation import evaluate

if __name__ == "__main__":
    setup_logging()
    params = parse_params("evaluate", Path(__file__).resolve().parent.parent / "MLproject")
    evaluate(EvaluateConfig.from_params(params))
