"""What the pyfunc accepts as input, and the errors that name the row for what it does not."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from toxicity_pyfunc.served.inputs import texts_from_input


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
