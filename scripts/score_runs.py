"""Score the validation and test files with every model an experiment logged; save the scores.

Brings raw scores back from a GPU machine whose tracking store is thrown away, so ensembles and
blends can be studied on a CPU afterwards without retraining.
Arrays are named RUNID__valid and RUNID__test.
Usage: python scripts/score_runs.py EXPERIMENT VALID_CSV TEST_CSV OUT.npz
"""

from __future__ import annotations

import logging
import sys

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient

from toxicity_pyfunc.jobs.data import load_labelled
from toxicity_pyfunc.jobs.scoring import score_with_model

logger = logging.getLogger(__name__)


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    experiment_name, valid_path, test_path, out = sys.argv[1:5]
    experiment = MlflowClient().get_experiment_by_name(experiment_name)
    if experiment is None:
        sys.exit(f"no experiment named {experiment_name}")
    splits = {"valid": load_labelled(valid_path), "test": load_labelled(test_path)}
    arrays: dict[str, np.ndarray] = {}
    for logged in mlflow.search_logged_models(
        experiment_ids=[experiment.experiment_id], output_format="list"
    ):
        model = mlflow.pyfunc.load_model(logged.model_uri)
        for split, frame in splits.items():
            arrays[f"{logged.source_run_id}__{split}"] = score_with_model(model, frame["text"].tolist())
        logger.info("scored run %s (%s)", logged.source_run_id, logged.model_uri)
    np.savez_compressed(out, **arrays)


if __name__ == "__main__":
    main()
