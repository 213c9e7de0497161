"""The TF-IDF companion's scoring half, and the blend with the encoder.

The encoder learns the rare labels (threat, identity_attack) from few examples; a linear model
on word n-grams holds on to their explicit vocabulary. `train` fits one beside the encoder and
blends the two in logit space with a weight chosen on the validation file (0: encoder alone).
It is stored as plain arrays (vocabulary, idf, coefficients), not a pickle, so a logged model
loads under any scikit-learn version; fitting lives on the training side.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit, logit
from sklearn.feature_extraction.text import TfidfVectorizer

from toxicity_pyfunc.served.labels import LABELS

VOCABULARY_FILE = "lexical.json"
ARRAYS_FILE = "lexical.npz"
# The word view every companion has; a companion may add a character view (`CHAR_SETTINGS`).
# Shared by the fit (training side) and the analyzers here: the same features both ways.
VECTORIZER_SETTINGS: dict[str, Any] = {
    "sublinear_tf": True,
    "ngram_range": (1, 2),
    "strip_accents": "unicode",
}
CHAR_SETTINGS: dict[str, Any] = {
    "sublinear_tf": True,
    "analyzer": "char_wb",
    "ngram_range": (2, 5),
    "strip_accents": "unicode",
}
_PROBABILITY_FLOOR = 1e-7  # logit(0) is -inf: probabilities are kept this far from 0 and 1


@dataclass
class LexicalView:
    """One family of TF-IDF features (word n-grams, or character n-grams) and its coefficients."""

    settings: dict[str, Any]
    vocabulary: dict[str, int]
    idf: np.ndarray  # features
    coef: np.ndarray  # labels x features
    _analyze: Any = field(init=False, repr=False)
    _term_weights: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._analyze = TfidfVectorizer(**self.settings).build_analyzer()
        self._term_weights = np.ascontiguousarray(self.coef.T)  # one row of label weights per term

    def partial_logits(self, text: str) -> np.ndarray | None:
        """This view's share of the log-odds (None when the text has none of its terms)."""
        counts = Counter(
            index for index in map(self.vocabulary.get, self._analyze(text)) if index is not None
        )
        if not counts:
            return None
        indices = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        term_counts = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        values = (1.0 + np.log(term_counts)) * self.idf[indices]  # sublinear tf x idf
        values /= np.linalg.norm(values)
        partial: np.ndarray = values @ self._term_weights[indices]
        return partial


@dataclass
class LexicalScorer:
    """One logistic regression per label over one or more TF-IDF views, as plain arrays.

    A label the training rows never show both classes of has NaN coefficients: it has no
    lexical score, and a blend leaves that label to the encoder.
    """

    views: list[LexicalView]
    intercept: np.ndarray  # labels

    def logits(self, texts: list[str]) -> np.ndarray:
        """Log-odds per text and label (NaN for a label without a lexical model).

        The same numbers as scikit-learn's transform and decision function, computed text by
        text: one short text takes tens of microseconds instead of milliseconds of input checks.
        """
        out = np.empty((len(texts), len(LABELS)), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self.intercept
            for view in self.views:
                partial = view.partial_logits(text)
                if partial is not None:
                    out[row] += partial
        return out

    def probabilities(self, texts: list[str]) -> np.ndarray:
        probabilities: np.ndarray = expit(self.logits(texts))
        return probabilities

    @classmethod
    def load(cls, folder: Path) -> LexicalScorer:
        stored = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        if stored["labels"] != list(LABELS):
            raise ValueError(
                f"{folder / VOCABULARY_FILE} was fitted for labels {stored['labels']}, not {list(LABELS)}"
            )
        arrays = np.load(folder / ARRAYS_FILE, allow_pickle=False)
        if "views" not in stored:  # saved before character views: one word view
            vocabulary = {term: index for index, term in enumerate(stored["terms"])}
            return cls(
                [LexicalView(VECTORIZER_SETTINGS, vocabulary, arrays["idf"], arrays["coef"])],
                arrays["intercept"],
            )
        views = [
            LexicalView(
                {
                    key: tuple(value) if isinstance(value, list) else value
                    for key, value in view["settings"].items()
                },
                {term: index for index, term in enumerate(view["terms"])},
                arrays[f"idf_{number}"],
                arrays[f"coef_{number}"],
            )
            for number, view in enumerate(stored["views"])
        ]
        return cls(views, arrays["intercept"])


def blend(encoder_probabilities: np.ndarray, lexical_logits: np.ndarray, weight: float) -> np.ndarray:
    """sigmoid((1 - w) * encoder logit + w * lexical logit).

    A label without a lexical score (NaN) keeps the encoder's probability.
    """
    if weight == 0.0:
        return encoder_probabilities
    clipped = np.clip(encoder_probabilities.astype(np.float64), _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
    encoder_logits = logit(clipped)
    mixed = (1.0 - weight) * encoder_logits + weight * lexical_logits
    blended: np.ndarray = expit(np.where(np.isnan(lexical_logits), encoder_logits, mixed))
    return blended
