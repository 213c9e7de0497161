"""The pyfunc's input handling and what it keeps out of its pickle."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from toxicity_pyfunc.pyfunc import ToxicityModel, pip_requirements, texts_from_input


@pytest.mark.parametrize(
    "model_input",
    [
        pd.DataFrame({"text": ["a", "b"]}),
        pd.DataFrame({"comment": ["a", "b"]}),
        pd.DataFrame({"text": [["a", "b"]]}),
        {"text": ["a", "b"]},
        ["a", "b"],
        [{"text": "a"}, {"text": "b"}],
        pd.Series(["a", "b"]),
    ],
)
def test_accepted_input_shapes(model_input: object) -> None:
    assert texts_from_input(model_input) == ["a", "b"]


def test_single_string_and_dict_with_string() -> None:
    assert texts_from_input("hello") == ["hello"]
    assert texts_from_input({"text": "hello"}) == ["hello"]


@pytest.mark.parametrize(
    ("model_input", "message"),
    [
        (pd.DataFrame({"text": ["ok", None]}), r"row 1: null"),
        (["ok", 3], r"row 1: 3 \(int\)"),
        ({"body": ["x"]}, r"no 'text' key"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), r"no 'text' column"),
        (42, r"unsupported input type int"),
    ],
)
def test_bad_input_is_named(model_input: object, message: str) -> None:
    with pytest.raises(MlflowException, match=message):
        texts_from_input(model_input)


def test_pickle_never_carries_weights(minilm_trained) -> None:
    model = ToxicityModel()
    model.load_folder(minilm_trained.saved_folder)
    assert model._forward is not None
    restored = pickle.loads(pickle.dumps(model))
    assert restored._forward is None
    assert restored._model is None
    assert len(pickle.dumps(model)) < 2_000


def test_loaded_folder_scores_in_input_order(minilm_trained) -> None:
    model = ToxicityModel()
    model.load_folder(minilm_trained.saved_folder)
    texts = ["have a nice day", "you are a stupid idiot", "thanks for the help"]
    together = model.predict(None, pd.DataFrame({"text": texts}))
    reverse = model.predict(None, pd.DataFrame({"text": texts[::-1]}))
    pd.testing.assert_frame_equal(together, reverse.iloc[::-1].reset_index(drop=True), atol=1e-5)


def test_scores_blend_the_encoder_with_the_tfidf_companion(minilm_trained) -> None:
    from toxicity_pyfunc.lexical import blend

    model = ToxicityModel()
    model.load_folder(minilm_trained.saved_folder)
    assert model.lexical_weight > 0  # the sample data's validation file chose a companion
    texts = ["have a nice day", "you are a stupid idiot"]
    served = model.predict(None, pd.DataFrame({"text": texts})).to_numpy()
    companion, model.lexical = model.lexical, None
    encoder_alone = model.predict(None, pd.DataFrame({"text": texts})).to_numpy()
    np.testing.assert_allclose(
        served, blend(encoder_alone, companion.logits(texts), model.lexical_weight), rtol=1e-5
    )
    assert not np.allclose(served, encoder_alone)


def test_requirements_are_installable_pins() -> None:
    pins = pip_requirements()
    assert "torch==2.13.0" in pins
    assert any(pin.startswith("scikit-learn==") for pin in pins)  # the TF-IDF companion
    assert all("==" in pin and "+" not in pin for pin in pins)
