"""Print every run of an experiment (params, final metrics, tags) as one JSON document.

Used to bring numbers back from machines whose tracking store is thrown away afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys

from mlflow.tracking import MlflowClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", required=True)
    args = parser.parse_args()
    client = MlflowClient()
    experiment = client.get_experiment_by_name(args.experiment)
    if experiment is None:
        sys.exit(f"no experiment named {args.experiment}")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    summary = [
        {
            "run_id": run.info.run_id,
            "name": run.data.tags.get("mlflow.runName"),
            "parent": run.data.tags.get("mlflow.parentRunId"),
            "status": run.info.status,
            "seconds": ((run.info.end_time or run.info.start_time) - run.info.start_time) / 1000,
            "params": run.data.params,
            "metrics": run.data.metrics,
            "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
        }
        for run in runs
    ]
    json.dump(summary, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
