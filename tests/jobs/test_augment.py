"""Anti-bias training data: counterfactual swaps, neutral identity sentences, source weights."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from toxicity_pyfunc.jobs.augment import (
    GENERATED_SOURCE,
    TRAINING_TEMPLATES,
    SourceWeightError,
    augment_for_fairness,
    counterfactual_copies,
    neutral_identity_examples,
    parse_source_weights,
    row_weights,
    swap_identities,
)
from toxicity_pyfunc.jobs.fairness import identity_templates
from toxicity_pyfunc.jobs.identities import SWAP_TARGETS
from toxicity_pyfunc.served.labels import LABELS


def labelled(texts: list[str], toxicity: list[float], source: str = "s") -> pd.DataFrame:
    frame = pd.DataFrame({"text": texts, "toxicity": toxicity})
    for label in LABELS[1:]:
        frame[label] = np.nan
    frame["source"] = source
    return frame


def test_swap_replaces_every_mention_keeping_case_and_number() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        swapped = swap_identities("Muslims and the gay couple. MUSLIMS!", rng)
        assert swapped is not None
        first, rest = swapped.split(" and the ", 1)
        assert first[0].isupper()
        assert first.lower() != "muslims"
        assert "gay couple" not in rest
        assert rest.endswith("!")
        assert rest.split(". ")[1][:-1].isupper()
        # plural nouns become plural forms ("jews", "deaf people"), never a bare adjective
        assert first.lower().endswith("s") or first.lower().endswith("people")


def test_swap_leaves_text_without_identity_alone() -> None:
    rng = np.random.default_rng(0)
    assert swap_identities("the old version of this article was better", rng) is None
    assert swap_identities("Gayle wrote a blackboard summary", rng) is None  # whole words only


def test_counterfactual_copies_keep_labels_and_source() -> None:
    frame = labelled(["I hate jews", "nice weather", "gay pride parade"], [1.0, 0.0, 0.0], "wiki")
    copies = counterfactual_copies(frame, 2, np.random.default_rng(1))
    assert len(copies) == 4  # two rows mention an identity, two copies each
    hateful = copies[copies["toxicity"] == 1.0]
    assert len(hateful) == 2
    assert all(t.startswith("I hate ") and t != "I hate jews" for t in hateful["text"])
    assert set(copies["source"]) == {"wiki"}
    assert counterfactual_copies(frame, 0, np.random.default_rng(1)).empty


def test_neutral_examples_are_harmless_labelled_and_not_evaluation_templates() -> None:
    examples = neutral_identity_examples(300, np.random.default_rng(0))
    assert len(examples) == 300
    assert (examples[list(LABELS)] == 0.0).all().all()
    assert set(examples["source"]) == {GENERATED_SOURCE}
    # The evaluation set stays held out: no training sentence is one of its sentences.
    every = neutral_identity_examples(len(TRAINING_TEMPLATES) * len(SWAP_TARGETS), np.random.default_rng(0))
    assert every["text"].nunique() == len(every)  # all combinations, each once
    assert not set(every["text"]) & set(identity_templates()["text"])
    assert all("{" not in text for text in examples["text"])


def test_augment_adds_rows_and_keeps_the_columns() -> None:
    frame = labelled(["I hate jews", "nice weather"], [1.0, 0.0])
    out = augment_for_fairness(frame, swaps=1, neutral_examples=5, rng=np.random.default_rng(0))
    assert list(out.columns) == list(frame.columns)
    assert len(out) == 2 + 1 + 5
    assert out.iloc[:2].equals(frame)


def test_source_weights_parse_and_apply(caplog: pytest.LogCaptureFixture) -> None:
    assert parse_source_weights("none") == {}
    assert parse_source_weights("") == {}
    weights = parse_source_weights("a=3, b=0.5")
    assert weights == {"a": 3.0, "b": 0.5}
    frame = labelled(["x", "y", "z"], [0.0, 1.0, 0.0])
    frame["source"] = ["a", "b", "c"]
    assert row_weights(frame, weights).tolist() == [3.0, 0.5, 1.0]
    with caplog.at_level(logging.WARNING):
        assert row_weights(frame, {"missing": 2.0}).tolist() == [1.0, 1.0, 1.0]
    assert "missing" in caplog.text


@pytest.mark.parametrize("spec", ["a", "a=", "=2", "a=-1", "a=lots"])
def test_bad_source_weights_say_what_to_write(spec: str) -> None:
    with pytest.raises(SourceWeightError, match="source=weight"):
        parse_source_weights(spec)
