"""TF-IDF + logistic regression: the cheap model every evaluation is compared against."""

from __future__ import annotations

import numpy as np
import pandas as pd

from toxicity_pyfunc.jobs.training.companion import fit_lexical


def baseline_scores(train: pd.DataFrame, test_texts: list[str], seed: int = 0) -> np.ndarray:
    """Fit one class-balanced logistic regression per label on the rows that know it; score the test texts.

    A label the train file never shows both classes for gets NaN scores, not a guess.
    """
    return fit_lexical(train, balanced=True, seed=seed).probabilities(test_texts)
