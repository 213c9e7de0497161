"""MLproject entry point 'register'."""

from pathlib import Path

from toxicity_pyfunc.jobs.cli import parse_params, setup_logging
from toxicity_pyfunc.jobs.config import RegisterConfig
from toxicity_pyfunc.jobs.registry import register

if __name__ == "__main__":
    setup_logging()
    params = parse_params("register", Path(__file__).resolve().parent.parent / "MLproject")
    register(RegisterConfig.from_params(params))
