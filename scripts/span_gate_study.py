"""What the ways of cutting words into spans do to the toxic-spans F1, for every model logged.

For each model: its scored words and six scores on a validation spans file (SemEval trial) and a
test spans file (SemEval test); on validation the cut is chosen as `train` chooses it
(`choose_span_cut`: word threshold and gate on the post's most toxic word), and beside it the
threshold alone and, for comparison, a gate on the post's toxicity score instead, and a ratio: a
word must also reach that share of the post's most toxic word (chosen with the threshold; tried
in a study, 2026-11-28, and not adopted: docs/model_card.md). The test file is scored with each
choice; it only reports, nothing is chosen on it. Writes one JSON line per model to stdout and,
with --dump, every post's words and scores (xz JSON); with --from-dump, the study is made again
from such a file instead of the models. Usage:

    python scripts/span_gate_study.py --valid tsd_trial.csv --test tsd_test.csv [--dump OUT.json.xz]
    python scripts/span_gate_study.py --from-dump OUT.json.xz
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
    part: dict[str, Any], threshold: float, gate: float | None, by_toxicity: bool, ratio: float = 0.0
) -> list[set[int]]:
    """Each post's predicted offsets: words at `threshold` (and `ratio` of the post's most toxic
    word), behind a gate on that word or (`by_toxicity`) on the post's toxicity score."""
    # A share of the post's most toxic word is the same as a higher threshold for that post.
    out = []
    for text, found, toxicity in zip(part["texts"], as_words(part["words"]), part["toxicity"], strict=True):
        if by_toxicity and gate is not None and toxicity < gate:
            out.append(set())
        else:
            strongest = max((score for _, _, score in found), default=0.0)
            own = max(threshold, ratio * strongest)
            out.append(characters(spans_from_words(text, found, own, None if by_toxicity else gate)))
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


RATIOS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def ratio_cut(part: dict[str, Any]) -> tuple[float, float, float]:
    """Threshold and ratio with the best F1 on these posts (ties: smaller ratio, threshold nearer
    0.5), and that F1."""
    gold = [set(g) for g in part["gold"]]
    scored = [
        ((span_breakdown(predicted(part, t, None, False, r), gold)["f1"], -r, -abs(t - 0.5)), t, r)
        for t in np.round(np.arange(0.05, 1.0, 0.05), 2).tolist()
        for r in RATIOS
    ]
    (f1, _, _), threshold, ratio = max(scored)
    return float(threshold), float(ratio), float(f1)


def study(name: str, valid: dict[str, Any], test: dict[str, Any]) -> dict[str, Any]:
    cut = choose_span_cut(valid["texts"], as_words(valid["words"]), [set(g) for g in valid["gold"]])
    alone = max(cut.f1_by_threshold, key=lambda t: (cut.f1_by_threshold[t], -abs(t - 0.5)))
    tox_gate = toxicity_gate(valid, alone)
    ratio_threshold, ratio, ratio_f1 = ratio_cut(valid)
    gold = [set(g) for g in test["gold"]]
    line: dict[str, Any] = {
        "model": name,
        "threshold_without_gate": alone,
        "threshold": cut.threshold,
        "gate": cut.gate,
        "toxicity_gate": tox_gate,
        "threshold_with_ratio": ratio_threshold,
        "ratio": ratio,
        "valid_f1_without_gate": round(cut.f1_by_threshold[alone], 4),
        "valid_f1_gate": round(cut.f1, 4),
        "valid_f1_ratio": round(ratio_f1, 4),
    }
    for label, (threshold, gate, by_toxicity, share) in {
        "without_gate": (alone, None, False, 0.0),
        "word_gate": (cut.threshold, cut.gate, False, 0.0),
        "toxicity_gate": (alone, tox_gate, True, 0.0),
        "ratio": (ratio_threshold, None, False, ratio),
    }.items():
        parts = span_breakdown(predicted(test, threshold, gate, by_toxicity, share), gold)
        line |= {f"test_{label}_{key}": round(value, 4) for key, value in parts.items()}
    return line


def from_dump(path: str) -> None:
    with lzma.open(path, "rt", encoding="utf-8") as handle:
        dumps = json.load(handle)
    lines = [study(name, parts["valid"], parts["test"]) for name, parts in dumps.items()]
    for line in lines:
        sys.stdout.write(json.dumps(line) + "\n")
    for label in ("without_gate", "word_gate", "ratio"):
        logger.info(
            "test span F1, %s: mean %.4f over %d models",
            label,
            float(np.mean([line[f"test_{label}_f1"] for line in lines])),
            len(lines),
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--valid")
    parser.add_argument("--test")
    parser.add_argument("--dump", default=None)
    parser.add_argument("--from-dump", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.from_dump:
        from_dump(args.from_dump)
        return
    if not (args.valid and args.test):
        parser.error("--valid and --test are needed unless --from-dump is given")
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
