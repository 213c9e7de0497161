"""`make bench` runs end to end on a few texts (a smoke run: speed is measured by make bench itself)."""

from __future__ import annotations

import json
import sys

import pytest

pytestmark = pytest.mark.services

KEYS = {
    "texts_per_s",
    "baseline_texts_per_s",
    "ratio_vs_transformers_flavor",
    "ceiling_texts_per_s",
    "ratio_vs_ceiling",
    "single_p50_ms",
    "single_p99_ms",
    "single_p50_ms_requests_client",
    "rss_mb",
    "auc_delta_quantized",
    "companion_ms_per_text",
    "spans_texts_per_s",
    "spans_cost_per_text",
    "clients_1x1_texts_per_s",
    "clients_16x1_p99_ms",
    "clients_64x1_texts_per_s",
    "clients_16x1_vs_1x64",
    "mlflow_serve_single_p50_ms",
    "in_process_predict_p50_ms",
    "in_process_analyze_p50_ms",
    "overload_bounded_p99_ms",
    "overload_bounded_p99_vs_alone",
    "overload_bounded_refused_share",
    "overload_bounded_rss_mb_peak",
    "overload_unbounded_p99_vs_alone",
    "overload_tight_p99_vs_alone",
    "workers_1_clients_16x1_texts_per_s",
    "workers_2_clients_16x1_texts_per_s",
    "workers_2_vs_1_clients_16x1",
}


def test_bench_prints_one_json_line_with_every_number(run_command, repo_root, subprocess_env) -> None:
    completed = run_command(
        [
            sys.executable,
            "-m",
            "tools.bench",
            "--base-model",
            "minilm",  # the smaller encoder: this checks the report, not the default's speed
            "--texts",
            "64",
            "--single-requests",
            "10",
            "--client-seconds",
            "2",
        ],
        env=subprocess_env(),
        cwd=repo_root,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert set(result) >= KEYS
    assert result["texts"] == 64
    assert result["texts_per_s"] > 0
    assert result["baseline_texts_per_s"] > 0
    assert result["runtime"] in {"onnx-int8", "onnx"}
    assert abs(result["auc_delta_quantized"]) < 1
    assert result["companion_ms_per_text"] > 0  # the defaults keep a TF-IDF companion


def test_a_given_model_is_fetched_from_the_callers_store_before_the_bench_switches(
    tiny_trained, tracking_store: str, tmp_path
) -> None:
    """`make bench BENCH_ARGS="--model-uri models:/m-..."` resolves the URI where it was logged."""
    import mlflow

    from tools.bench import fetch_given_model
    from toxicity_pyfunc.served.labels import LABELS

    folder, cost = fetch_given_model(tiny_trained.model_uri, tmp_path)
    logged = mlflow.get_run(tiny_trained.run_id).data.metrics["auc_delta_quantized"]
    assert cost == logged
    try:
        mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'other.db'}")  # the bench's own store
        scores = mlflow.pyfunc.load_model(folder).predict({"text": ["have a nice day"]})
        assert list(scores.columns) == list(LABELS)
    finally:
        mlflow.set_tracking_uri(tracking_store)


def test_the_bench_model_trains_from_the_encoder_and_depth_it_is_given(
    tiny_distilbert, tracking_store: str, tmp_path
) -> None:
    """`--base-model FOLDER --encoder-layers N`: what an encoder costs to serve, cut or whole."""
    import mlflow

    from tools.bench import train_bench_model

    model_uri = train_bench_model(tmp_path, str(tiny_distilbert), encoder_layers=1)
    folder = tmp_path / "downloaded"
    mlflow.artifacts.download_artifacts(model_uri, dst_path=str(folder))
    config = json.loads(next(folder.rglob("classifier/config.json")).read_text())
    assert config["model_type"] == "distilbert"
    assert config["n_layers"] == 1


def test_the_same_weights_are_served_again_with_a_setting_changed(
    tiny_trained, tracking_store: str, tmp_path
) -> None:
    """`--setting plain_spelling=false`: what a served setting costs, on the same weights."""
    import mlflow
    import numpy as np

    from tools.bench import with_settings

    changed_uri = with_settings(tiny_trained.model_uri, {"plain_spelling": "false"}, tmp_path)
    uris = (tiny_trained.model_uri, changed_uri)
    models = [mlflow.pyfunc.load_model(uri).unwrap_python_model() for uri in uris]
    assert [model.settings.plain_spelling for model in models] == [True, False]
    # One text at a time: in one batch, a text's padding (and so int8's rounding) depends on the other.
    plain, changed = (
        [model.score([text])[0] for text in ("have a nice day", "you are an idoit")] for model in models
    )
    np.testing.assert_allclose(plain[0], changed[0], atol=1e-6)  # same weights
    assert not np.allclose(plain[1], changed[1], atol=1e-6)  # read as "idiot" only with the setting on
