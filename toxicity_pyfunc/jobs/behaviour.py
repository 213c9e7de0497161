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

from toxicity_pyfunc.jobs.obfuscate import PERTURBATIONS, disguise_any_word, perturb
from toxicity_pyfunc.served.labels import LABELS, TEXT_COLUMN

logger = logging.getLogger(__name__)

GENERATED_SOURCE = "generated_behaviour_examples"

# Groups as a plural noun phrase (for "{g}"), the person form (for "{p}": "a gay man") and the
# word that completes "<name> is ..." (for "{i}").
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("women", "a woman", "a woman"),
    ("gay people", "a gay man", "gay"),
    ("lesbians", "a lesbian", "a lesbian"),
    ("trans people", "a trans woman", "trans"),
    ("bisexual people", "a bisexual man", "bisexual"),
    ("Black people", "a Black man", "Black"),
    ("Asian people", "an Asian woman", "Asian"),
    ("Latinos", "a Latino man", "Latino"),
    ("Arabs", "an Arab man", "Arab"),
    ("Muslims", "a Muslim woman", "Muslim"),
    ("Jews", "a Jewish man", "Jewish"),
    ("Christians", "a Christian woman", "Christian"),
    ("Hindus", "a Hindu man", "Hindu"),
    ("Sikhs", "a Sikh man", "a Sikh"),
    ("immigrants", "an immigrant", "an immigrant"),
    ("refugees", "a refugee", "a refugee"),
    ("Mexicans", "a Mexican woman", "Mexican"),
    ("disabled people", "a disabled man", "disabled"),
    ("deaf people", "a deaf woman", "deaf"),
    ("old people", "an old man", "old"),
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
# Things people curse at (for "{thing}"): abuse of objects is not abuse of people.
THINGS: tuple[str, ...] = (
    "printer",
    "laptop",
    "phone",
    "router",
    "car",
    "bus",
    "movie",
    "song",
    "update",
    "sandwich",
    "keyboard",
    "weather app",
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
                "I think {g} are subhuman.",
                "Why are {g} always so disgusting?",
            ],
            [
                "All {g} are filthy animals.",
                "{G} make me sick to my stomach.",
                "{G} are a plague on this country.",
                "{G}? Total trash, every one of them.",
                "I met some {g} today. They are repulsive.",
            ],
            [
                "Honestly, {g} are [revolting].",
                "{G} are nothing but [dirt].",
                "There is nothing [lower] than {g}.",
                "In my opinion, {g} are [vermin].",
                "Why are {g} so [worthless]?",
            ],
            [
                "{G} are the scum of the earth.",
                "Everything about {g} repulses me.",
                "{G} are a disgrace to the human race.",
                "I despise {g}, every last one of them.",
                "{G} are a cancer on society.",
                "Nothing good has ever come from {g}.",
                "{G} are ugly, lazy and stupid.",
                "I'm sick of {g}, they are pathetic.",
            ],
        ],
    )
    + _frames(
        "derogation_implicit",
        True,
        HATE,
        [
            [
                "{G} breed like rats.",
                "{G} belong in cages.",
                "Send all {g} back where they came from.",
                "Hire {g}? You will regret it.",
            ],
            [
                "{G} should not be allowed to vote.",
                "No decent town wants {g} living there.",
                "{G} are a drain on everyone else.",
                "Whole streets go downhill once {g} move in.",
            ],
            [
                "{G} are more like [animals] than people.",
                "[Keep] {g} away from our children.",
                "This country was [better] before {g} showed up.",
                "[Never] trust {g} with money.",
            ],
            [
                "{G} should stick to their own neighbourhoods.",
                "Don't let {g} anywhere near a classroom.",
                "{G} only ever take and never give back.",
                "Our schools were fine until {g} arrived.",
                "You can always tell when {g} have been in a place.",
                "{G} were never meant to live among us.",
                "Lock your doors, {g} have moved next door.",
                "Giving {g} rights was a mistake.",
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
                "I would happily watch {g} burn.",
            ],
            [
                "Someone needs to burn down the homes of {g}.",
                "{G} will pay with their lives.",
                "I want to see {g} hanged in the street.",
                "{G} should be lined up against a wall.",
            ],
            [
                "We are [coming] for {g} tonight, be ready.",
                "Let's [wipe] out {g} before it is too late.",
                "{G} deserve a [bullet].",
                "It is time to [hunt] {g} down.",
            ],
            [
                "Somebody should round up {g} and finish them off.",
                "{G} will not live to see next year if I can help it.",
                "I'm ready to shoot {g} on sight.",
                "Soon we will make {g} disappear for good.",
                "Mark my words, {g} will bleed for this.",
                "We should drown {g} like rats.",
                "I will blow up the next gathering of {g}.",
                "Get the guns ready, {g} are next.",
            ],
        ],
    )
    + _frames(
        "threat_person",
        True,
        {"toxicity": 1.0, "threat": 1.0},
        [
            [
                "{name}, I will find you and break your legs.",
                "I'm going to hurt you so badly, {name}.",
                "You'd better watch your back, {name}, I'm coming for you.",
                "I will beat you bloody, {name}.",
            ],
            [
                "I will kill you if I see you again, {name}.",
                "Keep talking, {name}, and I'll smash your face in.",
                "I know where you live, {name}, and I will make you suffer.",
                "{name}, I swear I will strangle you.",
            ],
            [
                "One more word, {name}, and you're [dead].",
                "I'll put a [knife] in you, {name}.",
                "{name}, you won't [survive] the next time we meet.",
                "Sleep with one eye open, {name}, I'm going to [burn] your house down.",
            ],
            [
                "{name}, I'm going to snap your neck.",
                "Show your face again, {name}, and I will stab you.",
                "You'll be in a hospital bed by Friday, {name}, I promise.",
                "I'll make sure you never walk again, {name}.",
                "I'm going to rip your head off, {name}.",
                "{name}, next time I see you, you're getting shot.",
                "Keep it up, {name}, and I'll end you.",
                "{name}, I'll cut you into pieces.",
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
            [
                "Honestly, {name} is {ah} {pn}.",
                "{name}? Just {ah} {pn}, nothing more.",
                "Ask anyone: {name} is {ah} {pn}.",
                "{name}, you are {ah} {pn} and always will be.",
            ],
        ],
    )
    + _frames(
        "neutral_identity",
        False,
        HARMLESS,
        [
            [
                "{G} live in every city of this country.",
                "I met two {g} at the conference.",
                "{name} is {p}.",
                "{name} is {i}.",
                "Attacks on {g} went up last year, the report says.",
            ],
            [
                "The survey asked {g} about their jobs.",
                "Many {g} work in our hospital.",
                "My neighbour is {p}.",
                "I'm {i}.",
                "As {p}, I think about this a lot.",
            ],
            [
                "There are {g} in my book club.",
                "{name} told me she is {p}.",
                "The report counts how many {g} voted.",
                "My best friend is {i}.",
                "{G} have faced a lot of discrimination here.",
            ],
            [
                "Our town has a festival organised by {g}.",
                "The clinic hired {p} last week.",
                "Two of my cousins are {g}.",
                "{name} said that being {i} shaped everything.",
                "The museum has an exhibit on the history of {g}.",
                "{G} were among the first settlers here.",
                "My manager is {i}.",
                "The new podcast interviews {g} from five countries.",
                "{name} volunteers at a centre for {g}.",
            ],
        ],
    )
    + _frames(
        "positive_identity",
        False,
        HARMLESS,
        [
            [
                "{G} are wonderful neighbours.",
                "I love spending time with {g}.",
                "{name} is {aa} {pn}.",
                "{name} is {i} and a wonderful friend.",
            ],
            [
                "{G} make our community stronger.",
                "I am proud to stand with {g}.",
                "You are {aa} {pn} and I admire you.",
                "I'm {i} and proud of it.",
            ],
            [
                "{G} deserve respect and safety.",
                "Some of my best teachers were {g}.",
                "{name} is such {aa} {pn}.",
                "It is great to be {i}.",
            ],
            [
                "{G} bring so much joy to our street.",
                "Thank you to all the {g} who volunteer here.",
                "{name} is {aa} {pn}, we are lucky to know her.",
                "Being {i} is something to celebrate.",
                "The {g} I know are generous and brave.",
                "{G} have made this city a better place.",
                "Hats off to {name}, {aa} {pn}.",
                "I'm glad my kids grow up around {g}.",
            ],
        ],
    )
    + _frames(
        "negated_hate",
        False,
        HARMLESS,
        [
            [
                "I don't hate {g}.",
                "{G} are not disgusting at all.",
                "I would never say that {g} are vermin.",
                "I'd never hurt {g}.",
            ],
            [
                "Nobody should think {g} are inferior.",
                "I have never wanted to hurt {g}.",
                "{G} are not a threat to anyone.",
                "{G} are not animals, they are people.",
            ],
            [
                "It is not true that {g} are dirty.",
                "I do not think {g} should leave.",
                "I don't believe {g} are worth less than anyone.",
                "I will never agree that {g} are subhuman.",
            ],
            [
                "{G} are not criminals.",
                "I have nothing against {g}.",
                "No one should want {g} gone.",
                "I don't think {g} are stupid at all.",
                "{G} are not the enemy.",
                "I would never tell {g} to go away.",
                "It's wrong to say {g} are evil.",
                "Hating {g} is not something I do.",
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
            [
                "Whoever wrote that {g} are parasites should be banned.",
                "Telling {g} to go back home is plain xenophobia.",
                "Posting that {g} should be shot is vile, report it.",
                "I'm tired of hearing people call {g} animals.",
            ],
        ],
    )
    + _frames(
        "abuse_objects",
        False,
        HARMLESS,
        [
            [
                "This stupid {thing} is a useless piece of junk.",
                "I hate this awful {thing} so much.",
                "My {thing} is absolute garbage.",
            ],
            [
                "This {thing} is the worst thing ever.",
                "What a pathetic excuse for a {thing}.",
                "I could smash this damn {thing}.",
            ],
            [
                "This {thing} is a disgusting waste of money.",
                "The new {thing} is total trash.",
                "I despise this useless {thing}.",
            ],
            [
                "This broken {thing} is driving me insane.",
                "Whoever designed this {thing} should be embarrassed, it's awful.",
                "My {thing} died again, what a useless pile of scrap.",
                "Screw this {thing}, it never works.",
                "The {thing} is a pathetic joke.",
                "This {thing} is so bad it's almost funny.",
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
            [
                "The class studied Dickens all term.",
                "We ate at a bistro in Essex.",
                "The analyst spotted the trend.",
                "Shuttlecock sales went up this year.",
                "We stopped in Cockburnspath on the way north.",
                "The grape harvest was good.",
            ],
        ],
    )
)
# Claims about a group, put inside sentences that assert them (hateful) and sentences that deny
# or reject them (harmless): the same words on both sides, so that training teaches what negation
# and rejection do rather than which words are present. Training families only; the held-out
# families of negated hate and derogation use other phrasings.
CLAIMS: tuple[str, ...] = (
    "{g} are vermin",
    "{g} are subhuman",
    "{g} are filthy parasites",
    "{g} are inferior to the rest of us",
    "{g} ruin everything they touch",
    "{g} should all be deported",
    "{g} are a disease",
    "{g} cannot be trusted",
)
ASSERTING: tuple[str, ...] = (
    "I honestly think {c}.",
    "Everyone knows {c}.",
    "Let's face it, {c}.",
    "My dad always said {c}, and he was right.",
    "Facts are facts: {c}.",
)
DENYING: tuple[str, ...] = (
    "It is a lie that {c}.",
    "Nobody sensible believes {c}.",
    "I refuse to accept that {c}.",
    "Don't let anyone tell you {c}.",
    "I used to think {c}, but I was completely wrong.",
    "The claim that {c} is pure prejudice.",
)


# The words that make a sentence about people abusive, aimed at things instead (harmless): the
# same adjectives as the hateful frames, so that training teaches that the target matters.
# Training families only; the held-out family of abuse of objects uses other phrasings.
OBJECT_ABUSE: tuple[str, ...] = (
    "What a {a} {{thing}}, I want my money back.",
    "My {{thing}} is {a} and it broke again.",
    "Ugh, this {a} {{thing}} crashed again.",
    "Honestly the {{thing}} is {a}, avoid it.",
    "I'm throwing this {a} {{thing}} out of the window.",
    "Worst purchase ever, the {{thing}} is {a}.",
)


def compositional_frames() -> tuple[Frame, ...]:
    """Every claim asserted (derogation) and denied (negated hate), and the abusive adjectives
    aimed at things (abuse of objects), as training-family frames."""
    asserted = [
        Frame(
            "derogation_explicit", "derogation_explicit/a", wrapper.format(c=claim), True, tuple(HATE.items())
        )
        for claim in CLAIMS
        for wrapper in ASSERTING
    ]
    denied = [
        Frame("negated_hate", "negated_hate/a", wrapper.format(c=claim), False, tuple(HARMLESS.items()))
        for claim in CLAIMS
        for wrapper in DENYING
    ]
    objects = [
        Frame("abuse_objects", "abuse_objects/a", wrapper.format(a=adjective), False, tuple(HARMLESS.items()))
        for adjective in HARMFUL_ADJECTIVES
        for wrapper in OBJECT_ABUSE
    ]
    return (*asserted, *denied, *objects)


# The families that never reach training: the suite's verdict comes from these alone.
HELD_OUT: frozenset[str] = frozenset(frame.family for frame in FRAMES if frame.family.endswith("/c"))
# Families that never reach training either, scored by `train` every epoch: a signal on unseen
# frames that recipes and epochs may be chosen on, so that the held-out families stay a verdict.
VALIDATION: frozenset[str] = frozenset(frame.family for frame in FRAMES if frame.family.endswith("/d"))
NOT_TRAINED = HELD_OUT | VALIDATION
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
HARMLESS_DISGUISED_FUNCTIONS = ("neutral_identity", "positive_identity", "negated_hate")


_NO_MARKS = str.maketrans("", "", "[]")


def _with_article(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _fill(template: str, index: int) -> str:
    """The template with the `index`-th group, name, thing and adjectives (each list cycles)."""
    plural, person, complement = GROUPS[index % len(GROUPS)]
    noun = person.split(" ", 1)[1]  # "gay man" from "a gay man"
    harmful = HARMFUL_ADJECTIVES[index % len(HARMFUL_ADJECTIVES)]
    return template.format(
        g=plural,
        G=plural[0].upper() + plural[1:],
        p=person,
        pn=noun,
        i=complement,
        name=NAMES[index % len(NAMES)],
        thing=THINGS[index % len(THINGS)],
        aa=_with_article(HARMLESS_ADJECTIVES[index % len(HARMLESS_ADJECTIVES)]),
        ah=_with_article(harmful),
        hn=f"{harmful} {noun}",
    ).translate(_NO_MARKS)


_GROUP_SLOTS = ("{g}", "{G}", "{p}", "{pn}", "{i}", "{hn}")


def sentences(frames: tuple[Frame, ...] | list[Frame] = FRAMES) -> pd.DataFrame:
    """Every frame filled with every group; frames without a group with every thing or name.

    Columns: text, function, family, held_out, validation, toxic, group, name, frame (the template).
    """
    rows = []
    for frame in frames:
        takes_group = any(slot in frame.template for slot in _GROUP_SLOTS)
        if takes_group:
            count = len(GROUPS)
        elif "{thing}" in frame.template:
            count = len(THINGS)
        elif "{name}" in frame.template:
            count = len(NAMES)
        else:
            count = 1
        for index in range(count):
            rows.append(
                {
                    TEXT_COLUMN: _fill(frame.template, index),
                    "function": frame.function,
                    "family": frame.family,
                    "held_out": frame.family in HELD_OUT,
                    "validation": frame.family in VALIDATION,
                    "toxic": frame.toxic,
                    "group": GROUPS[index % len(GROUPS)][0] if takes_group else "",
                    "name": NAMES[index % len(NAMES)],
                    "frame": frame.template,
                }
            )
    return pd.DataFrame(rows)


_FULL_SHARE = 60


def behaviour_examples(
    count: int, rng: np.random.Generator, *, compositional: bool = False, stratified: bool = False
) -> pd.DataFrame:
    """`count` labelled training rows from the families that are neither held out nor kept for
    validation (and, with
    `compositional`, from the claims asserted and denied: `compositional_frames`).

    Every function with at least `_FULL_SHARE` sentences gets the same share, smaller ones a
    proportionally smaller one: threats at a person and abuse of objects are not drowned by the
    functions that take twenty groups, and six look-alike sentences are not repeated hundreds
    of times each. Rows are drawn with replacement at those chances; with `stratified`, every
    frame of a function gets the same number of rows instead (one more for some, at random) and
    its fillers are drawn without repeats until all were used: the weighted draw leaves some
    frames with one row and others with ten, and which frames a seed favours may be part of why
    the held-out suite moves by several points from seed to seed (docs/model_card.md).
    """
    if count <= 0:
        return pd.DataFrame(columns=[TEXT_COLUMN, *LABELS, "source"])
    training = [frame for frame in FRAMES if frame.family not in NOT_TRAINED]
    if compositional:
        training += compositional_frames()
    pool = sentences(training)
    labels = {frame.template: dict(frame.labels) for frame in training}
    if stratified:
        chosen = pool.iloc[_stratified_rows(pool, count, rng)]
    else:
        per_function = pool.groupby("function")["function"].transform("size").to_numpy(np.float64)
        chance = np.minimum(per_function, _FULL_SHARE) / per_function
        chosen = pool.iloc[rng.choice(len(pool), size=count, replace=True, p=chance / chance.sum())]
    out = pd.DataFrame({TEXT_COLUMN: chosen[TEXT_COLUMN].to_numpy()})
    for label in LABELS:
        out[label] = [labels[template].get(label, np.nan) for template in chosen["frame"]]
        out[label] = out[label].astype(np.float32)
    out["source"] = GENERATED_SOURCE
    return out


def _spread(total: int, parts: int, rng: np.random.Generator) -> np.ndarray:
    """`total` split into `parts` whole numbers that differ by at most one, the larger ones at random."""
    counts = np.full(parts, total // parts, dtype=np.int64)
    counts[rng.choice(parts, size=total % parts, replace=False)] += 1
    return counts


def _stratified_rows(pool: pd.DataFrame, count: int, rng: np.random.Generator) -> np.ndarray:
    """Positions in `pool` of `count` rows: functions by their share, frames evenly, fillers unrepeated."""
    sizes = pool.groupby("function", sort=True)["function"].size()
    shares = np.minimum(sizes.to_numpy(np.float64), _FULL_SHARE)
    expected = count * shares / shares.sum()
    per_function = np.floor(expected).astype(np.int64)
    leftover = count - int(per_function.sum())
    if leftover:  # the remainders go where the fractions were largest, ties at random
        order = np.lexsort((rng.random(len(expected)), -(expected - per_function)))
        per_function[order[:leftover]] += 1
    chosen: list[np.ndarray] = []
    functions = pool["function"].to_numpy()
    for function, function_count in zip(sizes.index, per_function, strict=True):
        members = np.flatnonzero(functions == function)
        by_frame = pool.iloc[members].groupby("frame", sort=True).indices
        for within, frame_count in zip(
            by_frame.values(), _spread(int(function_count), len(by_frame), rng), strict=True
        ):
            rows = members[within]
            rounds = max(1, -(-int(frame_count) // len(rows)))  # every filler once before any twice
            chosen.append(np.concatenate([rng.permutation(rows) for _ in range(rounds)])[:frame_count])
    return np.concatenate(chosen)


def _disguise_target(template: str) -> set[str]:
    """The word a frame marks [like this]: the abusive word a writer would disguise."""
    return {word.lower() for word in re.findall(r"\[([A-Za-z]+)\]", template)}


def function_accuracy(scored: pd.DataFrame) -> dict[str, float]:
    """Per function, the share of `correct` sentences; over the agreeing functions, and the lowest."""
    by_function = scored.groupby("function")["correct"].mean()
    out = {f"{name}_accuracy": float(value) for name, value in by_function.items()}
    agreeing = scored[scored["function"].isin(AGREEING_FUNCTIONS)]
    out["agreeing_accuracy"] = float(agreeing["correct"].mean())
    out["min_function_accuracy"] = float(by_function[list(AGREEING_FUNCTIONS)].min())
    return out


def _correct(scores: np.ndarray, toxic: pd.Series, threshold: float) -> np.ndarray:
    """Whether each sentence lands on its side of the toxicity threshold."""
    return np.asarray(scores >= threshold) == toxic.to_numpy(bool)


def validation_figures(
    toxicity: Callable[[list[str]], np.ndarray], threshold: float = 0.5
) -> dict[str, float]:
    """Per-function accuracies on the validation families alone: what `train` logs every epoch."""
    suite = sentences([frame for frame in FRAMES if frame.family in VALIDATION])
    suite["correct"] = _correct(toxicity(suite[TEXT_COLUMN].tolist()), suite["toxic"], threshold)
    return function_accuracy(suite)


def behaviour_report(
    toxicity: Callable[[list[str]], np.ndarray], threshold: float = 0.5, seed: int = 0
) -> tuple[dict[str, float], pd.DataFrame]:
    """The suite's metrics for a scorer of toxicity, and every sentence with its score.

    Metrics are prefixed `behaviour_heldout_` (the families no training saw: the verdict),
    `behaviour_validation_` (unseen by training too, open to choosing recipes on) or
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
    # Harmless sentences with any one word disguised must stay harmless: a disguise is no verdict.
    for row in suite[suite["held_out"] & suite["function"].isin(HARMLESS_DISGUISED_FUNCTIONS)].itertuples():
        changed = disguise_any_word(str(row.text), rng)
        if changed is not None:
            disguised.append(row._asdict() | {TEXT_COLUMN: changed, "function": "obfuscated_harmless"})
    directional = suite[suite["held_out"] & suite["function"].isin(("neutral_identity", "positive_identity"))]
    threatened = directional.assign(**{TEXT_COLUMN: directional[TEXT_COLUMN] + " I will hurt them all."})
    everything = pd.concat(
        [suite, pd.DataFrame(disguised).drop(columns=["Index"], errors="ignore"), threatened],
        ignore_index=True,
    )
    scores = toxicity(everything[TEXT_COLUMN].tolist())
    everything["score"] = scores
    everything["correct"] = _correct(scores, everything["toxic"], threshold)
    plain = everything.iloc[: len(suite)]
    report: dict[str, float] = {}
    trained = ~plain["held_out"] & ~plain["validation"]
    for mask, prefix in (
        (plain["held_out"], "behaviour_heldout"),
        (plain["validation"], "behaviour_validation"),
        (trained, "behaviour_trained"),
    ):
        part = plain[mask]
        report |= {f"{prefix}_{key}": value for key, value in function_accuracy(part).items()}
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
    hateful_disguised = obfuscated[obfuscated["function"] != "obfuscated_harmless"]
    report["behaviour_heldout_obfuscated_gap"] = float(plain_hateful - hateful_disguised["correct"].mean())
    plain_harmless = held[held["function"].isin(HARMLESS_DISGUISED_FUNCTIONS)]["correct"].mean()
    harmless_disguised = obfuscated[obfuscated["function"] == "obfuscated_harmless"]["correct"].mean()
    report["behaviour_heldout_obfuscated_harmless_gap"] = float(plain_harmless - harmless_disguised)
    added = everything.iloc[len(suite) + len(disguised) :]["score"].to_numpy()
    before = plain.loc[directional.index, "score"].to_numpy()
    report["behaviour_heldout_threat_added_rises"] = float((added > before).mean())
    return report, everything
