"""Disguised spellings read as the plain word, character for character.

People slip abuse past filters with digits and symbols for letters ("h4te", "sh!t", "a$$") and
with look-alike letters from other scripts (a Cyrillic i in "idiot"). The encoder learns a few of
these from training copies, but its word pieces split them apart. Mapping them back before the
tokenizer costs microseconds and keeps every character in place (one character for one), so
toxic-span offsets still index the text as sent. Only what cannot be an ordinary spelling is
mapped: a digit or symbol between two letters, a look-alike letter inside a word that also has
Latin letters (a word all in Cyrillic or Greek is left alone), and full-width forms.
"""

from __future__ import annotations

import re

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
# One or two, a Latin letter on each side: "a$$hole", "id10t"; not "3rd", "2024", "B4", nor
# "LOL111LOL". "!" only alone between small letters ("sh!t"): "IDIOT!!!YOU" and "SAGET!OH" are
# sentences run together, and read as "i" they would glue the words into one.
_LEET_RUN = re.compile(r"(?<=[A-Za-z])[013457@$]{1,2}(?=[A-Za-z])|(?<=[a-z])!(?=[a-z])")
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
_WORD = re.compile(r"\w+")
_LATIN = re.compile(r"[A-Za-z]")


def plain_spelling(text: str) -> str:
    """`text` with disguised letters mapped back; always the same length, so offsets carry over."""
    if text.isascii() and not _LEET_RUN.search(text):
        return text
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
