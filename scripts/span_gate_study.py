"""What a post gate does to the toxic-spans F1, for every model an MLflow store logged.

For each model: its scored words and six scores on a validation spans file (SemEval trial) and a
test spans file (SemEval test); on validation the word threshold and the gate are chosen
(`choose_span_cut`: the gate on the post's most toxic word, as `train` does; and, for comparison,
a gate on the post's toxicity score instead), and the test file is scored with each choice and
with no gate. The test file only reports; nothing is chosen on it. Writes one JSON line per model
to stdout and, with --dump, every post's words and scores (xz JSON) for further analysis. Usage:

    python scripts/span_gate_study.py --valid tsd_trial.csv --test tsd_test.csv [--dump OUT.json.xz]
"""

from __future__ import annotations

import argparse
import json
import logging
import lzma
import sys
from collections.abc import Sequence
from typing import Any

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient

from toxicity_pyfunc.jobs.evaluation import served_model
from toxicity_pyfunc.jobs.spans import choose_span_cut, read_spans, span_breakdown
from toxicity_pyfunc.served.spans import Word, characters, spans_from_words

logger = logging.getLogger("span_gate_study")


def scored_posts(model: Any, path: str) -> dict[str, Any]:
    posts = read_spans(path)
    texts = posts["text"].tolist()
    scored = served_model(model).analyze(texts, spans=True)
    assert scored.words is not None
    return {
        "texts": texts,
        "gold": [sorted(offsets) for offsets in posts["offsets"]],
        "words": [[list(word) for word in words] for words in scored.words],
        "toxicity": scored.scores[:, 0].round(5).tolist(),
    }


def as_words(raw: Sequence[Sequence[Sequence[float]]]) -> list[list[Word]]:
    return [[(int(begin), int(end), float(score)) for begin, end, score in found] for found in raw]


def predicted(
    part: dict[str, Any], threshold: float, gate: float | None, by_toxicity: bool
) -> list[set[int]]:
    """Each post's predicted offsets: words at `threshold`, behind a gate on the post's most toxic
    word or (`by_toxicity`) on its toxicity score."""
    out = []
    for text, found, toxicity in zip(part["texts"], as_words(part["words"]), part["toxicity"], strict=True):
        if by_toxicity and gate is not None and toxicity < gate:
            out.append(set())
        else:
            out.append(characters(spans_from_words(text, found, threshold, None if by_toxicity else gate)))
    return out


def toxicity_gate(part: dict[str, Any], threshold: float) -> float | None:
    """The toxicity score below which a post gets no span, best on these posts (None: no gate)."""
    gold = [set(g) for g in part["gold"]]
    best: tuple[float, float | None] = (
        span_breakdown(predicted(part, threshold, None, True), gold)["f1"],
        None,
    )
    for gate in np.round(np.arange(0.05, 1.0, 0.05), 2):
        f1 = span_breakdown(predicted(part, threshold, float(gate), True), gold)["f1"]
        if f1 > best[0] + 1e-10:
            best = (f1, float(gate))
    return best[1]


def study(name: str, valid: dict[str, Any], test: dict[str, Any]) -> dict[str, Any]:
    cut = choose_span_cut(valid["texts"], as_words(valid["words"]), [set(g) for g in valid["gold"]])
    ungated_threshold = max(cut.f1_by_threshold, key=lambda t: (cut.f1_by_threshold[t], -abs(t - 0.5)))
    tox_gate = toxicity_gate(valid, ungated_threshold)
    gold = [set(g) for g in test["gold"]]
    line: dict[str, Any] = {
        "model": name,
        "threshold_without_gate": ungated_threshold,
        "threshold": cut.threshold,
        "gate": cut.gate,
        "toxicity_gate": tox_gate,
        "valid_f1_without_gate": round(cut.f1_by_threshold[ungated_threshold], 4),
        "valid_f1_gate": round(cut.f1, 4),
    }
    for label, (threshold, gate, by_toxicity) in {
        "without_gate": (ungated_threshold, None, False),
        "word_gate": (cut.threshold, cut.gate, False),
        "toxicity_gate": (ungated_threshold, tox_gate, True),
    }.items():
        parts = span_breakdown(predicted(test, threshold, gate, by_toxicity), gold)
        line |= {f"test_{label}_{key}": round(value, 4) for key, value in parts.items()}
    return line


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--valid", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--dump", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    client = MlflowClient()
    dumps: dict[str, Any] = {}
    experiments = [e.experiment_id for e in client.search_experiments()]
    for logged in mlflow.search_logged_models(experiment_ids=experiments, output_format="list"):
        run = client.get_run(logged.source_run_id) if logged.source_run_id else None
        name = run.data.tags.get("mlflow.runName", logged.model_id) if run else logged.model_id
        model = mlflow.pyfunc.load_model(f"models:/{logged.model_id}")
        if not served_model(model).has_spans:
            continue
        valid, test = scored_posts(model, args.valid), scored_posts(model, args.test)
        sys.stdout.write(json.dumps(study(name, valid, test)) + "\n")
        sys.stdout.flush()
        dumps[name] = {"valid": valid, "test": test}
    if args.dump:
        with lzma.open(args.dump, "wt", encoding="utf-8") as handle:
            json.dump(dumps, handle)


if __name__ == "__main__":
    main()
