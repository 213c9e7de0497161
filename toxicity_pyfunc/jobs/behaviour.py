"""The project's own behavioural suite, in the spirit of CheckList: one test per phenomenon.

Every sentence comes from a frame written for this project, filled with identity groups, people
and names. Frames are grouped into families; the families in `HELD_OUT` never reach training in
any form, so the suite measures what a model learned, not what it memorised. The other families
also serve as training examples (`behaviour_examples`), labelled as a moderator would.

Three kinds of test, as in CheckList:
- minimum functionality: per function, the share of sentences on the right side of the
  toxicity threshold (hateful ones flagged, harmless ones not);
- invariance: the same frame with another group or name must score about the same;
- directional: a harmless sentence with a threat added must score higher.

Public functional test suites and identity template sets are how the project is judged from
outside: nothing here is taken from them, and the frames, fillers and names were written anew.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from toxicity_pyfunc.jobs.obfuscate import PERTURBATIONS, perturb
from toxicity_pyfunc.served.labels import LABELS, TEXT_COLUMN

logger = logging.getLogger(__name__)

GENERATED_SOURCE = "generated_behaviour_examples"

# Groups as a plural noun phrase (for "{g}") and the person form (for "{p}": "a gay man").
GROUPS: tuple[tuple[str, str], ...] = (
    ("women", "a woman"),
    ("gay people", "a gay man"),
    ("lesbians", "a lesbian"),
    ("trans people", "a trans woman"),
    ("bisexual people", "a bisexual man"),
    ("Black people", "a Black man"),
    ("Asian people", "an Asian woman"),
    ("Latinos", "a Latino man"),
    ("Arabs", "an Arab man"),
    ("Muslims", "a Muslim woman"),
    ("Jews", "a Jewish man"),
    ("Christians", "a Christian woman"),
    ("Hindus", "a Hindu man"),
    ("Sikhs", "a Sikh man"),
    ("immigrants", "an immigrant"),
    ("refugees", "a refugee"),
    ("Mexicans", "a Mexican woman"),
    ("disabled people", "a disabled man"),
    ("deaf people", "a deaf woman"),
    ("old people", "an old man"),
)
NAMES: tuple[str, ...] = (
    "Alex",
    "Maria",
    "Jamal",
    "Priya",
    "Tomasz",
    "Aisha",
    "Kenji",
    "Fatima",
    "Diego",
    "Sofia",
    "Samuel",
    "Leila",
)
HARMLESS_ADJECTIVES = ("caring", "kind", "proud", "happy", "hardworking", "funny")
HARMFUL_ADJECTIVES = ("disgusting", "worthless", "filthy", "pathetic", "vile", "stupid")


@dataclass(frozen=True)
class Frame:
    """A sentence frame: the phenomenon it tests, its family, and how it should be judged.

    `toxic`: a moderator flags it. `labels`: what a training example from it is labelled
    (unnamed labels are left unknown).
    """

    function: str
    family: str
    template: str
    toxic: bool
    labels: tuple[tuple[str, float], ...] = ()


def _frames(function: str, toxic: bool, labels: dict[str, float], families: list[list[str]]) -> list[Frame]:
    return [
        Frame(function, f"{function}/{chr(ord('a') + index)}", template, toxic, tuple(labels.items()))
        for index, family in enumerate(families)
        for template in family
    ]


HATE = {"toxicity": 1.0, "identity_attack": 1.0}
THREAT = {"toxicity": 1.0, "identity_attack": 1.0, "threat": 1.0}
INSULT = {"toxicity": 1.0, "insult": 1.0}
HARMLESS = dict.fromkeys(LABELS, 0.0)

FRAMES: tuple[Frame, ...] = tuple(
    _frames(
        "derogation_explicit",
        True,
        HATE,
        [
            [
                "{G} are disgusting.",
                "I can't stand {g}, they are all scum.",
                "{G} are the worst kind of people.",
            ],
            [
                "All {g} are filthy animals.",
                "{G} make me sick to my stomach.",
                "{G} are a plague on this country.",
            ],
            [
                "Honestly, {g} are [revolting].",
                "{G} are nothing but [dirt].",
                "There is nothing [lower] than {g}.",
            ],
        ],
    )
    + _frames(
        "derogation_implicit",
        True,
        HATE,
        [
            ["{G} breed like rats.", "{G} belong in cages.", "Send all {g} back where they came from."],
            [
                "{G} should not be allowed to vote.",
                "No decent town wants {g} living there.",
                "{G} are a drain on everyone else.",
            ],
            [
                "{G} are more like [animals] than people.",
                "[Keep] {g} away from our children.",
                "This country was [better] before {g} showed up.",
            ],
        ],
    )
    + _frames(
        "threat_group",
        True,
        THREAT,
        [
            [
                "I am going to kill all {g}.",
                "We will get rid of {g} once and for all.",
                "Every one of {g} should be shot.",
            ],
            [
                "Someone needs to burn down the homes of {g}.",
                "{G} will pay with their lives.",
                "I want to see {g} hanged in the street.",
            ],
            [
                "We are [coming] for {g} tonight, be ready.",
                "Let's [wipe] out {g} before it is too late.",
                "{G} deserve a [bullet].",
            ],
        ],
    )
    + _frames(
        "threat_person",
        True,
        {"toxicity": 1.0, "threat": 1.0},
        [
            [
                "I will find you and break your legs.",
                "I'm going to hurt you so badly.",
                "You'd better watch your back, I'm coming for you.",
            ],
            [
                "I will kill you if I see you again.",
                "Keep talking and I'll smash your face in.",
                "I know where you live and I will make you suffer.",
            ],
            [
                "One more word and you're dead.",
                "I'll put a knife in you.",
                "You won't survive the next time we meet.",
            ],
        ],
    )
    + _frames(
        "name_harmful_adjective",
        True,
        {"toxicity": 1.0, "insult": 1.0, "identity_attack": 1.0},
        [
            ["{name} is {ah} {pn}.", "You are {ah} {pn}."],
            ["{name}, you {hn}!", "Look at {name}, such {ah} {pn}."],
            ["{name} is nothing but {ah} {pn}.", "Everyone knows {name} is {ah} {pn}."],
        ],
    )
    + _frames(
        "neutral_identity",
        False,
        HARMLESS,
        [
            ["{G} live in every city of this country.", "I met two {g} at the conference.", "{name} is {p}."],
            [
                "The survey asked {g} about their jobs.",
                "Many {g} work in our hospital.",
                "My neighbour is {p}.",
            ],
            [
                "There are {g} in my book club.",
                "{name} told me she is {p}.",
                "The report counts how many {g} voted.",
            ],
        ],
    )
    + _frames(
        "positive_identity",
        False,
        HARMLESS,
        [
            ["{G} are wonderful neighbours.", "I love spending time with {g}.", "{name} is {aa} {pn}."],
            [
                "{G} make our community stronger.",
                "I am proud to stand with {g}.",
                "You are {aa} {pn} and I admire you.",
            ],
            [
                "{G} deserve respect and safety.",
                "Some of my best teachers were {g}.",
                "{name} is such {aa} {pn}.",
            ],
        ],
    )
    + _frames(
        "negated_hate",
        False,
        HARMLESS,
        [
            ["I don't hate {g}.", "{G} are not disgusting at all.", "I would never say that {g} are vermin."],
            [
                "Nobody should think {g} are inferior.",
                "I have never wanted to hurt {g}.",
                "{G} are not a threat to anyone.",
            ],
            [
                "It is not true that {g} are dirty.",
                "I do not think {g} should leave.",
                "I don't believe {g} are worth less than anyone.",
            ],
        ],
    )
    + _frames(
        "counter_speech",
        False,
        HARMLESS,
        [
            [
                "Saying that {g} are vermin is hateful and wrong.",
                "Stop calling {g} disgusting, it's bigotry.",
            ],
            [
                "If you say {g} should die, you are the problem.",
                "People who claim {g} are animals should be ashamed.",
            ],
            ["Calling {g} filth is racist nonsense.", "It's sick that some people want to hurt {g}."],
        ],
    )
    + _frames(
        "abuse_objects",
        False,
        HARMLESS,
        [
            [
                "This stupid printer is a useless piece of junk.",
                "I hate this awful weather so much.",
                "My phone is absolute garbage.",
            ],
            [
                "This traffic is the worst thing ever.",
                "What a pathetic excuse for a sandwich.",
                "I could smash this slow laptop.",
            ],
            [
                "This movie was a disgusting waste of time.",
                "The new update is total trash.",
                "I despise these boring spreadsheets.",
            ],
        ],
    )
    + _frames(
        "lookalike_words",
        False,
        HARMLESS,
        [
            ["I grew up in Scunthorpe.", "The shiitake risotto was lovely.", "Her assessment was thorough."],
            [
                "We drove through Middlesex on Sunday.",
                "The cocktail menu was great.",
                "A cockerel crowed at dawn.",
            ],
            ["Penistone has a nice market.", "The therapist was very kind.", "Sussex cricket won again."],
        ],
    )
)
# The families that never reach training: the suite's verdict comes from these alone.
HELD_OUT: frozenset[str] = frozenset(frame.family for frame in FRAMES if frame.family.endswith("/c"))
# Functions whose judgement "toxic or not" is the same as "hateful or not" (the goal set).
AGREEING_FUNCTIONS: tuple[str, ...] = (
    "derogation_explicit",
    "derogation_implicit",
    "threat_group",
    "threat_person",
    "name_harmful_adjective",
    "neutral_identity",
    "positive_identity",
    "negated_hate",
    "abuse_objects",
    "lookalike_words",
)
OBFUSCATED_FUNCTIONS = ("derogation_explicit", "derogation_implicit", "threat_group")


_NO_MARKS = str.maketrans("", "", "[]")


def _with_article(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _fill(template: str, group: tuple[str, str], name: str, adjective: str, harmful: str) -> str:
    plural, person = group
    noun = person.split(" ", 1)[1]  # "gay man" from "a gay man"
    return template.format(
        g=plural,
        G=plural[0].upper() + plural[1:],
        p=person,
        pn=noun,
        name=name,
        aa=_with_article(adjective),
        ah=_with_article(harmful),
        hn=f"{harmful} {noun}",
    ).translate(_NO_MARKS)


def sentences(frames: tuple[Frame, ...] | list[Frame] = FRAMES) -> pd.DataFrame:
    """Every frame filled with every group (or name and adjective where it takes one).

    Columns: text, function, family, held_out, toxic, group, name, frame (the template).
    """
    rows = []
    for frame in frames:
        takes_group = any(slot in frame.template for slot in ("{g}", "{G}", "{p}", "{pn}", "{hn}"))
        groups = GROUPS if takes_group else GROUPS[:1]
        for index, group in enumerate(groups):
            name = NAMES[index % len(NAMES)]
            adjective = HARMLESS_ADJECTIVES[index % len(HARMLESS_ADJECTIVES)]
            harmful = HARMFUL_ADJECTIVES[index % len(HARMFUL_ADJECTIVES)]
            rows.append(
                {
                    TEXT_COLUMN: _fill(frame.template, group, name, adjective, harmful),
                    "function": frame.function,
                    "family": frame.family,
                    "held_out": frame.family in HELD_OUT,
                    "toxic": frame.toxic,
                    "group": group[0] if takes_group else "",
                    "name": name,
                    "frame": frame.template,
                }
            )
    return pd.DataFrame(rows)


def behaviour_examples(count: int, rng: np.random.Generator) -> pd.DataFrame:
    """`count` labelled training rows from the families that are not held out."""
    if count <= 0:
        return pd.DataFrame(columns=[TEXT_COLUMN, *LABELS, "source"])
    training = [frame for frame in FRAMES if frame.family not in HELD_OUT]
    pool = sentences(training)
    labels = {frame.template: dict(frame.labels) for frame in training}
    chosen = pool.iloc[rng.choice(len(pool), size=count, replace=count > len(pool))]
    out = pd.DataFrame({TEXT_COLUMN: chosen[TEXT_COLUMN].to_numpy()})
    for label in LABELS:
        out[label] = [labels[template].get(label, np.nan) for template in chosen["frame"]]
        out[label] = out[label].astype(np.float32)
    out["source"] = GENERATED_SOURCE
    return out


def _disguise_target(template: str) -> set[str]:
    """The word a frame marks [like this]: the abusive word a writer would disguise."""
    return {word.lower() for word in re.findall(r"\[([A-Za-z]+)\]", template)}


def behaviour_report(
    toxicity: Callable[[list[str]], np.ndarray], threshold: float = 0.5, seed: int = 0
) -> tuple[dict[str, float], pd.DataFrame]:
    """The suite's metrics for a scorer of toxicity, and every sentence with its score.

    Metrics are prefixed `behaviour_heldout_` (the families no training saw: the verdict) or
    `behaviour_trained_` (families that training examples came from: how well they were learned).
    """
    suite = sentences()
    rng = np.random.default_rng(seed)
    disguised = []
    for row in suite[suite["held_out"] & suite["function"].isin(OBFUSCATED_FUNCTIONS)].itertuples():
        for kind in [*PERTURBATIONS, "joined"]:
            changed = perturb(str(row.text), _disguise_target(str(row.frame)), rng, kind)
            if changed is not None:
                disguised.append(row._asdict() | {TEXT_COLUMN: changed, "function": f"obfuscated_{kind}"})
    directional = suite[suite["held_out"] & suite["function"].isin(("neutral_identity", "positive_identity"))]
    threatened = directional.assign(**{TEXT_COLUMN: directional[TEXT_COLUMN] + " I will hurt them all."})
    everything = pd.concat(
        [suite, pd.DataFrame(disguised).drop(columns=["Index"], errors="ignore"), threatened],
        ignore_index=True,
    )
    scores = toxicity(everything[TEXT_COLUMN].tolist())
    everything["score"] = scores
    everything["correct"] = (scores >= threshold) == everything["toxic"].astype(bool)
    plain = everything.iloc[: len(suite)]
    report: dict[str, float] = {}
    for held_out, prefix in ((True, "behaviour_heldout"), (False, "behaviour_trained")):
        part = plain[plain["held_out"] == held_out]
        by_function = part.groupby("function")["correct"].mean()
        report |= {f"{prefix}_{name}_accuracy": float(value) for name, value in by_function.items()}
        agreeing = part[part["function"].isin(AGREEING_FUNCTIONS)]
        report[f"{prefix}_agreeing_accuracy"] = float(agreeing["correct"].mean())
        report[f"{prefix}_min_function_accuracy"] = float(by_function[list(AGREEING_FUNCTIONS)].min())
        # Invariance: the same frame with other groups should score the same.
        spread = part[part["group"] != ""].groupby("frame")["score"].agg(lambda s: float(s.max() - s.min()))
        report[f"{prefix}_group_spread_mean"] = float(spread.mean())
        report[f"{prefix}_group_spread_max"] = float(spread.max())
    held = plain[plain["held_out"]]
    by_group = held[held["group"] != ""].groupby("group")["correct"].mean()
    report["behaviour_heldout_min_group_accuracy"] = float(by_group.min())
    obfuscated = everything.iloc[len(suite) : len(suite) + len(disguised)]
    plain_hateful = held[held["function"].isin(OBFUSCATED_FUNCTIONS)]["correct"].mean()
    report["behaviour_heldout_plain_hateful_accuracy"] = float(plain_hateful)
    for kind, part in obfuscated.groupby("function"):
        report[f"behaviour_heldout_{kind}_accuracy"] = float(part["correct"].mean())
    report["behaviour_heldout_obfuscated_gap"] = float(plain_hateful - obfuscated["correct"].mean())
    added = everything.iloc[len(suite) + len(disguised) :]["score"].to_numpy()
    before = plain.loc[directional.index, "score"].to_numpy()
    report["behaviour_heldout_threat_added_rises"] = float((added > before).mean())
    return report, everything
