"""Same weights, `plain_spelling` off and on: what reading disguised letters as plain ones does.

Trains one CPU proxy model (`proxy_settings` of scripts/behaviour_proxy.py, seed 4) and scores it
twice, with the served setting off and on: the behavioural suite's disguised-spelling figures and
agreeing functions, and toxicity ROC-AUC on a labelled file; and counts the texts of that file
that the served reading changes at all (what the reading costs: scripts/reading_cost.py). Usage:

    python scripts/spelling_ab.py --train TRAIN --valid VALID --score FILE --out OUT_DIR
    python scripts/spelling_ab.py --model-folder SAVED --score FILE --out OUT_DIR   (no training)

`--spans FILE` (a SemEval toxic-spans file) adds the span F1 both ways.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

import pandas as pd
from behaviour_proxy import proxy_settings
from sklearn.metrics import roc_auc_score

from toxicity_pyfunc.jobs.behaviour import behaviour_report
from toxicity_pyfunc.jobs.config import TrainConfig, project_defaults
from toxicity_pyfunc.jobs.evaluation import span_report
from toxicity_pyfunc.jobs.training import train
from toxicity_pyfunc.served.model import ToxicityModel
from toxicity_pyfunc.served.settings import InferenceSettings

MLPROJECT = Path(__file__).resolve().parent.parent / "MLproject"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train")
    parser.add_argument("--valid")
    parser.add_argument(
        "--model-folder", default=None, help="a saved model folder to score instead of training one"
    )
    parser.add_argument("--score", required=True, help="a labelled CSV (text, toxicity) scored both ways")
    parser.add_argument("--spans", default=None, help="a SemEval toxic-spans file: span F1 both ways")
    parser.add_argument("--base-model", default=None, help="default: train's")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.model_folder is None and (args.train is None or args.valid is None):
        parser.error("--train and --valid are needed unless --model-folder names a saved model")
    logging.basicConfig(level=logging.INFO)
    frame = pd.read_csv(args.score, keep_default_na=False)
    known = frame[frame["toxicity"].astype(str) != ""]
    texts = known["text"].astype(str).tolist()
    labels = (known["toxicity"].astype(float) >= 0.5).astype(int).to_numpy()
    if args.model_folder is not None:
        saved = Path(args.model_folder)
    else:
        overrides = {"base_model": args.base_model} if args.base_model else {}
        settings = proxy_settings(args.train, args.valid, Path(args.out) / "outputs", seed=4, **overrides)
        trained = train(TrainConfig.pick(project_defaults("train", MLPROJECT) | settings))
        assert trained is not None
        saved = trained.saved_folder
    all_texts = frame["text"].astype(str)
    lines: dict[str, object] = {"texts": len(all_texts)}
    for plain in (False, True):
        # The same weights, with only this setting changed in a copy of the saved folder.
        folder = Path(args.out) / f"plain_spelling={plain}"
        shutil.copytree(saved, folder, dirs_exist_ok=True)
        with_setting = InferenceSettings.read(folder).model_dump() | {"plain_spelling": plain}
        InferenceSettings.model_validate(with_setting).write(folder)
        model = ToxicityModel.from_folder(folder)
        if plain:  # how many texts the encoder reads otherwise than they were sent
            lines["changed"] = sum(model.reading(text).text != text for text in all_texts)
        report, _ = behaviour_report(lambda batch, model=model: model.score(batch)[:, 0])
        figures = {
            key.removeprefix("behaviour_heldout_"): round(value, 4)
            for key, value in report.items()
            if key.startswith("behaviour_heldout_") and ("obfuscated" in key or "agreeing" in key)
        }
        figures["toxicity_roc_auc"] = round(float(roc_auc_score(labels, model.score(texts)[:, 0])), 4)
        if args.spans is not None:
            figures |= {key: round(value, 4) for key, value in span_report(model, args.spans).items()}
        lines[f"plain_spelling={plain}"] = figures
    sys.stdout.write(json.dumps(lines) + "\n")


if __name__ == "__main__":
    main()
