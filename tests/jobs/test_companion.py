"""The TF-IDF companion's training half: fitting on known cells, plain-array storage, the blend weight."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toxicity_pyfunc.jobs.training.companion import choose_blend_weight, fit_lexical, save_lexical
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.lexical import (
    ARRAYS_FILE,
    CHAR_SETTINGS,
    VECTORIZER_SETTINGS,
    VOCABULARY_FILE,
    WHOLE_REQUEST_FROM,
    LexicalScorer,
)

TOXIC = ["you are a stupid idiot", "shut up you idiot", "what a stupid moron", "idiot troll go away"]
KIND = ["thanks for the help", "have a nice day", "great edit thank you", "nice work on the article"]


def _frame() -> pd.DataFrame:
    """Toxicity known everywhere, insult only on half the rows, threat never positive."""
    texts = (TOXIC + KIND) * 3
    truth = ([1.0] * len(TOXIC) + [0.0] * len(KIND)) * 3
    frame = pd.DataFrame({"text": texts, **{label: np.nan for label in LABELS}})
    frame["toxicity"] = truth
    frame.loc[: len(frame) // 2 - 1, "insult"] = frame["toxicity"]
    frame["threat"] = 0.0
    return frame


def test_learns_known_cells_and_leaves_one_class_labels_without_a_score() -> None:
    model = fit_lexical(_frame())
    logits = model.logits(["you stupid idiot", "thank you, nice day"])
    toxicity, insult, threat = (LABELS.index(name) for name in ("toxicity", "insult", "threat"))
    assert logits[0, toxicity] > logits[1, toxicity]
    assert logits[0, insult] > logits[1, insult]
    assert np.isnan(logits[:, threat]).all()  # only negatives seen: no guess
    assert model.logits([]).shape == (0, len(LABELS))


@pytest.mark.parametrize("char_ngrams", [False, True])
def test_scores_equal_scikit_learns_transform_and_decision_function(char_ngrams: bool) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    model = fit_lexical(_frame(), char_ngrams=char_ngrams)
    assert [view.settings for view in model.views] == [VECTORIZER_SETTINGS] + (
        [CHAR_SETTINGS] if char_ngrams else []
    )
    texts = ["You STUPID idiot, idiot!", "thanks - have a nice day", "Ünïcödé idiot", "", "no known words"]
    # A few texts are scored one by one; a request from WHOLE_REQUEST_FROM texts on is counted at
    # once: both must be scikit-learn's numbers. The large request has what the counting must get
    # right: bigrams across punctuation and lines but not across an unknown word or two texts,
    # repeated terms, accents and case, texts with no known word, one-letter words.
    request = [
        *texts,
        "stupid idiot",
        "stupid, idiot.\nstupid\tidiot",
        "stupid xyzzy idiot",
        "idiot",
        "stupid",
        "idiot idiot idiot idiot stupid",
        "Stüpid IDIOT a b c",
        "   ",
        "a nice day, thank you - great edit",
        "shut up you idiot troll",
    ]
    assert len(request) >= WHOLE_REQUEST_FROM > len(texts)
    for batch in (texts, request):
        expected = np.tile(model.intercept, (len(batch), 1))
        for view in model.views:
            reference = TfidfVectorizer(vocabulary=view.vocabulary, **view.settings)
            reference.idf_ = view.idf
            expected = expected + reference.transform(batch) @ view.coef.T
        np.testing.assert_allclose(model.logits(batch), expected, rtol=1e-5, atol=1e-5)


def test_character_ngrams_still_match_a_disguised_word() -> None:
    words_only, with_chars = fit_lexical(_frame()), fit_lexical(_frame(), char_ngrams=True)
    disguised = ["stuupid idi0t"]
    assert words_only.logits(disguised)[0, 0] == pytest.approx(words_only.intercept[0])  # no word known
    assert with_chars.logits(disguised)[0, 0] > with_chars.logits(["thanks, have a nice day"])[0, 0]


def test_row_weights_change_what_it_learns() -> None:
    frame = _frame()
    heavy_on_kind = np.where(frame["toxicity"] == 0, 10.0, 1.0).astype(np.float32)
    plain = fit_lexical(frame).probabilities(["idiot"])[0, 0]
    weighted = fit_lexical(frame, heavy_on_kind).probabilities(["idiot"])[0, 0]
    assert weighted < plain


def test_saved_as_plain_arrays_and_reloaded_to_the_same_scores(tmp_path: Path) -> None:
    model = fit_lexical(_frame())
    save_lexical(model, tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([ARRAYS_FILE, VOCABULARY_FILE])
    stored = json.loads((tmp_path / VOCABULARY_FILE).read_text())
    assert stored["labels"] == list(LABELS)
    assert "idiot" in stored["views"][0]["terms"]
    arrays = np.load(tmp_path / ARRAYS_FILE, allow_pickle=False)  # raises on pickled objects
    assert {arrays[name].dtype.kind for name in arrays.files} == {"f"}
    texts = ["you stupid idiot", "thanks, have a nice day", "words it never saw"]
    np.testing.assert_allclose(LexicalScorer.load(tmp_path).logits(texts), model.logits(texts), rtol=1e-6)


def test_loading_for_other_labels_says_so(tmp_path: Path) -> None:
    save_lexical(fit_lexical(_frame()), tmp_path)
    stored = json.loads((tmp_path / VOCABULARY_FILE).read_text())
    stored["labels"] = ["toxic", "other"]
    (tmp_path / VOCABULARY_FILE).write_text(json.dumps(stored))
    with pytest.raises(ValueError, match=r"lexical.json was fitted for labels \['toxic', 'other'\]"):
        LexicalScorer.load(tmp_path)


def test_blend_weight_goes_where_validation_says() -> None:
    rng = np.random.default_rng(0)
    truth = np.tile([1.0, 0.0], 50)
    targets = np.full((truth.size, len(LABELS)), np.nan)
    targets[:, 0] = truth
    useless = rng.uniform(size=(truth.size, len(LABELS)))
    informative = np.where(truth[:, None] == 1, 2.0, -2.0) + rng.normal(0, 0.5, (truth.size, len(LABELS)))
    weight, scores = choose_blend_weight(useless, informative, targets, max_weight=0.5)
    assert weight > 0.0
    assert scores[weight] > scores[0.0]
    assert max(scores) == pytest.approx(0.5)
    perfect = np.where(truth[:, None] == 1, 0.9, 0.1) * np.ones((1, len(LABELS)))
    weight, _ = choose_blend_weight(perfect, rng.normal(size=perfect.shape), targets, max_weight=0.5)
    assert weight == 0.0  # ties and losses go to the encoder alone


def test_an_identity_blind_companion_gives_group_names_no_weight() -> None:
    frame = _frame()
    hateful = pd.DataFrame({"text": ["muslims are stupid idiots", "gay people are a disgusting plague"] * 3})
    hateful[list(LABELS)] = np.nan
    hateful["toxicity"] = 1.0
    frame = pd.concat([frame, hateful], ignore_index=True)
    plain, blind = fit_lexical(frame), fit_lexical(frame, identity_blind=True)
    toxicity = LABELS.index("toxicity")
    names = ["muslims", "gay", "Muslims!"]
    assert (plain.logits(names)[:, toxicity] > plain.intercept[toxicity]).all()  # learned as abuse
    np.testing.assert_allclose(blind.logits(names)[:, toxicity], blind.intercept[toxicity])
    words = blind.views[0]
    assert words.coef[toxicity, words.vocabulary["gay people"]] == 0.0
    assert words.coef[toxicity, words.vocabulary["idiots"]] > 0.0  # the abuse itself still counts
