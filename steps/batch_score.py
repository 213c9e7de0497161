"""MLproject entry point 'batch_score': score a file on Spark with a logged model."""

from pathlib import Path

from toxicity_pyfunc.batch import BatchScoreConfig, batch_score
from toxicity_pyfunc.cli import parse_params, setup_logging

if __name__ == "__main__":
    setup_logging()
    params = parse_params("batch_score", Path(__file__).resolve().parent.parent / "MLproject")
    batch_score(BatchScoreConfig.from_mapping(params))
