"""Disguised spellings read as the words meant, with offsets into the text as sent.

People slip abuse past filters with digits and symbols for letters ("h4te", "sh!t", "a$$") and
with look-alike letters from other scripts (a Cyrillic i in "idiot"). The encoder learns a few of
these from training copies, but its word pieces split them apart. Mapping them back before the
tokenizer costs microseconds and keeps every character in place (one character for one), so
toxic-span offsets still index the text as sent. Only what cannot be an ordinary spelling is
mapped: a digit or symbol between two letters, a look-alike letter inside a word that also has
Latin letters (a word all in Cyrillic or Greek is left alone), and full-width forms.

Two more disguises change the length of a word: letters repeated ("stuuupid") and letters spaced
out ("i d i o t"). They are read with an invisible character (U+200B) in place of each extra
letter or space: the text keeps its length, and tokenizers that drop invisible characters (BERT's
and MPNet's, checked when the model loads) read the plain word. They are mapped only where the
plain word is a whole word of the tokenizer's vocabulary ("stupid", not "stuupid"; "idiot", not
"a idiot"), so that "zzz" or "U S A" stay what they are unless the vocabulary knows them.

The last disguises change the letters themselves: two inner letters swapped ("idoit"), an inner letter
dropped ("idot"), the space before a word taken out ("youidiot"). `Speller` reads a word nobody
knows (not in an English word list, the tokenizer's vocabulary nor the training texts' words) as
the commonest English word one such edit away, or as two common words run together. The reading
may be a character longer than the word, so it comes with where each character came from
(`Reading`), and span offsets are carried back into the text as sent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import product
from typing import Any

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
# One or two, a Latin letter on each side: "a$$hole", "id10t"; not "3rd", "2024", "B4", nor
# "LOL111LOL". "!" only alone between small letters ("sh!t"): "IDIOT!!!YOU" and "SAGET!OH" are
# sentences run together, and read as "i" they would glue the words into one.
_LEET_RUN = re.compile(r"(?<=[A-Za-z])[013457@$]{1,2}(?=[A-Za-z])|(?<=[a-z])!(?=[a-z])")
_LEET_BEFORE_LETTER = re.compile(r"[013457@$!][A-Za-z]")  # what every such run has; ten times faster
# Cyrillic and Greek letters drawn like Latin ones (escapes, so that the source shows what they
# are), then the Latin letter each passes for, in the same order.
_LOOKALIKES = dict(
    zip(
        "\u0430\u0435\u043e\u0441\u0440\u0445\u0443\u0456\u0458\u0455\u04bb\u0501\u051b\u051d\u043a"
        "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0406\u0408\u0405\u03b1"
        "\u03bf\u03b9\u03ba\u03bd\u03c1\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f"
        "\u03a1\u03a4\u03a5\u03a7",
        "aeocpxyijshdqwkABEKMHOPCTXIJSaoikvpABEZHIKMNOPTYX",
        strict=True,
    )
)
# Full-width letters and digits (U+FF10-FF19, FF21-FF3A, FF41-FF5A) are ASCII in costume.
_FULL_WIDTH = {
    chr(code): chr(code - 0xFEE0) for code in range(0xFF10, 0xFF5B) if chr(code - 0xFEE0).isalnum()
}
_IN_COSTUME = frozenset(_LOOKALIKES) | frozenset(_FULL_WIDTH)  # letters from elsewhere, drawn as Latin
_WORD = re.compile(r"\w+")
_LATIN = re.compile(r"[A-Za-z]")
INVISIBLE = "\u200b"  # zero width space: dropped by BERT-style tokenizers, kept in the offsets
# Three or more of one letter inside a word ("stuuupid"), and three or more single letters with
# one space between each ("i d i o t").
_REPEATS = re.compile(r"([A-Za-z])\1{2,}")
_THREE_IN_A_ROW = re.compile(r"(.)\1\1")  # any character: a quicker first look than _REPEATS
_REPEATED_WORD = re.compile(r"[A-Za-z]*(?:([A-Za-z])\1{2,}[A-Za-z]*)+")
_SPACED = re.compile(r"(?<!\w)[A-Za-z](?: [A-Za-z]){2,}(?!\w)")


def plain_spelling(text: str, vocabulary: Container[str] | None = None) -> str:
    """`text` with disguised letters mapped back; always the same length, so offsets carry over.

    With a `vocabulary` (lower-case whole words, from `spelling_vocabulary`), repeated and
    spaced-out letters are read too.
    """
    text = _letters_mapped(text)
    if vocabulary is not None:
        text = _fewer_repeats(_letters_joined(text, vocabulary), vocabulary)
    return text


def _letters_mapped(text: str) -> str:
    """Digits, symbols, look-alike and full-width letters in words read as the Latin letters."""
    in_costume = not text.isascii() and not _IN_COSTUME.isdisjoint(text)
    if not in_costume and not _LEET_BEFORE_LETTER.search(text):
        return text
    if not in_costume:  # digits and symbols only: the look-alikes' pass has nothing to do
        chars = list(text)
        for run in _LEET_RUN.finditer(text):
            for index in range(run.start(), run.end()):
                chars[index] = _LEET[chars[index]]
        return "".join(chars)
    chars = [_FULL_WIDTH.get(char, char) for char in text]
    text = "".join(chars)
    for word in _WORD.finditer(text):
        if not word.group().isascii() and _LATIN.search(word.group()):
            for index in range(word.start(), word.end()):
                chars[index] = _LOOKALIKES.get(chars[index], chars[index])
    text = "".join(chars)
    for run in _LEET_RUN.finditer(text):
        for index in range(run.start(), run.end()):
            chars[index] = _LEET[chars[index]]
    return "".join(chars)


def _fewer_repeats(text: str, vocabulary: Container[str]) -> str:
    """Runs of three or more of a letter cut to two or one, where that makes a known word."""
    if not _THREE_IN_A_ROW.search(text) or not _REPEATS.search(text):
        return text
    chars = list(text)
    for word in _REPEATED_WORD.finditer(text):
        runs = list(_REPEATS.finditer(word.group()))
        if len(runs) > 3 or len(set(word.group().lower())) == 1:
            continue  # "www", "zzz", "aaaaaaa": no other letter to make a word with
        for keep in product((2, 1), repeat=len(runs)):  # "fool" before "fol", "stupid" after "stuupid"
            pieces, last = [], 0
            for run, kept in zip(runs, keep, strict=True):
                pieces += [word.group()[last : run.start()], run.group()[:kept]]
                last = run.end()
            if ("".join(pieces) + word.group()[last:]).lower() in vocabulary:
                for run, kept in zip(runs, keep, strict=True):
                    for index in range(word.start() + run.start() + kept, word.start() + run.end()):
                        chars[index] = INVISIBLE
                break
    return "".join(chars)


def _letters_joined(text: str, vocabulary: Container[str]) -> str:
    """Single letters spaced out read as one word, where they spell a known one (from the first
    letter, or from the second: "a b i t c h" is "a" and "bitch")."""
    if not _SPACED.search(text):
        return text
    chars = list(text)
    for run in _SPACED.finditer(text):
        letters = run.group()[::2]
        for skip in (0, 1):
            if len(letters) - skip >= 3 and letters[skip:].lower() in vocabulary:
                for index in range(run.start() + 2 * skip + 1, run.end(), 2):
                    chars[index] = INVISIBLE
                break
    return "".join(chars)


def whole_words(tokenizer: Any) -> frozenset[str]:
    """The tokenizer's whole words, in lower case (no word pieces such as "##ing")."""
    return frozenset(
        word.lower() for word in tokenizer.get_vocab() if word.isalpha() and not word.startswith("##")
    )


