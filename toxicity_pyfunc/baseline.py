"""TF-IDF + logistic regression: the cheap model every evaluation is compared against."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from toxicity_pyfunc.labels import LABELS
from toxicity_pyfunc.metrics import POSITIVE_AT

logger = logging.getLogger(__name__)


def baseline_scores(train: pd.DataFrame, test_texts: list[str], seed: int = 0) -> np.ndarray:
    """Fit one logistic regression per label on the rows that know it; score the test texts.

    A label the train file never shows both classes for gets NaN scores, not a guess.
    """
    vectorizer = TfidfVectorizer(
        sublinear_tf=True, ngram_range=(1, 2), min_df=2, max_features=200_000, strip_accents="unicode"
    )
    train_matrix = vectorizer.fit_transform(train["text"])
    test_matrix = vectorizer.transform(test_texts)
    scores = np.full((len(test_texts), len(LABELS)), np.nan, dtype=np.float32)
    for column, label in enumerate(LABELS):
        known = train[label].notna().to_numpy()
        truth = (train.loc[known, label].to_numpy() >= POSITIVE_AT).astype(int)
        if truth.size == 0 or truth.min() == truth.max():
            logger.warning("baseline: label %s has too few labelled classes in train; skipped", label)
            continue
        classifier = LogisticRegression(C=4.0, max_iter=1000, class_weight="balanced", random_state=seed)
        classifier.fit(train_matrix[known], truth)
        scores[:, column] = classifier.predict_proba(test_matrix)[:, 1]
    return scores
