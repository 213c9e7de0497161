"""MLproject entry point 'upload': log a classifier kept on disk after a failed upload."""

from pathlib import Path

import mlflow

from toxicity_pyfunc.cli import parse_params, setup_logging
from toxicity_pyfunc.training import log_saved_model

if __name__ == "__main__":
    setup_logging()
    params = parse_params("upload", Path(__file__).resolve().parent.parent / "MLproject")
    with mlflow.start_run():
        log_saved_model(Path(params["model_dir"]))