def spelling_vocabulary(tokenizer: Any, words: frozenset[str] | None = None) -> frozenset[str] | None:
    """The tokenizer's whole words (`words`, when already taken), where it reads a word with an
    invisible character inside as the word itself; None where it does not (repeated and spaced
    letters stay as sent)."""
    words = whole_words(tokenizer) if words is None else words
    probe = min((word for word in words if len(word) >= 4), default=None)
    if probe is None:
        return None
    split = f"{probe[:2]}{INVISIBLE}{probe[2:]}"
    return words if tokenizer(probe)["input_ids"] == tokenizer(split)["input_ids"] else None


def visible(text: str) -> str:
    """`text` without invisible format characters, for readers that do not drop them (the
    TF-IDF companion splits words at them)."""
    if text.isascii():
        return text
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


# Four letters or more, not touching other word characters or an invisible one (a repeat read).
_RESPELLABLE = re.compile(r"(?<![\w\u200b])[A-Za-z]{4,}(?![\w\u200b])")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_LOWER_RUN = re.compile(r"[a-z]{4,}")  # a quick first look, on the lower-cased text
_WORD_CHARACTER = re.compile(r"[\w\u200b]")  # what may not touch a word that is read
# Shares of the English word list's running words: a word meant is at least this common (one in
# ten million words: "idiot" is 3 in a million); each of two words run together at least one in a
# million, a part of one or two letters one in ten thousand ("a", "an", "is"; not "ur", "ha").
_LEAST_MEANT = 1e-7
_LEAST_PART = 1e-6
_LEAST_SHORT_PART = 1e-4
_LEAST_SECOND_PART = 3  # "fuck you" read from "fuckyou"; "sayin" is not "say in"


