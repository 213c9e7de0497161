"""Disguised spellings mapped back character for character, and ordinary text left alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toxicity_pyfunc.served.spelling import plain_spelling


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("you h4te them", "you hate them"),
        ("what an id10t", "what an idiot"),
        ("sh!t", "shit"),
        ("a$$hole", "asshole"),
        ("wh@t", "what"),
        ("\u0456diot", "idiot"),  # Cyrillic i
        ("\u0443ou are stupid", "you are stupid"),  # Cyrillic y
        ("\u03b1sshole", "asshole"),  # Greek alpha
        ("\uff49\uff44\uff49\uff4f\uff54", "idiot"),  # full-width letters
    ],
)
def test_disguised_letters_read_as_plain(sent: str, read: str) -> None:
    assert plain_spelling(sent) == read


@pytest.mark.parametrize(
    "text",
    [
        "3rd place in 2024, up 15%",
        "R2D2 and B2B",
        "see you b4 5pm",
        "mp3 files",
        "f*ck",  # '*' stands for any letter: left to the model
        "\u043f\u0440\u0438\u0432\u0435\u0442 world",  # a Russian word stays Russian
        "\u0391\u03b8\u03ae\u03bd\u03b1",  # Greek stays Greek
        "have a nice day!",
        "YOU IDIOT!!!YOU HAVE NO IDEA",  # sentences run together stay apart
        "SAGET!OH BOB",
        "FUCKER111LOL",
        "{{Talk|Contrib}}",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert plain_spelling(text) == text


@given(st.text(max_size=60))
def test_every_character_keeps_its_place(text: str) -> None:
    read = plain_spelling(text)
    assert len(read) == len(text)  # toxic-span offsets into the text as sent stay right
    assert plain_spelling(read) == read
