"""The behavioural suite: held-out families never reach training, and the metrics read right."""

from __future__ import annotations

import numpy as np

from toxicity_pyfunc.jobs.behaviour import (
    AGREEING_FUNCTIONS,
    CLAIMS,
    FRAMES,
    HARMFUL_ADJECTIVES,
    HELD_OUT,
    VALIDATION,
    behaviour_examples,
    behaviour_report,
    compositional_frames,
    sentences,
)
from toxicity_pyfunc.served.labels import LABELS


def test_every_function_keeps_a_family_out_of_training() -> None:
    functions = {frame.function for frame in FRAMES}
    assert set(AGREEING_FUNCTIONS) <= functions
    for function in functions:
        families = {frame.family for frame in FRAMES if frame.function == function}
        assert families & HELD_OUT, function
        assert families & VALIDATION, function
        assert families - HELD_OUT - VALIDATION, function
    assert not HELD_OUT & VALIDATION


def test_training_examples_never_come_from_held_out_or_validation_families() -> None:
    suite = sentences()
    unseen_texts = set(suite.loc[suite["held_out"] | suite["validation"], "text"])
    for stratified in (False, True):
        examples = behaviour_examples(
            5000, np.random.default_rng(0), compositional=True, stratified=stratified
        )
        assert not set(examples["text"]) & unseen_texts
    assert set(examples.columns) >= {"text", *LABELS}
    harmless = examples["toxicity"] == 0
    assert harmless.any()
    assert (~harmless).any()


def test_functions_get_equal_shares_of_training_examples_unless_they_are_tiny() -> None:
    examples = behaviour_examples(10_000, np.random.default_rng(0))
    suite = sentences()
    counts = examples["text"].map(dict(zip(suite["text"], suite["function"], strict=True))).value_counts()
    assert set(counts.index) == {frame.function for frame in FRAMES}
    tiny = counts.pop("lookalike_words")  # six training sentences
    assert counts.min() > 0.8 * counts.max(), counts.to_dict()  # threats at a person as many as groups
    assert tiny < 0.2 * counts.min()


def test_sentences_are_filled_in() -> None:
    texts = sentences()["text"]
    assert not texts.str.contains(r"[{}\[\]]").any()
    assert texts.is_unique or texts.duplicated().mean() < 0.05


def test_a_perfect_scorer_passes_and_a_word_spotter_fails_where_it_should() -> None:
    suite = sentences()
    _, every_row = behaviour_report(lambda texts: np.zeros(len(texts)))
    truth = dict(zip(every_row["text"], every_row["toxic"], strict=False))

    def perfect(texts: list[str]) -> np.ndarray:
        return np.array([0.9 if truth[text] else 0.1 for text in texts])

    report, rows = behaviour_report(perfect)
    assert report["behaviour_heldout_agreeing_accuracy"] == 1.0
    assert report["behaviour_heldout_min_function_accuracy"] == 1.0
    assert report["behaviour_heldout_group_spread_max"] == 0.0
    assert report["behaviour_heldout_obfuscated_gap"] == 0.0
    assert report["behaviour_heldout_obfuscated_harmless_gap"] == 0.0
    assert len(rows) > len(suite)

    plain = set(suite["text"])

    def disguise_spotter(texts: list[str]) -> np.ndarray:  # right on plain text, flags any disguise
        return np.array([(0.9 if truth[text] else 0.1) if text in plain else 0.9 for text in texts])

    spotted_disguises, _ = behaviour_report(disguise_spotter)
    assert spotted_disguises["behaviour_heldout_obfuscated_gap"] == 0.0
    assert spotted_disguises["behaviour_heldout_obfuscated_harmless_gap"] == 1.0

    hateful_words = ("disgusting", "kill", "vermin", "hurt", "dirty")

    def spotter(texts: list[str]) -> np.ndarray:
        return np.array([0.9 if any(w in text.lower() for w in hateful_words) else 0.1 for text in texts])

    spotted, spotted_rows = behaviour_report(spotter)
    # Each prefix reads its own families alone: recompute the validation figure from its rows.
    validation_rows = spotted_rows.iloc[: len(suite)][suite["validation"].to_numpy()]
    agreeing = validation_rows[validation_rows["function"].isin(AGREEING_FUNCTIONS)]
    assert spotted["behaviour_validation_agreeing_accuracy"] == agreeing["correct"].mean()
    assert set(validation_rows["family"].str[-2:]) == {"/d"}
    assert spotted["behaviour_heldout_negated_hate_accuracy"] < 1.0  # "not disgusting" is flagged
    assert spotted["behaviour_heldout_threat_added_rises"] == 1.0  # "I will hurt them all" added


def test_compositional_examples_assert_and_deny_the_same_claims_only_when_asked() -> None:
    frames = compositional_frames()
    asserted = {frame.template for frame in frames if frame.toxic}
    denied = {frame.template for frame in frames if not frame.toxic}
    assert asserted
    assert denied
    assert all(any(claim in t for t in asserted) and any(claim in t for t in denied) for claim in CLAIMS)
    assert not {frame.family for frame in frames} & HELD_OUT
    held_out_texts = set(sentences().loc[lambda s: s["held_out"], "text"])
    plain = behaviour_examples(3000, np.random.default_rng(0))
    mixed = behaviour_examples(3000, np.random.default_rng(0), compositional=True)
    composed = set(sentences(list(frames))["text"])
    assert not set(plain["text"]) & composed
    from_claims = mixed[mixed["text"].isin(composed)]
    assert len(from_claims) > 100
    assert set(from_claims["toxicity"]) == {0.0, 1.0}  # both sides of the same claims
    assert not set(mixed["text"]) & held_out_texts
    at_things = [frame for frame in frames if frame.function == "abuse_objects"]
    assert {
        adjective for adjective in HARMFUL_ADJECTIVES if any(adjective in f.template for f in at_things)
    } == set(HARMFUL_ADJECTIVES)  # the words of the hateful frames, aimed at things
    assert all("{thing}" in f.template and not f.toxic for f in at_things)
    assert set(mixed.loc[mixed["text"].isin(set(sentences(at_things)["text"])), "insult"]) == {0.0}


def test_a_stratified_draw_gives_every_frame_its_even_share_and_repeats_no_filler_early() -> None:
    from toxicity_pyfunc.jobs.behaviour import _stratified_rows

    training = [frame for frame in FRAMES if frame.family not in HELD_OUT | VALIDATION]
    pool = sentences(training)
    rows = _stratified_rows(pool, 3000, np.random.default_rng(3))
    assert len(rows) == 3000
    drawn = pool.iloc[rows]
    assert len(behaviour_examples(3000, np.random.default_rng(3), stratified=True)) == 3000
    for function, group in drawn.groupby("function"):
        per_frame = group["frame"].value_counts()
        frames = pool.loc[pool["function"] == function, "frame"].nunique()
        assert len(per_frame) == frames, function  # no frame left out
        assert per_frame.max() - per_frame.min() <= 1, function
        fillers = pool.loc[pool["function"] == function].groupby("frame").size()
        for frame, count in per_frame.items():
            repeats = group.loc[group["frame"] == frame].index.value_counts()  # pool rows drawn
            assert repeats.max() <= -(-count // fillers[frame]), frame  # once each before twice
