"""Training-data changes against unintended identity bias, and per-source sample weights.

The shared data ties identity words to toxicity (Wikipedia insults, tweets that use them as
slurs), so a plain fine-tune learns "gay" = toxic. Two remedies, both applied to the training
split only:

- counterfactual swaps: a row that mentions an identity gets copies in which that mention is
  replaced by other identities, labels unchanged, so every identity appears in the same
  toxic and harmless contexts;
- neutral identity examples: harmless sentences naming identities, labelled 0 for every
  attribute, written for training. They share no template with the evaluation set in
  `fairness.py`, which stays a held-out check.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from toxicity_pyfunc.jobs.behaviour import behaviour_examples as behaviour_training_rows
from toxicity_pyfunc.jobs.identities import SWAP_IDENTITIES, SWAP_TARGETS, indefinite_article
from toxicity_pyfunc.jobs.obfuscate import disguised_harmless_copies, obfuscated_copies
from toxicity_pyfunc.served.labels import LABELS, TEXT_COLUMN

logger = logging.getLogger(__name__)

GENERATED_SOURCE = "generated_identity_examples"


# Harmless sentences for training; none of them is an evaluation template.
TRAINING_TEMPLATES: tuple[str, ...] = (
    "{A} is {a} {i} woman who teaches chemistry.",
    "He is {i} and works as a nurse at the local hospital.",
    "She is {i}.",
    "I'm {i}.",
    "As {a} {i} person, I found this article really helpful.",
    "The {i} students presented their science project today.",
    "Thanks for adding the section on {i} history, it reads well.",
    "My grandmother was {i} and loved her garden.",
    "Can someone add a reliable source about {i} culture to this page?",
    "I reverted the edit to the {i} section; please discuss it on the talk page first.",
    "The museum has a new exhibition by {i} artists.",
    "{P} live in every city of this country.",
    "There are many {p} in our town and they are great neighbours.",
    "The report counts how many {p} voted in the last election.",
    "Our football team has two {i} players this season.",
    "The {i} couple next door invited us to dinner.",
    "This article is about {i} musicians of the twentieth century.",
    "My colleague is {i} and we often have lunch together.",
    "The festival celebrates {i} food, music and families.",
    "I met {a} {i} doctor at the conference who gave a great talk.",
    "{P} have contributed a lot to science and the arts.",
    "The survey asked {p} about their favourite books.",
    "Is it true that the author of this book is {i}?",
    "Being {i} has never stopped her from running marathons.",
    "Please be respectful: {p} edit Wikipedia too.",
    "The charity supports {i} children with school supplies.",
)


def _pattern() -> re.Pattern[str]:
    words = sorted({form for item in SWAP_IDENTITIES for form in (item.adjective, item.plural)}, key=len)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in reversed(words)) + r")\b", re.IGNORECASE)


_MENTION = _pattern()
_PLURALS = {item.plural for item in SWAP_IDENTITIES}


def _match_case(original: str, replacement: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[0].isupper():
        return replacement[0].upper() + replacement[1:]
    return replacement


def swap_identities(text: str, rng: np.random.Generator) -> str | None:
    """The text with each identity mention replaced by another identity, or None if it has none."""
    found = False

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        found = True
        word = match.group(0)
        plural = word.lower() in _PLURALS
        choices = [item for item in SWAP_TARGETS if word.lower() not in (item.adjective, item.plural)]
        return _match_case(word, choices[int(rng.integers(len(choices)))].form(plural))

    swapped = _MENTION.sub(replace, text)
    return swapped if found else None


def counterfactual_copies(frame: pd.DataFrame, copies: int, rng: np.random.Generator) -> pd.DataFrame:
    """`copies` swapped versions of every row that mentions an identity, labels unchanged."""
    if copies <= 0:
        return frame.iloc[0:0]
    new_rows = []
    for position, text in enumerate(frame[TEXT_COLUMN].tolist()):
        for _ in range(copies):
            swapped = swap_identities(text, rng)
            if swapped is None:  # no identity mentioned
                break
            new_rows.append((position, swapped))
    if not new_rows:
        return frame.iloc[0:0]
    positions, texts = zip(*new_rows, strict=True)
    out = frame.iloc[list(positions)].copy()
    out[TEXT_COLUMN] = list(texts)
    return out.reset_index(drop=True)


def neutral_identity_examples(count: int, rng: np.random.Generator) -> pd.DataFrame:
    """`count` harmless training sentences naming identities, every attribute labelled 0."""
    if count <= 0:
        return pd.DataFrame(columns=[TEXT_COLUMN, *LABELS, "source"])
    texts = []
    for template in TRAINING_TEMPLATES:
        for item in SWAP_TARGETS:
            adjective = item.adjective
            texts.append(
                template.format(
                    i=adjective,
                    a=indefinite_article(adjective),
                    A=indefinite_article(adjective).capitalize(),
                    p=item.plural,
                    P=item.plural[0].upper() + item.plural[1:],
                )
            )
    chosen = [texts[i] for i in rng.choice(len(texts), size=count, replace=count > len(texts))]
    out = pd.DataFrame({TEXT_COLUMN: chosen})
    for label in LABELS:
        out[label] = np.float32(0.0)
    out["source"] = GENERATED_SOURCE
    return out


def augment_for_fairness(
    frame: pd.DataFrame,
    swaps: int,
    neutral_examples: int,
    rng: np.random.Generator,
    *,
    behaviour_examples: int = 0,
    behaviour_compositional: bool = False,
    behaviour_stratified: bool = False,
    obfuscation_share: float = 0.0,
    obfuscation_harmless_ratio: float = 0.0,
) -> pd.DataFrame:
    """The training frame plus its counterfactual copies, neutral identity examples, the
    behavioural suite's training families, disguised copies of toxic rows and, for every such
    copy, `obfuscation_harmless_ratio` disguised copies of harmless rows."""
    swapped = counterfactual_copies(frame, swaps, rng)
    neutral = neutral_identity_examples(neutral_examples, rng)
    behaviour = behaviour_training_rows(
        behaviour_examples, rng, compositional=behaviour_compositional, stratified=behaviour_stratified
    )
    disguised = obfuscated_copies(frame, obfuscation_share, rng)
    harmless = disguised_harmless_copies(frame, round(obfuscation_harmless_ratio * len(disguised)), rng)
    parts = [part for part in (frame, swapped, neutral, behaviour, disguised, harmless) if not part.empty]
    logger.info(
        "augmentation: %d rows + %d counterfactual copies + %d neutral identity examples + "
        "%d behavioural examples + %d disguised toxic copies + %d disguised harmless copies",
        len(frame),
        len(swapped),
        len(neutral),
        len(behaviour),
        len(disguised),
        len(harmless),
    )
    # The frame's own columns: a file without `source` gets none from the added rows either.
    return pd.concat(parts, ignore_index=True)[list(frame.columns)]


class SourceWeightError(ValueError):
    """The source_weights parameter cannot be read; the message says which part."""


def parse_source_weights(spec: str) -> dict[str, float]:
    """Read "source=weight,source=weight" ("none" or empty: every source weighs 1)."""
    weights: dict[str, float] = {}
    if spec.strip().lower() == "none":
        return weights
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or not name.strip() or weight < 0:
            raise SourceWeightError(
                f"source_weights: cannot read {part!r}; write source=weight with a weight >= 0, "
                "for example jigsaw_wiki_6label_samples=3,other_twitter_davidson_hate_offensive=0.5"
            )
        weights[name.strip()] = weight
    return weights


def row_weights(frame: pd.DataFrame, weights: dict[str, float]) -> np.ndarray:
    """One loss weight per row from its source (1 where the source is not named)."""
    if not weights:
        return np.ones(len(frame), dtype=np.float32)
    if "source" not in frame.columns:
        logger.warning("source_weights ignored: the training file has no 'source' column")
        return np.ones(len(frame), dtype=np.float32)
    # The defaults name the shared data's sources; other data simply lacks them, so no error.
    absent = set(weights) - set(frame["source"].unique())
    if absent:
        logger.warning(
            "source_weights names sources the training file lacks: %s; its sources are %s",
            sorted(absent),
            sorted(frame["source"].unique()),
        )
    return frame["source"].map(weights).fillna(1.0).to_numpy(np.float32)
