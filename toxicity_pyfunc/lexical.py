"""Word n-gram TF-IDF + logistic regression: the evaluation baseline, and the encoder's companion.

The encoder learns the rare labels (threat, identity_attack) from few examples; a linear model
on word n-grams holds on to their explicit vocabulary. `train` fits one beside the encoder and
blends the two in logit space with a weight chosen on the validation file (0: encoder alone).
The fitted model is stored as plain arrays (vocabulary, idf, coefficients), not a pickle, so a
logged model loads under any scikit-learn version.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from toxicity_pyfunc.labels import LABELS
from toxicity_pyfunc.metrics import known_binary, label_metrics

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "lexical.json"
ARRAYS_FILE = "lexical.npz"
VECTORIZER_SETTINGS = {"sublinear_tf": True, "ngram_range": (1, 2), "strip_accents": "unicode"}
_PROBABILITY_FLOOR = 1e-7  # logit(0) is -inf: probabilities are kept this far from 0 and 1


@dataclass
class LexicalModel:
    """One logistic regression per label over shared TF-IDF features.

    A label the training rows never show both classes of has NaN coefficients: it has no
    lexical score, and a blend leaves that label to the encoder.
    """

    vocabulary: dict[str, int]
    idf: np.ndarray  # features
    coef: np.ndarray  # labels x features
    intercept: np.ndarray  # labels

    def __post_init__(self) -> None:
        self._analyze = TfidfVectorizer(**VECTORIZER_SETTINGS).build_analyzer()
        self._term_weights = np.ascontiguousarray(self.coef.T)  # one row of label weights per term

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        row_weights: np.ndarray | None = None,
        *,
        balanced: bool = False,
        max_features: int = 200_000,
        seed: int = 0,
    ) -> LexicalModel:
        """Fit on the rows that know each label (cut at 0.5).

        `balanced` reweights the classes (the baseline's ranking-only setting); the companion
        keeps the classes as they come, so its probabilities stay calibrated.
        """
        vectorizer = TfidfVectorizer(min_df=2, max_features=max_features, **VECTORIZER_SETTINGS)
        matrix = vectorizer.fit_transform(frame["text"])
        targets = frame[list(LABELS)].to_numpy(np.float32)
        coef = np.full((len(LABELS), matrix.shape[1]), np.nan, dtype=np.float32)
        intercept = np.full(len(LABELS), np.nan, dtype=np.float32)
        for column, label in enumerate(LABELS):
            known, truth = known_binary(targets, column)
            if truth.size == 0 or truth.min() == truth.max():
                logger.warning("lexical model: label %s lacks one of its classes in training; skipped", label)
                continue
            classifier = LogisticRegression(
                C=4.0, max_iter=1000, class_weight="balanced" if balanced else None, random_state=seed
            )
            classifier.fit(
                matrix[known], truth, sample_weight=None if row_weights is None else row_weights[known]
            )
            coef[column], intercept[column] = classifier.coef_[0], classifier.intercept_[0]
        vocabulary = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
        return cls(vocabulary, vectorizer.idf_.astype(np.float32), coef, intercept)

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
        return expit(self.logits(texts))

    def save(self, folder: Path) -> None:
        """Vocabulary as JSON, idf and coefficients as arrays."""
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        (folder / VOCABULARY_FILE).write_text(json.dumps({"labels": list(LABELS), "terms": terms}))
        np.savez_compressed(folder / ARRAYS_FILE, idf=self.idf, coef=self.coef, intercept=self.intercept)

    @classmethod
    def load(cls, folder: Path) -> LexicalModel:
        stored = json.loads((folder / VOCABULARY_FILE).read_text())
        if stored["labels"] != list(LABELS):
            raise ValueError(
                f"{folder / VOCABULARY_FILE} was fitted for labels {stored['labels']}, not {list(LABELS)}"
            )
        arrays = np.load(folder / ARRAYS_FILE)
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
    return expit(np.where(np.isnan(lexical_logits), encoder_logits, mixed))


def choose_blend_weight(
    encoder_probabilities: np.ndarray,
    lexical_logits: np.ndarray,
    targets: np.ndarray,
    max_weight: float,
    step: float = 0.05,
) -> tuple[float, dict[float, float]]:
    """The weight in [0, max_weight] with the best mean validation ROC-AUC, and every weight's score.

    Ties go to the smaller weight: the lexical model has to earn its place.
    """
    candidates = np.round(np.arange(0.0, max_weight + step / 2, step), 4)
    scores = {
        float(weight): label_metrics(targets, blend(encoder_probabilities, lexical_logits, float(weight)))[
            "mean_roc_auc"
        ]
        for weight in candidates
    }
    best = max(scores, key=lambda weight: (scores[weight], -weight))
    return best, scores
