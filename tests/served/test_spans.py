"""From token probabilities to toxic spans: whole words, neighbours joined, offsets into the text as sent."""

from __future__ import annotations

import numpy as np

from toxicity_pyfunc.served.spans import characters, scored_words, spans_from_words


def test_word_pieces_make_one_word_scored_by_its_most_toxic_piece() -> None:
    text = "you idiotic fool!"
    offsets = [(0, 0), (0, 3), (4, 8), (8, 11), (12, 16), (16, 17), (0, 0)]
    word_ids = [None, 0, 1, 1, 2, 3, None]
    probabilities = np.array([0.0, 0.1, 0.2, 0.9, 0.8, 0.1, 0.0])
    words = scored_words(offsets, word_ids, probabilities)
    assert words == [(0, 3, 0.1), (4, 11, 0.9), (12, 16, 0.8), (16, 17, 0.1)]
    spans = spans_from_words(text, words, threshold=0.5)
    assert [(s.begin, s.end, s.text) for s in spans] == [(4, 16, "idiotic fool")]  # neighbours joined
    assert spans[0].score == 0.9
    assert characters(spans) == set(range(4, 16))


def test_words_apart_stay_apart_and_the_threshold_decides() -> None:
    text = "idiot, you are a clown"
    words = [(0, 5, 0.9), (5, 6, 0.2), (7, 10, 0.3), (17, 22, 0.7)]
    assert [s.text for s in spans_from_words(text, words, 0.5)] == ["idiot", "clown"]
    assert [s.text for s in spans_from_words(text, words, 0.8)] == ["idiot"]
    assert spans_from_words(text, words, 0.95) == []


def test_offsets_count_code_points_as_python_slices_them() -> None:
    text = "🔥🔥 you idiot"
    begin = text.index("idiot")
    spans = spans_from_words(text, [(begin, begin + 5, 0.9)], 0.5)
    assert spans[0].text == "idiot"
    assert text[spans[0].begin : spans[0].end] == "idiot"


def test_a_gate_leaves_a_text_without_a_clearly_toxic_word_without_spans() -> None:
    text = "what a dummy"
    words = [(0, 4, 0.1), (5, 6, 0.1), (7, 12, 0.6)]
    assert [s.text for s in spans_from_words(text, words, 0.5)] == ["dummy"]
    assert [s.text for s in spans_from_words(text, words, 0.5, gate=0.6)] == ["dummy"]  # at the gate
    assert spans_from_words(text, words, 0.5, gate=0.61) == []
    assert spans_from_words("", [], 0.5, gate=0.1) == []
