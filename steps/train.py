"""MLproject entry point 'train'."""

from pathlib import Path

from toxicity_pyfunc.jobs.cli import parse_params, setup_logging
from toxicity_pyfunc.jobs.config import TrainConfig
from toxicity_pyfunc.jobs.training import train

if __name__ == "__main__":
    setup_logging()
    params = parse_params("train", Path(__file__).resolve().parent.parent / "MLproject")
    train(TrainConfig.from_params(params))
