"""A CPU proxy for a generalisation study: train small models with and without one setting and
score each on the behavioural suite's held-out families (and its validation families, keys
`validation_*`).

Not the full recipe (a few thousand rows, two epochs, batch 32): it answers "does this setting
move the held-out suite at all?" on two cores in minutes, before GPU time is spent on the full
data. Usage (after sampling rows from the `make_splits.py` splits into TRAIN and VALID):

    python scripts/behaviour_proxy.py --train TRAIN --valid VALID --setting behaviour_compositional \
        --seeds 0 1 --out results.json

or, instead of one boolean off and on, named variants of any train parameters:

    python scripts/behaviour_proxy.py --train TRAIN --valid VALID --seeds 0 \
        --variant minilm:base_model=minilm --variant mpnet3:base_model=MPNET,encoder_layers=3

The models stay in the run's MLflow store (its path is logged); `--rescore STORE` scores them
again on the suite as it is now, without training (after the suite's families changed). Both
modes end with the correlation, over the models, of each held-out figure with its validation twin.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger("behaviour_proxy")
MLPROJECT = Path(__file__).resolve().parent.parent / "MLproject"


def suite_figures(model: Any) -> dict[str, float]:
    """Held-out and validation accuracies of a logged model, toxicity as `evaluate` scores it."""
    from toxicity_pyfunc.jobs.behaviour import behaviour_report
    from toxicity_pyfunc.jobs.scoring import score_with_model

    report, _ = behaviour_report(lambda texts: score_with_model(model, texts)[:, 0])
    kept = (key for key in report if "accuracy" in key and "obfuscated_" not in key)
    return {
        key.replace("behaviour_heldout_", "").replace("behaviour_validation_", "validation_"): round(
            report[key], 3
        )
        for key in kept
        if key.startswith(("behaviour_heldout", "behaviour_validation"))
    }


def correlations(results: dict[str, dict[str, float]]) -> dict[str, float]:
    """Per figure with a validation twin, its correlation with the twin over the models."""
    out = {}
    keys = next(iter(results.values()))
    for key in keys:
        twin = f"validation_{key}"
        if key.startswith("validation_") or twin not in keys:
            continue
        held, valid = (np.array([figures[name] for figures in results.values()]) for name in (key, twin))
        if held.std() > 0 and valid.std() > 0:
            out[key] = round(float(np.corrcoef(held, valid)[0, 1]), 2)
    return out


def proxy_settings(
    train: str,
    valid: str,
    output_dir: Path,
    *,
    seed: int = 0,
    epochs: float = 2,
    behaviour_share: float = 0.3,
    **overrides: Any,
) -> dict[str, Any]:
    """The proxy's train parameters over MLproject's defaults: small data wants batch 32 and lr 1e-4,
    and no span files (the suite, not spans, is what a proxy answers)."""
    return {
        "train_data": train,
        "valid_data": valid,
        "epochs": epochs,
        "batch_size": 32.0,
        "learning_rate": 1e-4,
        "behaviour_example_share": behaviour_share,
        **overrides,
        "train_spans": "none",
        "valid_spans": "none",
        "seed": float(seed),
        "output_dir": str(output_dir),
    }


def train_models(args: argparse.Namespace, work: Path, report: Callable[[str, Any], None]) -> None:
    import mlflow

    from toxicity_pyfunc.jobs.config import TrainConfig, project_defaults
    from toxicity_pyfunc.jobs.training import train

    defaults = project_defaults("train", MLPROJECT)
    variants: dict[str, dict[str, Any]] = dict(parse_variant(text) for text in args.variant) or {
        f"{args.setting}={value}": {args.setting: value} for value in (False, True)
    }
    for seed in args.seeds:
        for variant, settings in variants.items():
            started = time.time()
            config = TrainConfig.pick(
                defaults
                | proxy_settings(
                    args.train,
                    args.valid,
                    work / "outputs",
                    seed=seed,
                    epochs=args.epochs,
                    behaviour_share=args.behaviour_share,
                    **settings,
                )
            )
            trained = train(config)
            assert trained is not None  # one process
            report(f"seed{seed}_{variant}", mlflow.pyfunc.load_model(trained.model_uri))
            logger.info("%.1f minutes", (time.time() - started) / 60)


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """Split "NAME:key=value,key=value" into NAME and its settings; `train` validates the values."""
    name, _, pairs = text.partition(":")
    settings = dict(pair.split("=", 1) for pair in pairs.split(",") if pair)
    if not name or not settings:
        raise SystemExit(f"--variant {text!r}: expected NAME:key=value[,key=value...]")
    return name, settings


def rescore_models(args: argparse.Namespace, report: Callable[[str, Any], None]) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    for experiment in client.search_experiments():
        for run in client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"]):
            if not run.outputs or not run.outputs.model_outputs:
                continue
            seed, value = run.data.params.get("seed"), run.data.params.get(args.setting)
            model = mlflow.pyfunc.load_model(f"models:/{run.outputs.model_outputs[0].model_id}")
            report(f"seed{seed}_{args.setting}={value}", model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train")
    parser.add_argument("--valid")
    parser.add_argument(
        "--rescore", help="an earlier run's MLflow store (its mlruns folder): score, don't train"
    )
    parser.add_argument("--setting", default="behaviour_compositional", help="a boolean train parameter")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="NAME:key=value,... train parameters of one model per seed (instead of --setting off/on)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--behaviour-share", type=float, default=0.3)
    parser.add_argument("--out", default="behaviour_proxy.json")
    args = parser.parse_args()
    if args.rescore is None and (args.train is None or args.valid is None):
        parser.error("--train and --valid are needed unless --rescore names a store")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    results: dict[str, dict[str, float]] = {}

    def report(name: str, model: Any) -> None:
        results[name] = suite_figures(model)
        logger.info("%s: %s", name, results[name])

    if args.rescore is not None:
        os.environ["MLFLOW_TRACKING_URI"] = Path(args.rescore).resolve().as_uri()
        rescore_models(args, report)
    else:
        work = Path(tempfile.mkdtemp(prefix="behaviour-proxy-"))
        os.environ.setdefault("MLFLOW_TRACKING_URI", f"file://{work}/mlruns")
        logger.info("models are kept in %s/mlruns", work)
        train_models(args, work, report)
    summary = {"models": results, "heldout_vs_validation_correlation": correlations(results)}
    logger.info("correlations: %s", summary["heldout_vs_validation_correlation"])
    Path(args.out).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
