"""Toxic-spans files, token labels from character offsets, and the task's F1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toxicity_pyfunc.jobs.data import DataValidationError
from toxicity_pyfunc.jobs.spans import (
    choose_span_cut,
    mean_span_f1,
    read_spans,
    span_breakdown,
    span_f1,
    token_labels,
)


def test_f1_is_the_tasks_per_post_character_f1() -> None:
    assert span_f1(set(), set()) == 1.0  # nothing to find, nothing found
    assert span_f1({1, 2}, set()) == 0.0
    assert span_f1(set(), {1, 2}) == 0.0
    assert span_f1({1, 2, 3, 4}, {3, 4, 5, 6}) == pytest.approx(0.5)


def test_the_breakdown_separates_posts_without_gold_offsets() -> None:
    gold = [set(), set(), {1, 2, 3, 4}, {10, 11}]
    predicted = [set(), {5}, {3, 4, 5, 6}, set()]
    parts = span_breakdown(predicted, gold)
    assert parts["gold_empty_share"] == 0.5
    assert parts["predicted_empty_share"] == 0.5
    assert parts["f1_gold_empty"] == 0.5  # one of the two left empty
    assert parts["f1_with_gold"] == pytest.approx(0.25)  # 0.5 and 0
    assert parts["precision_with_gold"] == pytest.approx(0.25)
    assert parts["recall_with_gold"] == pytest.approx(0.25)
    both_halves = (parts["f1_gold_empty"] + parts["f1_with_gold"]) / 2
    assert mean_span_f1(predicted, gold) == pytest.approx(both_halves)


def test_token_labels_follow_the_characters_and_skip_special_tokens() -> None:
    offsets = [(0, 0), (0, 3), (4, 9), (9, 10), (0, 0)]
    labels = token_labels(offsets, gold=set(range(4, 9)))
    assert labels[1:4].tolist() == [0.0, 1.0, 0.0]
    assert np.isnan(labels[[0, 4]]).all()  # special tokens: not learned


def test_reading_a_spans_file_names_bad_rows(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text('spans,text\n"[4, 5, 6, 7, 8]",you idiot\n"[]",hello\n', encoding="utf-8")
    frame = read_spans(good)
    assert frame["offsets"].tolist() == [[4, 5, 6, 7, 8], []]
    bad = tmp_path / "bad.csv"
    bad.write_text('spans,text\n"[4, 50]",you idiot\n"oops",hello\n', encoding="utf-8")
    with pytest.raises(DataValidationError, match="rows 1, 2"):
        read_spans(bad)
    (tmp_path / "no.csv").write_text("text\nhi\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="missing column"):
        read_spans(tmp_path / "no.csv")


def test_the_threshold_with_the_best_f1_is_chosen() -> None:
    texts = ["you idiot", "nice day"]
    words = [[(0, 3, 0.3), (4, 9, 0.7)], [(0, 4, 0.4), (5, 8, 0.1)]]
    gold = [set(range(4, 9)), set()]
    cut = choose_span_cut(texts, words, gold)
    assert 0.4 < cut.threshold <= 0.7
    assert cut.gate is None  # the threshold alone is perfect: no gate
    assert cut.f1 == cut.f1_by_threshold[cut.threshold] == 1.0
    assert cut.f1_by_threshold[0.05] < 1.0


def test_a_gate_is_chosen_when_posts_without_gold_have_only_middling_words() -> None:
    # Both posts have the same middling word; only the one with a clearly toxic word has gold.
    texts = ["you idiot dummy", "what a dummy"]
    words = [[(0, 3, 0.1), (4, 9, 0.95), (10, 15, 0.6)], [(0, 4, 0.1), (5, 6, 0.1), (7, 12, 0.6)]]
    gold = [set(range(4, 15)), set()]
    cut = choose_span_cut(texts, words, gold)
    assert cut.gate is not None
    assert 0.6 < cut.gate <= 0.95
    assert cut.threshold <= 0.6  # "dummy" stays in the first post's span
    assert cut.f1 == 1.0
    assert cut.f1_by_threshold[cut.threshold] == 0.5  # without the gate the second post scores 0