@dataclass(frozen=True)
class Reading:
    """A text as the model reads it and, where words were respelled, where its characters came from."""

    text: str
    origin: tuple[int, ...] | None = None  # per character of `text`, its index in the text as sent

    def as_sent(self, begin: int, end: int) -> tuple[int, int]:
        """Characters `begin:end` of the reading, as offsets into the text as sent."""
        if self.origin is None or begin >= end:
            return begin, end
        return self.origin[begin], self.origin[end - 1] + 1

    def words_as_sent(self, words: Sequence[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
        """(begin, end, score) words of the reading, their offsets into the text as sent."""
        if self.origin is None:
            return list(words)
        return [(*self.as_sent(begin, end), score) for begin, end, score in words]


@cache
def _english_counts() -> tuple[Mapping[str, int], int]:
    """pyspellchecker's English word list (160k words, slurs and swear words included) and its size."""
    from spellchecker import SpellChecker

    counts: Mapping[str, int] = SpellChecker(language="en", distance=1).word_frequency.dictionary
    return counts, sum(counts.values())


class Speller:
    """Swapped and dropped letters and words run together, read as the words meant."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._counts, total = _english_counts()
        # The model's own words are never respelled; one set with the English ones: most texts
        # are done in C.
        self._all_known = frozenset(known).union(self._counts)
        self._least_meant = _LEAST_MEANT * total
        self._least_part = _LEAST_PART * total
        self._least_short_part = _LEAST_SHORT_PART * total
        self.meant = lru_cache(maxsize=1 << 16)(self._meant)  # the same words come back often

    def _meant(self, word: str) -> str | None:
        """What a lower-case `word` that nobody knows stands for; None for a known word or no fit.

        The first and last letters stay: two inner letters swapped back, or one inner letter put
        back, the commonest English word that makes; else two words the space between which was
        taken out, the pair whose rarer word is commonest.
        """
        if word in self._all_known:
            return None
        count = self._counts.get
        best, best_count = None, self._least_meant - 1
        swapped = (word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(1, len(word) - 1))
        longer = (word[:i] + letter + word[i:] for i in range(1, len(word)) for letter in _ALPHABET)
        for candidate in (*swapped, *longer):
            if count(candidate, 0) > best_count:
                best, best_count = candidate, count(candidate, 0)
        if best is not None:
            return best
        best_pair = 0
        for i in range(1, len(word) - _LEAST_SECOND_PART + 1):
            first, second = word[:i], word[i:]
            pair = min(count(first, 0), count(second, 0))
            if pair > best_pair and self._common_part(first) and self._common_part(second):
                best, best_pair = f"{first} {second}", pair
        return best

    def _common_part(self, part: str) -> bool:
        least = self._least_short_part if len(part) <= 2 else self._least_part
        return self._counts.get(part, 0) >= least

    def read(self, text: str) -> Reading:
        """`text` with each unknown lower-case or capital-letter word read as the word(s) meant.

        Capitalised words are left alone: they are mostly names ("Sina", "Perl"), which no word
        list knows.
        """
        # Most texts have no unknown word: sets and one regex pass in C, then done.
        unknown = set(_LOWER_RUN.findall(text.lower())).difference(self._all_known)
        if not unknown:
            return Reading(text)
        edits = sorted(self._edits(text, unknown))
        if not edits:
            return Reading(text)
        pieces: list[str] = []
        origin: list[int] = []
        last = 0
        for start, end, meant in edits:
            pieces += [text[last:start], meant]
            aligned = _aligned(meant.lower(), text[start:end].lower())
            origin += [*range(last, start), *(start + index for index in aligned)]
            last = end
        pieces.append(text[last:])
        origin += range(last, len(text))
        return Reading("".join(pieces), tuple(origin))

    def _edits(self, text: str, unknown: set[str]) -> Iterator[tuple[int, int, str]]:
        """(start, end, reading) of each whole lower-case or capital-letter unknown word read."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a letter whose lower case is longer ("İ"): word by word
            for match in _RESPELLABLE.finditer(text):
                yield from self._edit(text, match.start(), match.end())
            return
        for word in unknown:  # the word list is asked only where a word is not capitalised
            start = lowered.find(word)
            while start >= 0:  # each place it stands alone (not inside a longer word)
                end = start + len(word)
                if not _WORD_CHARACTER.match(text, start - 1 if start else len(text)) and not (
                    _WORD_CHARACTER.match(text, end)
                ):
                    yield from self._edit(text, start, end)
                start = lowered.find(word, end)

    def _edit(self, text: str, start: int, end: int) -> Iterator[tuple[int, int, str]]:
        word = text[start:end]
        if word[0].isupper() and not word.isupper():  # capitalised: mostly a name
            return
        meant = self.meant(word.lower())
        if meant is not None:
            yield start, end, meant.upper() if word.isupper() else meant


def _aligned(meant: str, sent: str) -> list[int]:
    """For each character of `meant`, the index of the character of `sent` it stands for (they
    differ by one edit: letters shared at the start and end keep their places)."""
    shift = len(meant) - len(sent)
    prefix = 0
    while prefix < min(len(meant), len(sent)) and meant[prefix] == sent[prefix]:
        prefix += 1
    return [i if i < prefix else min(max(i - shift, prefix), len(sent) - 1) for i in range(len(meant))]
