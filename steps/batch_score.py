"""MLproject entry point 'batch_score': score a file on Spark with a logged model."""

from pathlib import Path

from toxicity_pyfunc.jobs.batch import batch_score
from toxicity_pyfunc.jobs.cli import parse_params, setup_logging
from toxicity_pyfunc.jobs.config import BatchScoreConfig

if __name__ == "__main__":
    setup_logging()
    params = parse_params("batch_score", Path(__file__).resolve().parent.parent / "MLproject")
    batch_score(BatchScoreConfig.from_params(params))
