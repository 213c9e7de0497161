"""Spelling variants that people use to slip abuse past filters, as training data and as tests.

Each perturbation changes one word the way moderators see it done: digits for letters, two
letters swapped, a letter dropped, a letter repeated, spaces inside the word, the space before
it removed, look-alike letters from other scripts. `obfuscated_copies` adds such copies of
training rows that carry a known toxic word (labels unchanged); the behavioural suite applies the
same kinds to its held-out sentences to measure how far a model's judgement moves.
`disguised_harmless_copies` does the same to harmless rows, any word, so that a disguise alone is
no sign of abuse (without them a model learns "odd spelling = toxic").
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd

from toxicity_pyfunc.served.labels import TEXT_COLUMN

logger = logging.getLogger(__name__)

_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
# Cyrillic look-alikes, written as escapes so the source shows what they are.
_HOMOGLYPHS = {
    "a": "\u0430",
    "e": "\u0435",
    "o": "\u043e",
    "c": "\u0441",
    "p": "\u0440",
    "x": "\u0445",
    "i": "\u0456",
}
_WORD = re.compile(r"[A-Za-z]{4,}")


def _positions(word: str, rng: np.random.Generator, choices: str | None = None) -> int | None:
    """A random inner position of `word` (first and last letters stay), among `choices` letters."""
    inner = [i for i in range(1, len(word) - 1) if choices is None or word[i].lower() in choices]
    return int(rng.choice(inner)) if inner else None


def leet(word: str, rng: np.random.Generator) -> str:
    index = _positions(word, rng, "".join(_LEET))
    return word if index is None else word[:index] + _LEET[word[index].lower()] + word[index + 1 :]


def swap(word: str, rng: np.random.Generator) -> str:
    index = _positions(word[:-1] + "_", rng)
    return word if index is None else word[:index] + word[index + 1] + word[index] + word[index + 2 :]


def drop(word: str, rng: np.random.Generator) -> str:
    index = _positions(word, rng)
    return word if index is None else word[:index] + word[index + 1 :]


def repeat(word: str, rng: np.random.Generator) -> str:
    index = _positions(word, rng, "aeiouy")
    return word if index is None else word[:index] + word[index] * 3 + word[index + 1 :]


def spaced(word: str, _rng: np.random.Generator) -> str:
    return " ".join(word)


def homoglyph(word: str, rng: np.random.Generator) -> str:
    index = _positions(word, rng, "".join(_HOMOGLYPHS))
    return word if index is None else word[:index] + _HOMOGLYPHS[word[index].lower()] + word[index + 1 :]


PERTURBATIONS: dict[str, Callable[[str, np.random.Generator], str]] = {
    "leet": leet,
    "swap": swap,
    "drop": drop,
    "repeat": repeat,
    "spaced": spaced,
    "homoglyph": homoglyph,
}


def join_before(text: str, word: str) -> str:
    """The space before `word` removed ("you idiot" -> "youidiot")."""
    return re.sub(rf"\s+({re.escape(word)})\b", r"\1", text, count=1)


def perturb(text: str, targets: set[str], rng: np.random.Generator, kind: str | None = None) -> str | None:
    """`text` with one of its target words (lower-cased) changed; None when none could be."""
    words = [match for match in _WORD.finditer(text) if match.group(0).lower() in targets]
    if not words:
        return None
    match = words[int(rng.integers(len(words)))]
    kind = kind or str(rng.choice([*PERTURBATIONS, "joined"]))
    if kind == "joined":
        joined = join_before(text, match.group(0))
        return joined if joined != text else None
    changed = PERTURBATIONS[kind](match.group(0), rng)
    if changed == match.group(0):  # "ee" swapped, no letter to replace: nothing disguised
        return None
    return text[: match.start()] + changed + text[match.end() :]


def disguise_any_word(text: str, rng: np.random.Generator) -> str | None:
    """`text` with any one of its words (four letters or more) disguised; None when none could be."""
    return perturb(text, {word.lower() for word in _WORD.findall(text)}, rng)


def toxic_vocabulary(
    frame: pd.DataFrame, min_count: int = 20, lift: float = 3.0, size: int = 400
) -> set[str]:
    """Words far more frequent in toxic rows than in the others: the words abusers disguise.

    Learned from the training rows themselves (toxicity known), so no word list is imported.
    """
    known = frame["toxicity"].notna()
    toxic = frame.loc[known, "toxicity"].to_numpy() >= 0.5
    texts = frame.loc[known, TEXT_COLUMN].tolist()
    in_toxic: Counter[str] = Counter()
    in_other: Counter[str] = Counter()
    for text, is_toxic in zip(texts, toxic, strict=True):
        (in_toxic if is_toxic else in_other).update({word.lower() for word in _WORD.findall(text)})
    toxic_rows, other_rows = max(int(toxic.sum()), 1), max(int((~toxic).sum()), 1)
    scored = {
        word: (count / toxic_rows) / ((in_other[word] + 1) / other_rows)
        for word, count in in_toxic.items()
        if count >= min_count
    }
    ranked = sorted(
        (word for word, ratio in scored.items() if ratio >= lift), key=scored.__getitem__, reverse=True
    )
    return set(ranked[:size])


def obfuscated_copies(frame: pd.DataFrame, share: float, rng: np.random.Generator) -> pd.DataFrame:
    """Copies of about `share` of the toxic rows with one toxic word disguised, labels unchanged."""
    if share <= 0 or frame.empty:
        return frame.iloc[0:0]
    vocabulary = toxic_vocabulary(frame)
    toxic_rows = np.flatnonzero(frame["toxicity"].fillna(0).to_numpy() >= 0.5)
    chosen = rng.choice(toxic_rows, size=min(len(toxic_rows), round(share * len(toxic_rows))), replace=False)
    positions, texts = [], []
    for position in chosen:
        changed = perturb(frame[TEXT_COLUMN].iat[position], vocabulary, rng)
        if changed is not None:
            positions.append(position)
            texts.append(changed)
    out = frame.iloc[positions].copy()
    out[TEXT_COLUMN] = texts
    logger.info(
        "obfuscation: %d disguised copies of toxic rows (%d words learned)", len(out), len(vocabulary)
    )
    return out.reset_index(drop=True)


def disguised_harmless_copies(frame: pd.DataFrame, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """`count` copies of harmless rows (toxicity known, below 0.5) with any one word disguised."""
    if count <= 0 or frame.empty:
        return frame.iloc[0:0]
    harmless_rows = np.flatnonzero(frame["toxicity"].to_numpy(dtype=np.float64) < 0.5)  # NaN: unknown
    chosen = rng.choice(harmless_rows, size=min(len(harmless_rows), count), replace=False)
    positions, texts = [], []
    for position in chosen:
        changed = disguise_any_word(frame[TEXT_COLUMN].iat[position], rng)
        if changed is not None:
            positions.append(position)
            texts.append(changed)
    out = frame.iloc[positions].copy()
    out[TEXT_COLUMN] = texts
    logger.info("obfuscation: %d disguised copies of harmless rows", len(out))
    return out.reset_index(drop=True)
