"""The settings file: typed, complete for every label, and refusing what it does not know."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.settings import SETTINGS_FILE, InferenceSettings


def test_round_trip_fills_every_label_threshold(tmp_path: Path) -> None:
    InferenceSettings(max_length=128, runtime="onnx-int8", thresholds={"threat": 0.2}).write(tmp_path)
    read = InferenceSettings.read(tmp_path)
    assert read.max_length == 128
    assert read.runtime == "onnx-int8"
    assert read.thresholds == {label: (0.2 if label == "threat" else 0.5) for label in LABELS}


def test_a_model_saved_before_the_typed_settings_still_loads(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text(
        '{"max_length": 256, "batch_size": 64, "labels": ' + str(list(LABELS)).replace("'", '"') + "}"
    )
    settings = InferenceSettings.read(tmp_path)
    assert (settings.runtime, settings.lexical_weight, settings.token_budget) == ("torch", 0.0, 512)
    assert settings.plain_spelling is False  # scores exactly as before the setting existed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"runtime": "tensorrt"}, "runtime"),
        ({"lexical_weight": 1.5}, "lexical_weight"),
        ({"labels": ["toxic"]}, "trained for labels"),
        ({"thresholds": {"flirtation": 0.5}}, "unknown labels"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_settings_name_the_field(changes: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        InferenceSettings.model_validate({"max_length": 64} | changes)
