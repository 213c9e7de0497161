"""Reading labelled comments into one validated shape.

Every file, whatever its origin, becomes a DataFrame with a `text` column and the six
label columns as floats in [0, 1], where NaN means "this source does not say" and is
masked out of the loss and the metrics downstream.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from toxicity_pyfunc.jobs.identities import IDENTITY_COLUMNS
from toxicity_pyfunc.served.labels import LABELS, TEXT_COLUMN

logger = logging.getLogger(__name__)

# Public data sets name the same things differently. Keys are lower-cased column names
# as published (Jigsaw 2018 Wikipedia, Jigsaw Unintended Bias / Civil Comments).
COLUMN_ALIASES: dict[str, str] = {
    "comment_text": TEXT_COLUMN,
    "target": "toxicity",
    "toxic": "toxicity",
    "severe_toxic": "severe_toxicity",
    "identity_hate": "identity_attack",
}

_SHOWN_ROWS = 5
_CSV_ENDINGS = (".csv", ".csv.gz", ".csv.xz", ".csv.bz2", ".csv.zst", ".csv.zip")


class DataValidationError(ValueError):
    """A data file does not follow the data contract; the message says where."""


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file as strings-and-numbers, keeping empty cells as NaN."""
    path = Path(path)
    if not path.exists():
        raise DataValidationError(f"{path}: file not found")
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith(_CSV_ENDINGS):  # pandas infers the compression from the ending
        # keep_default_na=False so that a comment reading "NA" or "null" stays text.
        return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={TEXT_COLUMN: str})
    raise DataValidationError(f"{path}: unsupported file type {path.suffix!r}; use .csv or .parquet")


def normalise_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename published column names (Jigsaw 2018, Civil Comments) to ours."""
    renames: dict[str, str] = {}
    present = set(frame.columns)
    for column in frame.columns:
        target = COLUMN_ALIASES.get(str(column).lower())
        # Never shadow a column that is already there under our own name.
        if target is not None and target not in present and target not in renames.values():
            renames[column] = target
    return frame.rename(columns=renames)


def _rows(index: pd.Index) -> str:
    """Name the first offending rows as 1-based data-row numbers (header excluded)."""
    numbers = [str(int(i) + 1) for i in index[:_SHOWN_ROWS]]
    more = f" and {len(index) - _SHOWN_ROWS} more" if len(index) > _SHOWN_ROWS else ""
    return ", ".join(numbers) + more


def validate_labelled(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check the data contract and return `text` plus all six labels as float columns."""
    frame = normalise_columns(frame).reset_index(drop=True)
    if TEXT_COLUMN not in frame.columns:
        raise DataValidationError(
            f"{source}: missing column 'text' (or 'comment_text'); columns are {list(frame.columns)}"
        )
    label_columns = [label for label in LABELS if label in frame.columns]
    if not label_columns:
        raise DataValidationError(
            f"{source}: no label column; expected at least one of {list(LABELS)} "
            f"(or the Jigsaw names toxic, severe_toxic, identity_hate, target)"
        )

    out = pd.DataFrame({TEXT_COLUMN: frame[TEXT_COLUMN]})
    for label in LABELS:
        if label not in frame.columns:
            out[label] = np.nan
            continue
        raw = frame[label]
        values = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & values.isna()
        if bad.any():
            examples = ", ".join(repr(v) for v in raw[bad].head(3))
            raise DataValidationError(
                f"{source}: column '{label}' has non-numeric values in rows {_rows(raw.index[bad])} "
                f"(e.g. {examples}); use fractions 0..1 or leave the cell empty if unknown"
            )
        out_of_range = values.notna() & ((values < 0) | (values > 1))
        if out_of_range.any():
            examples = ", ".join(str(v) for v in values[out_of_range].head(3))
            raise DataValidationError(
                f"{source}: column '{label}' has values outside [0, 1] in rows "
                f"{_rows(values.index[out_of_range])} (e.g. {examples})"
            )
        out[label] = values.astype("float32")

    text = out[TEXT_COLUMN]
    empty = text.isna() | text.astype(str).str.strip().eq("")
    if empty.any():
        logger.warning("%s: dropped %d rows with empty text", source, int(empty.sum()))
        out = out.loc[~empty].reset_index(drop=True)
    out[TEXT_COLUMN] = out[TEXT_COLUMN].astype(str)
    if out.empty:
        raise DataValidationError(f"{source}: no rows with text")
    kept_rows = ~empty.to_numpy()
    # Keep a source column when the file carries one (make_splits adds it): per-source reports.
    if "source" in frame.columns:
        out["source"] = frame.loc[kept_rows, "source"].astype(str).to_numpy()
    # Keep identity columns (Civil Comments): bias metrics in `evaluate`.
    for column in IDENTITY_COLUMNS:
        if column in frame.columns:
            out[column] = pd.to_numeric(frame.loc[kept_rows, column], errors="coerce").to_numpy(np.float32)
    return out


def load_labelled(path: str | Path) -> pd.DataFrame:
    """Read and validate one labelled file."""
    frame = validate_labelled(read_table(path), source=str(path))
    known = frame[list(LABELS)].notna().sum().to_dict()
    logger.info("%s: %d rows; known labels per column %s", path, len(frame), known)
    return frame
