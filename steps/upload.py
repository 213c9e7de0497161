"""MLproject entry point 'upload': log a classifier kept on disk after a failed upload."""

from pathlib import Path

from toxicity_pyfunc.jobs.cli import parse_params, setup_logging
from toxicity_pyfunc.jobs.config import UploadConfig
from toxicity_pyfunc.jobs.training.packaging import upload_saved_model

if __name__ == "__main__":
    setup_logging()
    params = parse_params("upload", Path(__file__).resolve().parent.parent / "MLproject")
    upload_saved_model(UploadConfig.from_params(params))
