"""The data contract: shapes we accept, and errors that say what is wrong and where."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd
import pytest

from toxicity_pyfunc.jobs.data import DataValidationError, load_labelled
from toxicity_pyfunc.served.labels import LABELS

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_data_covers_all_labels_with_partial_rows() -> None:
    frame = load_labelled(SAMPLE / "train.csv")
    assert list(frame.columns[:7]) == ["text", *LABELS]
    for label in LABELS:
        assert (frame[label] >= 0.5).sum() > 0, label
    # Some rows carry only toxicity: the rest must be unknown (NaN), never 0.
    only_toxicity = frame["severe_toxicity"].isna() & frame["toxicity"].notna()
    assert only_toxicity.sum() > 10


def test_empty_label_cell_is_unknown_not_zero(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", 'text,toxicity,insult\n"hello",0,\n"you idiot",1,1\n')
    frame = load_labelled(path)
    assert math.isnan(frame.loc[0, "insult"])
    assert frame.loc[1, "insult"] == 1.0
    assert frame["threat"].isna().all()  # absent column: unknown for every row


def test_jigsaw_2018_column_names(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "jigsaw.csv",
        "id,comment_text,toxic,severe_toxic,obscene,threat,insult,identity_hate\n"
        'a1,"you suck",1,0,1,0,1,0\nb2,"thanks",0,0,0,0,0,0\n',
    )
    frame = load_labelled(path)
    assert frame["text"].tolist() == ["you suck", "thanks"]
    assert frame["toxicity"].tolist() == [1.0, 0.0]
    assert frame["severe_toxicity"].tolist() == [0.0, 0.0]
    assert frame["identity_attack"].tolist() == [0.0, 0.0]


def test_civil_comments_column_names(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": [1, 2],
            "comment_text": ["bad words", "kind words"],
            "target": [0.8, 0.1],
            "severe_toxicity": [0.1, 0.0],
            "identity_attack": [0.0, 0.0],
            "insult": [0.7, 0.0],
            "obscene": [0.2, 0.0],
            "threat": [0.0, 0.0],
            "male": [1.0, None],
        }
    )
    path = tmp_path / "cc.parquet"
    frame.to_parquet(path)
    loaded = load_labelled(path)
    assert loaded["toxicity"].tolist() == pytest.approx([0.8, 0.1])
    assert loaded["insult"].tolist() == pytest.approx([0.7, 0.0])


def test_text_that_reads_like_null_stays_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", 'text,toxicity\n"NA",0\n"null",0\n')
    assert load_labelled(path)["text"].tolist() == ["NA", "null"]


def test_missing_text_column_names_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "notext.csv", "comment,toxicity\nhello,0\n")
    with pytest.raises(DataValidationError, match=r"notext\.csv: missing column 'text'"):
        load_labelled(path)


def test_no_label_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "nolabel.csv", "text,score\nhello,0\n")
    with pytest.raises(DataValidationError, match=r"nolabel\.csv: no label column"):
        load_labelled(path)


def test_non_numeric_label_names_column_and_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", "text,toxicity,insult\na,0,0\nb,yes,0\nc,1,0\nd,no,1\n")
    with pytest.raises(
        DataValidationError, match=r"bad\.csv: column 'toxicity' has non-numeric values in rows 2, 4"
    ) as error:
        load_labelled(path)
    assert "'yes'" in str(error.value)


def test_out_of_range_label_names_column_and_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "range.csv", "text,threat\na,0\nb,1.5\nc,-1\n")
    with pytest.raises(
        DataValidationError, match=r"range\.csv: column 'threat' has values outside \[0, 1\] in rows 2, 3"
    ):
        load_labelled(path)


def test_empty_text_rows_are_dropped_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_csv(tmp_path / "empty.csv", 'text,toxicity\n"",1\n"  ",0\n"kept",0\n')
    with caplog.at_level(logging.WARNING):
        frame = load_labelled(path)
    assert frame["text"].tolist() == ["kept"]
    assert "dropped 2 rows with empty text" in caplog.text


def test_unsupported_file_type(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "data.json", "{}")
    with pytest.raises(DataValidationError, match="unsupported file type"):
        load_labelled(path)


def test_missing_file() -> None:
    with pytest.raises(DataValidationError, match="file not found"):
        load_labelled("no/such/file.csv")
