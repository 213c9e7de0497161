"""Disguised spellings: each kind changes one word the way abusers do, and copies keep their labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toxicity_pyfunc.jobs.obfuscate import (
    PERTURBATIONS,
    disguised_harmless_copies,
    obfuscated_copies,
    perturb,
    toxic_vocabulary,
)
from toxicity_pyfunc.served.labels import LABELS


@pytest.mark.parametrize("kind", sorted(PERTURBATIONS))
def test_each_kind_changes_the_word_and_keeps_it_recognisable(kind: str) -> None:
    rng = np.random.default_rng(0)
    changed = PERTURBATIONS[kind]("disgusting", rng)
    assert changed != "disgusting"
    assert changed[0] == "d"
    assert changed[-1] == "g"


def test_only_target_words_are_changed_and_joining_removes_a_space() -> None:
    rng = np.random.default_rng(1)
    text = "they are disgusting people"
    assert perturb(text, {"nothing"}, rng) is None
    for _ in range(20):
        changed = perturb(text, {"disgusting"}, rng)
        assert changed is not None
        assert changed.startswith("they are") or changed.startswith("they aredisgusting")
        assert changed.endswith(" people")
    assert perturb(text, {"disgusting"}, rng, "joined") == "they aredisgusting people"


def _frame() -> pd.DataFrame:
    toxic = ["you absolute moron"] * 30 + ["what a moron you are"] * 10
    kind = ["have a lovely day"] * 40
    frame = pd.DataFrame({"text": toxic + kind, **{label: np.nan for label in LABELS}})
    frame["toxicity"] = [1.0] * 40 + [0.0] * 40
    frame["insult"] = frame["toxicity"]
    return frame


def test_the_toxic_words_are_learned_from_the_rows() -> None:
    assert "moron" in toxic_vocabulary(_frame())
    assert "lovely" not in toxic_vocabulary(_frame())


def test_copies_disguise_a_toxic_word_and_keep_the_labels() -> None:
    frame = _frame()
    copies = obfuscated_copies(frame, 0.5, np.random.default_rng(0))
    assert len(copies) == 20
    assert not copies["text"].isin(frame["text"]).any()
    assert (copies["toxicity"] == 1.0).all()
    assert (copies["insult"] == 1.0).all()
    assert obfuscated_copies(frame, 0.0, np.random.default_rng(0)).empty


def test_harmless_copies_disguise_a_word_of_harmless_rows_only() -> None:
    frame = _frame()
    frame.loc[len(frame)] = {"text": "label unknown here", **{label: np.nan for label in LABELS}}
    copies = disguised_harmless_copies(frame, 25, np.random.default_rng(0))
    assert 20 <= len(copies) <= 25  # a space removed before a first word is no disguise: skipped
    assert (copies["toxicity"] == 0.0).all()  # never a toxic row, never one whose toxicity is unknown
    assert not copies["text"].isin(frame["text"]).any()
    words_changed = {word for text in copies["text"] for word in ("have", "lovely") if word not in text}
    assert words_changed == {"have", "lovely"}  # any word of four letters or more, not one list
    assert disguised_harmless_copies(frame, 0, np.random.default_rng(0)).empty
