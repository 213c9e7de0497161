"""Batch scoring on real Spark (local mode), through the `batch_score` entry point."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from toxicity_pyfunc.served.labels import LABELS

pytestmark = pytest.mark.services


def test_batch_score_keeps_ids_and_null_rows(
    run_command, repo_root, sample_data, subprocess_env, tiny_trained, tmp_path: Path
) -> None:
    texts = pd.read_csv(sample_data / "train.csv")["text"].tolist()
    rows = pd.DataFrame(
        {
            "comment_id": np.arange(3000),
            "source": "forum",
            "text": [f"{texts[i % len(texts)]} #{i}" for i in range(3000)],
        }
    )
    rows.loc[[5, 77, 2999], "text"] = None
    rows.loc[10, "text"] = 'a "quoted",\nmulti-line comment'
    source = tmp_path / "comments.csv"
    rows.to_csv(source, index=False)
    output = tmp_path / "scores.parquet"

    completed = run_command(
        [
            "mlflow",
            "run",
            str(repo_root),
            "-e",
            "batch_score",
            "--env-manager",
            "local",
            "--experiment-name",
            "batch",
            "-P",
            f"model_uri={tiny_trained.model_uri}",
            "-P",
            f"input={source}",
            "-P",
            f"output={output}",
            "-P",
            "spark_master=local[2]",
            "-P",
            "spans=true",
        ],
        env=subprocess_env(),
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]

    scored = pd.read_parquet(output).sort_values("comment_id").reset_index(drop=True)
    assert len(scored) == 3000
    assert scored["comment_id"].tolist() == list(range(3000))
    assert set(scored.columns) == {"comment_id", "source", "text", *LABELS, "spans"}
    null_rows = scored["text"].isna()
    assert null_rows.sum() == 3
    assert scored.loc[null_rows, list(LABELS)].isna().all().all()
    assert scored.loc[~null_rows, list(LABELS)].notna().all().all()
    # Spans are a typed column: a list of {begin, end, text, score} per row, offsets into the row's text.
    assert scored.loc[null_rows, "spans"].isna().all()
    for text, spans in zip(scored.loc[~null_rows, "text"], scored.loc[~null_rows, "spans"], strict=True):
        for span in spans:
            assert text[span["begin"] : span["end"]] == span["text"]
    assert scored.loc[10, "text"] == 'a "quoted",\nmulti-line comment'

    # The same numbers as the pyfunc gives outside Spark, up to int8's dependence on batch-mates
    # (activations are scaled per batch, and Spark batches the rows its own way).
    sample = scored.loc[~null_rows].head(20)
    direct = mlflow.pyfunc.load_model(tiny_trained.model_uri).predict(sample[["text"]].reset_index(drop=True))
    np.testing.assert_allclose(sample[list(LABELS)].to_numpy(), direct[list(LABELS)].to_numpy(), atol=2e-3)

    run = mlflow.search_runs(experiment_names=["batch"], output_format="list")[0]
    assert run.data.metrics["rows"] == 3000
    assert run.data.metrics["null_text_rows"] == 3
    assert run.data.metrics["rows_per_s"] > 0
