"""Every identity word list of the project, in one place.

Training swaps identity mentions and writes harmless identity sentences; evaluation checks
templated sentences per identity; the Civil Comments files carry identity columns. All three
read their words from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Identity:
    """An identity as an adjective ("muslim") and as a plural noun ("muslims")."""

    adjective: str
    plural: str

    def form(self, plural: bool) -> str:
        return self.plural if plural else self.adjective


def _identity(adjective: str, plural: str | None = None) -> Identity:
    return Identity(adjective, plural or f"{adjective} people")


# Identities whose mentions training swaps for one another (counterfactual copies).
SWAP_IDENTITIES: Final[tuple[Identity, ...]] = (
    _identity("gay", "gays"),
    _identity("lesbian", "lesbians"),
    _identity("bisexual", "bisexuals"),
    _identity("transgender"),
    _identity("trans"),
    _identity("queer"),
    _identity("homosexual", "homosexuals"),
    _identity("muslim", "muslims"),
    _identity("jewish", "jews"),
    _identity("christian", "christians"),
    _identity("catholic", "catholics"),
    _identity("hindu", "hindus"),
    _identity("buddhist", "buddhists"),
    _identity("sikh", "sikhs"),
    _identity("atheist", "atheists"),
    _identity("black", "blacks"),
    _identity("white", "whites"),
    _identity("asian", "asians"),
    _identity("latino", "latinos"),
    _identity("hispanic", "hispanics"),
    _identity("mexican", "mexicans"),
    _identity("african", "africans"),
    _identity("arab", "arabs"),
    _identity("chinese"),
    _identity("indian", "indians"),
    _identity("disabled"),
    _identity("deaf"),
    _identity("autistic"),
    _identity("immigrant", "immigrants"),
    _identity("refugee", "refugees"),
    _identity("female", "females"),
    _identity("male", "males"),
    _identity("elderly"),
)
# Words that name an identity only sometimes ("old version", "straight answer"): they can be
# put into a sentence by a swap, but a sentence that has them is not swapped.
TARGET_ONLY: Final[tuple[Identity, ...]] = (
    _identity("old"),
    _identity("young"),
    _identity("straight"),
    _identity("blind"),
)
SWAP_TARGETS: Final[tuple[Identity, ...]] = SWAP_IDENTITIES + TARGET_ONLY

# The identities of the held-out templated evaluation set (each is also a swap target).
EVALUATION_IDENTITIES: Final[tuple[str, ...]] = (
    "gay",
    "lesbian",
    "bisexual",
    "transgender",
    "queer",
    "straight",
    "muslim",
    "jewish",
    "christian",
    "hindu",
    "buddhist",
    "atheist",
    "black",
    "white",
    "asian",
    "latino",
    "african",
    "arab",
    "disabled",
    "deaf",
    "blind",
    "immigrant",
    "refugee",
    "old",
    "young",
    "female",
    "male",
)

# Identity columns of the Jigsaw Unintended Bias / Civil Comments files (share of annotators
# who saw the identity mentioned). When a test file carries them, `evaluate` reports bias metrics.
IDENTITY_COLUMNS: Final[tuple[str, ...]] = (
    "male",
    "female",
    "transgender",
    "other_gender",
    "heterosexual",
    "homosexual_gay_or_lesbian",
    "bisexual",
    "other_sexual_orientation",
    "christian",
    "jewish",
    "muslim",
    "hindu",
    "buddhist",
    "atheist",
    "other_religion",
    "black",
    "white",
    "asian",
    "latino",
    "other_race_or_ethnicity",
    "physical_disability",
    "intellectual_or_learning_disability",
    "psychiatric_or_mental_illness",
    "other_disability",
)


def indefinite_article(word: str) -> str:
    """ "a" or "an" before an identity word (by its first letter: good enough for these words)."""
    return "an" if word[0] in "aeiou" else "a"
