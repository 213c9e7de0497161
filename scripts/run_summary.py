"""Print every run of an experiment (params, final metrics, tags) as one JSON document.

Used to bring numbers back from machines whose tracking store is thrown away afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient


def _step(metric: Metric) -> int:
    return metric.step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", required=True)
    parser.add_argument(
        "--history", default="", help="also give every step of metrics whose names start with this"
    )
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
            "history": {
                key: [m.value for m in sorted(client.get_metric_history(run.info.run_id, key), key=_step)]
                for key in run.data.metrics
                if args.history and key.startswith(args.history)
            },
        }
        for run in runs
    ]
    json.dump(summary, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
