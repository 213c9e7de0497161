"""MLproject entry point 'upload': log a classifier kept on disk after a failed upload."""

from pathlib import Path

import mlflow

from toxicity_pyfunc.cli import parse_params, setup_logging
from toxicity_pyfunc.training import log_saved_model

if __name__ == "__main__":
    setup_logging()
    params = parse_params("upload", Path(__file__).resolve().parent.parent / "MLproject")
    folder = Path(params["model_dir"]).resolve()
    with mlflow.start_run():
        # outputs/<run id>/classifier: point back at the run that trained it.
        mlflow.set_tag("trained_in_run", folder.parent.name)
        log_saved_model(folder)
