"""Tables of a GPU study from the runs.json that scripts/run_summary.py wrote.

A recipe's runs are named NAME<seed> (base42, dist7, ...): rows per run, then the mean (and
standard deviation) per recipe, for the evaluate runs' figures; `--epochs` prints the per-epoch
history of the train runs instead. Used for the tables of docs/model_card.md.
Usage: python scripts/study_table.py RUNS_JSON [--epochs METRIC]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

COLUMNS = {
    "held-out agreeing": "behaviour_heldout_agreeing_accuracy",
    "lowest function": "behaviour_heldout_min_function_accuracy",
    "negated hate": "behaviour_heldout_negated_hate_accuracy",
    "implicit derogation": "behaviour_heldout_derogation_implicit_accuracy",
    "positive mentions": "behaviour_heldout_positive_identity_accuracy",
    "threat at a group": "behaviour_heldout_threat_group_accuracy",
    "counter speech": "behaviour_heldout_counter_speech_accuracy",
    "obfuscation gap": "behaviour_heldout_obfuscated_gap",
    "validation agreeing": "behaviour_validation_agreeing_accuracy",
    "templates flagged": "templates_false_positive_rate_at_model_threshold",
    "six-label test": "test_source_jigsaw_wiki_6label_samples_mean_roc_auc",
    "toxicity test": "test_toxicity_roc_auc",
    "span F1 test": "test_span_f1",
}
EVALUATE = "-evaluate"


def line(text: str) -> None:
    sys.stdout.write(text + "\n")


def recipe(name: str) -> str:
    return re.sub(r"\d+$", "", name)


def figures(runs: list[dict]) -> None:
    evaluated = {
        run["name"].removesuffix(EVALUATE): run["metrics"] for run in runs if run["name"].endswith(EVALUATE)
    }
    line("| run | " + " | ".join(COLUMNS) + " |")
    line("|---" * (len(COLUMNS) + 1) + "|")
    groups: dict[str, list[dict]] = {}
    for name in sorted(evaluated, key=lambda n: (recipe(n), n)):
        metrics = evaluated[name]
        groups.setdefault(recipe(name), []).append(metrics)
        line(
            f"| {name} | "
            + " | ".join(f"{metrics.get(key, float('nan')):.3f}" for key in COLUMNS.values())
            + " |"
        )
    for group, members in groups.items():
        cells = []
        for key in COLUMNS.values():
            values = [m[key] for m in members if key in m]
            spread = f" ({statistics.stdev(values):.3f})" if len(values) > 1 else ""
            cells.append(f"{statistics.mean(values):.3f}{spread}" if values else "")
        line(f"| {group}, mean of {len(members)} | " + " | ".join(cells) + " |")


def epochs(runs: list[dict], metric: str) -> None:
    for run in sorted((r for r in runs if not r["name"].endswith(EVALUATE)), key=lambda r: r["name"]):
        values = run.get("history", {}).get(metric) or []  # one value a step, in step order
        line(run["name"] + " " + " ".join(f"{value:.3f}" for value in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs_json", type=Path)
    parser.add_argument("--epochs", metavar="METRIC", help="per-epoch history of a train metric")
    args = parser.parse_args()
    runs = json.loads(args.runs_json.read_text())
    if args.epochs:
        epochs(runs, args.epochs)
    else:
        figures(runs)


if __name__ == "__main__":
    main()
