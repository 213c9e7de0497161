"""The TF-IDF companion's training half: fit on the training rows, choose its blend weight, save.

The scoring half (`served.lexical`) reads what `save` writes: vocabulary as JSON, idf and
coefficients as arrays, never a pickle.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.sparse import diags, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from toxicity_pyfunc.jobs.config import TrainConfig
from toxicity_pyfunc.jobs.fairness import identity_report, identity_templates
from toxicity_pyfunc.jobs.identities import SWAP_TARGETS
from toxicity_pyfunc.jobs.metrics import known_binary, label_metrics, lacks_a_class
from toxicity_pyfunc.jobs.scoring import score_texts
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.lexical import (
    ARRAYS_FILE,
    CHAR_SETTINGS,
    VECTORIZER_SETTINGS,
    VOCABULARY_FILE,
    LexicalScorer,
    LexicalView,
    blend,
)

logger = logging.getLogger(__name__)


def fit_lexical(
    frame: pd.DataFrame,
    row_weights: np.ndarray | None = None,
    *,
    balanced: bool = False,
    char_ngrams: bool = False,
    identity_blind: bool = False,
    max_features: int = 200_000,
    seed: int = 0,
) -> LexicalScorer:
    """Fit one logistic regression per label on the rows that know it (cut at 0.5).

    `balanced` reweights the classes (the baseline's ranking-only setting); the companion
    keeps the classes as they come, so its probabilities stay calibrated. `char_ngrams` adds
    character 2-5-grams within words beside the word n-grams: they still match a word whose
    spelling was disguised. `identity_blind` gives the word n-grams that name an identity
    ("muslims", "gay people") no weight: from the hate-speech rows a word model learns group
    names as abuse and then flags every harmless sentence that names a group; the encoder,
    which reads the whole sentence, is left to judge those.
    """
    view_settings = [VECTORIZER_SETTINGS] + ([CHAR_SETTINGS] if char_ngrams else [])
    vectorizers = [
        TfidfVectorizer(min_df=2, max_features=max_features, **settings) for settings in view_settings
    ]
    matrix = hstack([vectorizer.fit_transform(frame["text"]) for vectorizer in vectorizers]).tocsr()
    if identity_blind:
        matrix = _without_identity_terms(matrix, vectorizers[0].vocabulary_)
    targets = frame[list(LABELS)].to_numpy(np.float32)
    coef = np.full((len(LABELS), matrix.shape[1]), np.nan, dtype=np.float32)
    intercept = np.full(len(LABELS), np.nan, dtype=np.float32)
    fits = []
    for column, label in enumerate(LABELS):
        known, truth = known_binary(targets, column)
        if lacks_a_class(truth):
            logger.warning("lexical model: label %s lacks one of its classes in training; skipped", label)
            continue
        classifier = LogisticRegression(
            C=4.0, max_iter=1000, class_weight="balanced" if balanced else None, random_state=seed
        )
        weights = None if row_weights is None else row_weights[known]
        # Only scikit-learn's own method travels to the workers: a worker started beside a
        # loaded model may find the model's copy of this package, which has no jobs.
        fits.append((column, delayed(classifier.fit)(matrix[known], truth, sample_weight=weights)))
    # One process per label: six independent fits (minutes each on the full data) side by side.
    workers = min(len(fits), os.cpu_count() or 1) or 1
    for (column, _), fitted in zip(fits, Parallel(n_jobs=workers)(job for _, job in fits), strict=True):
        coef[column], intercept[column] = fitted.coef_[0], fitted.intercept_[0]
    views, start = [], 0
    for settings, vectorizer in zip(view_settings, vectorizers, strict=True):
        width = len(vectorizer.vocabulary_)
        vocabulary = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
        views.append(
            LexicalView(
                settings,
                vocabulary,
                vectorizer.idf_.astype(np.float32),
                coef[:, start : start + width].copy(),
            )
        )
        start += width
    return LexicalScorer(views, intercept)


def _without_identity_terms(matrix: Any, vocabulary: dict[str, int]) -> Any:
    """The matrix with every word n-gram that contains an identity word zeroed: its coefficient
    is then 0. The rows keep their norms, as the served model computes them."""
    words = {
        word
        for identity in SWAP_TARGETS
        for form in (identity.adjective, identity.plural)
        for word in form.split()
    }
    words -= {"people"}
    blind = [index for term, index in vocabulary.items() if words & set(term.split(" "))]
    if not blind:
        return matrix
    keep = np.ones(matrix.shape[1], dtype=np.float32)
    keep[blind] = 0.0
    zeroed = (matrix @ diags(keep)).tocsr()
    zeroed.eliminate_zeros()
    return zeroed


def save_lexical(scorer: LexicalScorer, folder: Path) -> None:
    """Vocabularies as JSON, idf and coefficients as arrays: what `LexicalScorer.load` reads."""
    views = [
        {"settings": view.settings, "terms": sorted(view.vocabulary, key=view.vocabulary.__getitem__)}
        for view in scorer.views
    ]
    (folder / VOCABULARY_FILE).write_text(
        json.dumps({"labels": list(LABELS), "views": views}), encoding="utf-8"
    )
    arrays: dict[str, Any] = {"intercept": scorer.intercept}
    for number, view in enumerate(scorer.views):
        arrays |= {f"idf_{number}": view.idf, f"coef_{number}": view.coef}
    np.savez_compressed(folder / ARRAYS_FILE, **arrays)


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


def fit_lexical_companion(
    config: TrainConfig,
    train_frame: pd.DataFrame,
    weights: np.ndarray,
    *,
    model: Any,
    tokenizer: Any,
    valid_frame: pd.DataFrame,
    encoder_scores: np.ndarray,
) -> tuple[LexicalScorer | None, float, np.ndarray]:
    """Fit the TF-IDF companion on the training rows and choose its blend weight on validation.

    Logs the validation mean ROC-AUC at every candidate weight (step = weight x 100) and the
    identity-template check of the blend. `encoder_scores`: the kept epoch's validation scores.
    Returns the companion (None when the encoder alone is best), its weight, and the validation
    scores of the model as it will be served.
    """
    if config.lexical_max_weight == 0.0:
        return None, 0.0, encoder_scores
    valid_texts = valid_frame["text"].tolist()
    started = time.perf_counter()
    lexical = fit_lexical(
        train_frame, weights, char_ngrams=config.lexical_char_ngrams, identity_blind=True, seed=config.seed
    )
    fit_seconds = time.perf_counter() - started
    valid_logits = lexical.logits(valid_texts)
    weight, by_weight = choose_blend_weight(
        encoder_scores,
        valid_logits,
        valid_frame[list(LABELS)].to_numpy(np.float32),
        config.lexical_max_weight,
    )
    for candidate, auc in by_weight.items():
        if not np.isnan(auc):
            mlflow.log_metric("valid_mean_roc_auc_by_lexical_weight", auc, step=round(candidate * 100))
    templates = identity_templates()
    template_texts = templates["text"].tolist()
    template_scores = blend(
        score_texts(model, tokenizer, template_texts, config.max_length, config.batch_size * 4),
        lexical.logits(template_texts),
        weight,
    )[:, 0]
    report = identity_report(templates, template_scores)
    mlflow.log_metrics(
        {
            "lexical_weight": weight,
            "lexical_fit_seconds": fit_seconds,
            "valid_blend_templates_identity_false_positive_rate": report["identity_false_positive_rate"],
            "valid_blend_templates_min_subgroup_auc": report["min_subgroup_auc"],
        }
        | ({"valid_mean_roc_auc_blended": by_weight[weight]} if not np.isnan(by_weight[weight]) else {})
    )
    logger.info(
        "TF-IDF companion: blend weight %.2f, valid mean ROC-AUC %.4f (encoder alone %.4f), fitted in %.0f s",
        weight,
        by_weight[weight],
        by_weight[0.0],
        fit_seconds,
    )
    return (lexical if weight > 0 else None), weight, blend(encoder_scores, valid_logits, weight)
