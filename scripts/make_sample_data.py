"""Write the project's own small sample data set (data/sample/*.csv) from templates.

The sentences are written for this project; none come from a public corpus. Rows cover
all six labels, soft (annotator-share) targets, and rows that carry only `toxicity`
(the other cells empty = unknown), as real mixed sources do. `spans_*.csv` are toxic-spans
files in the SemEval-2021 layout (`spans`: the JSON list of toxic character offsets, `text`).
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

LABELS = ["toxicity", "severe_toxicity", "obscene", "identity_attack", "insult", "threat"]
OUT = Path(__file__).resolve().parent.parent / "data" / "sample"

TOPICS = [
    "history",
    "river",
    "railway",
    "bridge",
    "football club",
    "election",
    "museum",
    "bakery",
    "library",
    "volcano",
    "orchestra",
    "harbour",
    "school",
    "film",
    "garden",
    "mountain",
]
GROUPS = [
    "gay people",
    "Muslims",
    "Jews",
    "Black people",
    "immigrants",
    "women",
    "Christians",
    "trans people",
    "Asians",
    "disabled people",
]
NEUTRAL = [
    "Thanks for fixing the citation in the {t} article.",
    "I think the {t} section needs a better source.",
    "Have a nice day and thanks for the help with the {t} page.",
    "Could you explain why the {t} paragraph was removed?",
    "The photo of the {t} looks great, well done.",
    "I added two references about the {t}; please check them.",
    "Good point, I agree the {t} article is too long.",
    "Welcome! Feel free to ask me anything about the {t} project.",
    "I disagree with your edit, but let's discuss it on the {t} talk page.",
    "The {t} opened in 1887 according to the local archive.",
]
IDENTITY_NEUTRAL = [
    "My neighbours are {g} and they are lovely people.",
    "The article about {g} in the {t} region needs more sources.",
    "Many {g} live in this city and run the {t}.",
    "I am proud to stand with {g} in our community.",
]
INSULTS = [
    "You are a {a} {n}.",
    "What a {a} {n} you are.",
    "Only a {a} {n} would write this about the {t}.",
    "Stop editing, you {a} {n}.",
]
ADJ = ["stupid", "pathetic", "worthless", "clueless", "ignorant", "dumb"]
NOUN = ["idiot", "moron", "loser", "fool", "clown", "imbecile"]
OBSCENE = [
    "This {t} article is a load of crap.",
    "What the hell is this shit about the {t}?",
    "Damn, this {t} edit is fucking awful.",
    "Who wrote this bullshit about the {t}?",
]
OPENERS = ["", "", "Honestly, ", "Look, ", "Seriously, ", "Well, ", "Hi. ", "Again: "]
CLOSERS = ["", "", " Thanks.", " Just saying.", " Bye.", " See the talk page.", " Period.", " Cheers."]
SEVERE = [
    "Shut the fuck up, you worthless piece of shit.",
    "Fuck you, you {a} motherfucker.",
    "Go fuck yourself, you {a} {n}.",
    "Nobody cares about your {t} shit, fuck off and die, you {a} cunt.",
]
THREATS = [
    "I will find you and hurt you if you touch the {t} page again.",
    "You better watch your back, I know where you live.",
    "Revert that again and I will make you suffer.",
    "I am going to kill you, {n}.",
    "Touch the {t} article once more and I will break your neck.",
]
IDENTITY_ATTACKS = [
    "All {g} are {a} and should leave this country.",
    "{G} are a disease on the {t}.",
    "I hate {g}, they ruin everything.",
    "Never trust {g}, they are all {a} {n}s.",
]


def row(text: str, **labels: float | None) -> dict[str, object]:
    out: dict[str, object] = {"text": text}
    for label in LABELS:
        out[label] = labels.get(label, 0.0)
    return out


def make_rows(rng: random.Random) -> list[dict[str, object]]:
    def fill(template: str) -> str:
        group = rng.choice(GROUPS)
        opener, closer = rng.choice(OPENERS), rng.choice(CLOSERS)
        return (
            opener
            + template.format(
                t=rng.choice(TOPICS),
                a=rng.choice(ADJ),
                n=rng.choice(NOUN),
                g=group,
                G=group[0].upper() + group[1:],
            )
            + closer
        )

    rows = []
    for _ in range(230):
        rows.append(row(fill(rng.choice(NEUTRAL))))
    for _ in range(70):
        rows.append(row(fill(rng.choice(IDENTITY_NEUTRAL))))
    for _ in range(70):
        rows.append(row(fill(rng.choice(INSULTS)), toxicity=1.0, insult=rng.choice([1.0, 0.8, 0.6])))
    for _ in range(50):
        rows.append(row(fill(rng.choice(OBSCENE)), toxicity=rng.choice([1.0, 0.7]), obscene=1.0))
    for _ in range(40):
        rows.append(
            row(
                fill(rng.choice(SEVERE)),
                toxicity=1.0,
                severe_toxicity=rng.choice([1.0, 0.6]),
                obscene=1.0,
                insult=1.0,
            )
        )
    for _ in range(45):
        rows.append(row(fill(rng.choice(THREATS)), toxicity=1.0, threat=1.0))
    for _ in range(45):
        rows.append(
            row(
                fill(rng.choice(IDENTITY_ATTACKS)),
                toxicity=1.0,
                identity_attack=1.0,
                insult=rng.choice([0.0, 0.4, 1.0]),
            )
        )
    # A fifth of the rows keep only `toxicity`: the other labels are unknown, not 0.
    for item in rng.sample(rows, len(rows) // 5):
        for label in LABELS[1:]:
            item[label] = None
    return rows


# Toxic words are [marked]: their character offsets become the gold spans.
SPAN_TEMPLATES = [
    "You are a [{a} {n}] and everyone knows it.",
    "Only an [idiot] would write this about the {t}.",
    "Stop editing the {t} page, you [{a} {n}].",
    "This {t} article is a load of [crap].",
    "Who wrote this [bullshit] about the {t}?",
    "I will [kill] you if you touch the {t} page again.",
    "Honestly, the {t} section is fine, but you are a [{n}].",
    "[Shut up], nobody cares about your {t} edits.",
    "The {t} photo is nice. Your comment is [{a} garbage] though.",
    "[{G} are vermin] and should leave the {t}.",
]
SPAN_NEUTRAL = [*NEUTRAL, "The {t} debate was long but polite.", "I read the {t} report twice."]


def span_row(template: str, rng: random.Random) -> dict[str, str]:
    group = rng.choice(GROUPS)
    text = template.format(
        t=rng.choice(TOPICS), a=rng.choice(ADJ), n=rng.choice(NOUN), G=group[0].upper() + group[1:]
    )
    offsets: list[int] = []
    plain = ""
    for part in re.split(r"(\[[^\]]*\])", text):
        if part.startswith("["):
            word = part[1:-1]
            offsets += range(len(plain), len(plain) + len(word))
            plain += word
        else:
            plain += part
    return {"spans": json.dumps(offsets), "text": plain}


def make_span_rows(rng: random.Random) -> list[dict[str, str]]:
    rows = [span_row(rng.choice(SPAN_TEMPLATES), rng) for _ in range(220)]
    rows += [span_row(rng.choice(SPAN_NEUTRAL), rng) for _ in range(60)]
    return list({row["text"]: row for row in rows}.values())


def write_spans(rng: random.Random) -> None:
    rows = make_span_rows(rng)
    rng.shuffle(rows)
    tenth = len(rows) // 7
    for name, part in (
        ("test", rows[:tenth]),
        ("valid", rows[tenth : 2 * tenth]),
        ("train", rows[2 * tenth :]),
    ):
        with (OUT / f"spans_{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["spans", "text"], quoting=csv.QUOTE_ALL)
            writer.writeheader()
            writer.writerows(part)


def main() -> None:
    rng = random.Random(20261126)
    rows = make_rows(rng)
    unique = list({str(r["text"]).lower(): r for r in rows}.values())
    rng.shuffle(unique)
    n_test = n_valid = len(unique) // 6
    splits = {
        "test": unique[:n_test],
        "valid": unique[n_test : n_test + n_valid],
        "train": unique[n_test + n_valid :],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for name, part in splits.items():
        with (OUT / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["text", *LABELS], quoting=csv.QUOTE_ALL)
            writer.writeheader()
            for item in part:
                writer.writerow({k: ("" if v is None else v) for k, v in item.items()})
    write_spans(random.Random(20261127))  # its own generator: the labelled splits above stay as they were


if __name__ == "__main__":
    main()
