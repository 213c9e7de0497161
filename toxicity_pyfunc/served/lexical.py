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
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
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
# From this many texts on, word views count a request's n-grams at once (numpy) instead of text
# by text (Python): below it the fixed cost of the array work is larger than what it saves.
WHOLE_REQUEST_FROM = 8
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
    _words: WordNgrams | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        vectorizer = TfidfVectorizer(**self.settings)
        self._analyze = vectorizer.build_analyzer()
        self._term_weights = np.ascontiguousarray(self.coef.T)  # one row of label weights per term
        self._words = WordNgrams.of(vectorizer, self.vocabulary)

    def partial_logits_many(self, texts: list[str]) -> np.ndarray:
        """This view's share of the log-odds of every text (0 where a text has none of its terms).

        Word views count the n-grams of a request of WHOLE_REQUEST_FROM texts or more at once in
        numpy; a request of a thousand comments costs a fraction of what text-by-text counting
        does. Fewer texts, and other views (character n-grams), go text by text.
        """
        if self._words is not None and len(texts) >= WHOLE_REQUEST_FROM:
            rows, features, counts = self._words.counts(texts)
            values = (1.0 + np.log(counts)) * self.idf[features]  # sublinear tf x idf
            norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(texts)))
            values /= norms[rows]
            matrix = csr_matrix((values, (rows, features)), shape=(len(texts), len(self.idf)))
            partial: np.ndarray = np.asarray(matrix @ self._term_weights)
            return partial
        out = np.zeros((len(texts), self.coef.shape[0]), dtype=np.float32)
        for row, text in enumerate(texts):
            found = self.partial_logits(text)
            if found is not None:
                out[row] = found
        return out

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


@dataclass(frozen=True)
class WordNgrams:
    """Finds a word view's unigrams and bigrams in many texts at once.

    Texts are prepared and split into words by scikit-learn's own preprocessor and tokenizer
    (lower case, accents stripped, its token pattern), so the words are exactly its words; only
    the counting is done here, over all texts together: every word gets an id, a bigram is a pair
    of ids next to each other in one text, looked up in the sorted pair keys of the vocabulary.
    """

    prepare: Any
    split: Any
    word_ids: dict[str, int]  # every word of any vocabulary term
    unigram_feature: np.ndarray  # per word id, its feature index as a unigram (-1: none)
    bigram_keys: np.ndarray  # sorted: first id x words + second id
    bigram_feature: np.ndarray  # feature index of each key
    features: int  # the vocabulary's size

    @classmethod
    def of(cls, vectorizer: TfidfVectorizer, vocabulary: dict[str, int]) -> WordNgrams | None:
        """The counter for a word view of unigrams and bigrams (None for any other view)."""
        if vectorizer.analyzer != "word" or vectorizer.ngram_range != (1, 2) or vectorizer.stop_words:
            return None
        word_ids: dict[str, int] = {}
        for term in vocabulary:
            for word in term.split(" "):
                word_ids.setdefault(word, len(word_ids))
        unigram_feature = np.full(len(word_ids), -1, dtype=np.int64)
        keys, features = [], []
        for term, feature in vocabulary.items():
            words = term.split(" ")
            if len(words) == 1:
                unigram_feature[word_ids[term]] = feature
            else:
                keys.append(word_ids[words[0]] * len(word_ids) + word_ids[words[1]])
                features.append(feature)
        order = np.argsort(np.array(keys, dtype=np.int64), kind="stable")
        return cls(
            vectorizer.build_preprocessor(),
            vectorizer.build_tokenizer(),
            word_ids,
            unigram_feature,
            np.array(keys, dtype=np.int64)[order],
            np.array(features, dtype=np.int64)[order],
            len(vocabulary),
        )

    def counts(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(text, feature, count) of every vocabulary n-gram found, one entry per pair."""
        words = [self.split(self.prepare(text)) for text in texts]
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        flat = list(chain.from_iterable(words))
        ids = np.fromiter(map(self.word_ids.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        text_of = np.repeat(np.arange(len(texts)), lengths)
        known = ids >= 0
        found = self.unigram_feature[ids[known]]
        rows = [text_of[known][found >= 0]]
        features = [found[found >= 0]]
        pairs = (text_of[:-1] == text_of[1:]) & known[:-1] & known[1:]
        if pairs.any() and len(self.bigram_keys):
            keys = ids[:-1][pairs] * len(self.word_ids) + ids[1:][pairs]
            at = np.minimum(np.searchsorted(self.bigram_keys, keys), len(self.bigram_keys) - 1)
            hit = self.bigram_keys[at] == keys
            rows.append(text_of[:-1][pairs][hit])
            features.append(self.bigram_feature[at[hit]])
        width = self.features
        cells, counts = np.unique(np.concatenate(rows) * width + np.concatenate(features), return_counts=True)
        return cells // width, cells % width, counts


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

        The same numbers as scikit-learn's transform and decision function, without its input
        checks: a few texts go one by one (one short text takes tens of microseconds instead of
        milliseconds), larger requests are counted all at once (`partial_logits_many`).
        """
        total = np.tile(self.intercept.astype(np.float64), (len(texts), 1))
        for view in self.views:
            total += view.partial_logits_many(texts)
        return total.astype(np.float32)

    def words(self) -> set[str]:
        """The single words of its word views: what the training texts taught it to be words."""
        return {
            term
            for view in self.views
            if view.settings.get("analyzer", "word") == "word"
            for term in view.vocabulary
            if term.isalpha()
        }

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
