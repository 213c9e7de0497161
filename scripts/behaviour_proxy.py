"""A CPU proxy for a generalisation study: train small models with and without one setting and
score each on the behavioural suite's held-out families (and its validation families, keys
`validation_*`).

Not the full recipe (a few thousand rows, two epochs, batch 32): it answers "does this setting
move the held-out suite at all?" on two cores in minutes, before GPU time is spent on the full
data. Usage (after sampling rows from the `make_splits.py` splits into TRAIN and VALID):

    python scripts/behaviour_proxy.py --train TRAIN --valid VALID --setting behaviour_compositional \
        --seeds 0 1 --out results.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

logger = logging.getLogger("behaviour_proxy")
MLPROJECT = Path(__file__).resolve().parent.parent / "MLproject"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--valid", required=True)
    parser.add_argument("--setting", default="behaviour_compositional", help="a boolean train parameter")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--behaviour-share", type=float, default=0.3)
    parser.add_argument("--out", default="behaviour_proxy.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    work = Path(tempfile.mkdtemp(prefix="behaviour-proxy-"))
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"file://{work}/mlruns")
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")

    import mlflow

    from toxicity_pyfunc.jobs.behaviour import behaviour_report
    from toxicity_pyfunc.jobs.config import TrainConfig, project_defaults
    from toxicity_pyfunc.jobs.scoring import score_with_model
    from toxicity_pyfunc.jobs.training import train

    defaults = project_defaults("train", MLPROJECT)
    results: dict[str, dict[str, float]] = {}
    for seed in args.seeds:
        for value in (False, True):
            started = time.time()
            config = TrainConfig.pick(
                defaults
                | {
                    "train_data": args.train,
                    "valid_data": args.valid,
                    "epochs": args.epochs,
                    "batch_size": 32.0,
                    "learning_rate": 1e-4,
                    "behaviour_example_share": args.behaviour_share,
                    args.setting: value,
                    "train_spans": "none",
                    "valid_spans": "none",
                    "seed": float(seed),
                    "output_dir": str(work / "outputs"),
                }
            )
            trained = train(config)
            assert trained is not None  # one process
            model = mlflow.pyfunc.load_model(trained.model_uri)
            # Toxicity as `evaluate` scores it for the suite.
            report, _ = behaviour_report(lambda texts, model=model: score_with_model(model, texts)[:, 0])
            name = f"seed{seed}_{args.setting}={value}"
            # Held-out families (the verdict) and validation families (what may be chosen on).
            kept = (key for key in report if "accuracy" in key and "obfuscated_" not in key)
            results[name] = {
                key.replace("behaviour_heldout_", "").replace("behaviour_validation_", "validation_"): round(
                    report[key], 3
                )
                for key in kept
                if key.startswith(("behaviour_heldout", "behaviour_validation"))
            } | {"minutes": round((time.time() - started) / 60, 1)}
            logger.info("%s: %s", name, results[name])
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
