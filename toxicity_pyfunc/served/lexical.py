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
# Shared by the fit (training side) and the analyzer here: the same tokens both ways.
VECTORIZER_SETTINGS: dict[str, Any] = {
    "sublinear_tf": True,
    "ngram_range": (1, 2),
    "strip_accents": "unicode",
}
_PROBABILITY_FLOOR = 1e-7  # logit(0) is -inf: probabilities are kept this far from 0 and 1


@dataclass
class LexicalScorer:
    """One logistic regression per label over shared TF-IDF features, as plain arrays.

    A label the training rows never show both classes of has NaN coefficients: it has no
    lexical score, and a blend leaves that label to the encoder.
    """

    vocabulary: dict[str, int]
    idf: np.ndarray  # features
    coef: np.ndarray  # labels x features
    intercept: np.ndarray  # labels
    _analyze: Any = field(init=False, repr=False)
    _term_weights: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._analyze = TfidfVectorizer(**VECTORIZER_SETTINGS).build_analyzer()
        self._term_weights = np.ascontiguousarray(self.coef.T)  # one row of label weights per term

    def logits(self, texts: list[str]) -> np.ndarray:
        """Log-odds per text and label (NaN for a label without a lexical model).

        The same numbers as scikit-learn's transform and decision function, computed text by
        text: one short text takes tens of microseconds instead of milliseconds of input checks.
        """
        out = np.empty((len(texts), len(LABELS)), dtype=np.float32)
        for row, text in enumerate(texts):
            counts = Counter(
                index for index in map(self.vocabulary.get, self._analyze(text)) if index is not None
            )
            if not counts:
                out[row] = self.intercept
                continue
            indices = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            term_counts = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            values = (1.0 + np.log(term_counts)) * self.idf[indices]  # sublinear tf x idf
            values /= np.linalg.norm(values)
            out[row] = values @ self._term_weights[indices] + self.intercept
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
        vocabulary = {term: index for index, term in enumerate(stored["terms"])}
        return cls(vocabulary, arrays["idf"], arrays["coef"], arrays["intercept"])


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
