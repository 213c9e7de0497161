"""Batch scoring on Apache Spark with the logged pyfunc (`mlflow.pyfunc.spark_udf`).

Runs on `local[*]` by default and on any cluster through `spark_master` or `spark-submit`. Every
input column other than `text` is kept (ids), the six scores are added, and a row whose text is
null is kept with null scores and counted, never dropped.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import mlflow

from toxicity_pyfunc.jobs.config import BatchScoreConfig
from toxicity_pyfunc.jobs.data import COLUMN_ALIASES
from toxicity_pyfunc.jobs.tracking import job_run
from toxicity_pyfunc.served.labels import LABELS, TEXT_COLUMN

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchScoreResult:
    rows: int
    null_text_rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / max(self.seconds, 1e-9)


def spark_session(master: str) -> Any:
    """A session whose Python workers run this interpreter (with torch and the package)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("toxicity-batch-score")
    if master:  # empty: leave it to spark-submit / spark-defaults
        builder = builder.master(master)
    return (
        builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def read_input(spark: Any, path: str) -> Any:
    """CSV (quoted, multi-line comments) or Parquet, with the published text column names accepted."""
    reader = spark.read
    if path.lower().endswith(".parquet") or os.path.isdir(path):
        frame = reader.parquet(path)
    else:
        frame = (
            reader.option("header", True)
            .option("inferSchema", True)
            .option("multiLine", True)
            .option("escape", '"')
            .csv(path)
        )
    for column in frame.columns:
        if COLUMN_ALIASES.get(column.lower()) == TEXT_COLUMN and TEXT_COLUMN not in frame.columns:
            frame = frame.withColumnRenamed(column, TEXT_COLUMN)
    if TEXT_COLUMN not in frame.columns:
        raise ValueError(f"{path}: missing column 'text'; columns are {frame.columns}")
    return frame


SPANS_TYPE = "array<struct<begin: int, end: int, text: string, score: double>>"


def score_frame(spark: Any, frame: Any, model_uri: str, spans: bool = False) -> Any:
    """Add the six score columns (and a spans column); null text gives nulls (the model sees "")."""
    from pyspark.sql import functions as F  # noqa: N812

    result_type = ", ".join(
        [f"{label} double" for label in LABELS] + ([f"spans {SPANS_TYPE}"] if spans else [])
    )
    udf = mlflow.pyfunc.spark_udf(
        spark,
        model_uri,
        result_type=result_type,
        env_manager="local",
        params={"spans": True} if spans else None,
    )
    text = F.col(TEXT_COLUMN)
    scored = frame.withColumn("_scores", udf(F.struct(F.coalesce(text, F.lit("")).alias(TEXT_COLUMN))))
    for column in [*LABELS, "spans"] if spans else LABELS:
        scored = scored.withColumn(
            column, F.when(text.isNull(), F.lit(None)).otherwise(F.col(f"_scores.{column}"))
        )
    return scored.drop("_scores")


def batch_score(config: BatchScoreConfig) -> BatchScoreResult:
    """Score `input` into `output` (Parquet) and log the counts and rows/s to MLflow."""
    spark = spark_session(config.spark_master)
    with job_run("batch_score"):
        # `mlflow run` has logged the parameters already; add what Spark made of the master.
        mlflow.set_tag("spark_master_effective", spark.sparkContext.master)
        frame = read_input(spark, config.input)
        null_rows = frame.filter(frame[TEXT_COLUMN].isNull()).count()
        started = time.perf_counter()
        score_frame(spark, frame, config.model_uri, config.spans).write.mode("overwrite").parquet(
            config.output
        )
        seconds = time.perf_counter() - started
        rows = spark.read.parquet(config.output).count()
        result = BatchScoreResult(rows, null_rows, seconds)
        mlflow.log_metrics({"rows": rows, "null_text_rows": null_rows, "rows_per_s": result.rows_per_s})
        if null_rows:
            logger.warning("%d rows have null text: kept with null scores", null_rows)
        logger.info(
            "scored %d rows in %.1f s (%.0f rows/s) into %s", rows, seconds, result.rows_per_s, config.output
        )
        return result
