"""A real `mlflow models serve` process, answered over HTTP, serving the registry's champion."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from mlflow.tracking import MlflowClient

from tools.net import free_port, mlflow_serve_command, wait_until_ready
from toxicity_pyfunc.jobs.config import RegisterConfig
from toxicity_pyfunc.jobs.registry import register
from toxicity_pyfunc.served.labels import LABELS

pytestmark = pytest.mark.services

TEST_DATA = str(Path(__file__).resolve().parents[2] / "data" / "sample" / "test.csv")
TEXTS = ["have a nice day", "you are a stupid idiot"]


@pytest.fixture(scope="module")
def server(subprocess_env, minilm_trained, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    register(
        RegisterConfig(
            model_uri=minilm_trained.model_uri, test_data=TEST_DATA, registered_model="serving-test"
        )
    )
    assert MlflowClient().get_model_version_by_alias("serving-test", "champion")
    port = free_port()
    log = (tmp_path_factory.mktemp("serve") / "serve.log").open("w")
    process = subprocess.Popen(
        mlflow_serve_command("models:/serving-test@champion", port),
        env=subprocess_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path_factory.mktemp("empty"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/ping", process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def scores_from(response: requests.Response) -> list[dict[str, float]]:
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == len(TEXTS)
    for row in predictions:
        assert set(row) == set(LABELS)
        assert all(0.0 <= value <= 1.0 for value in row.values())
    return predictions


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_records": [{"text": t} for t in TEXTS]},
        {"dataframe_split": {"columns": ["text"], "data": [[t] for t in TEXTS]}},
        {"inputs": {"text": TEXTS}},
        {"instances": [{"text": t} for t in TEXTS]},
    ],
    ids=["dataframe_records", "dataframe_split", "inputs", "instances"],
)
def test_json_forms_answer_six_probabilities_in_order(server: str, body: dict) -> None:
    predictions = scores_from(requests.post(f"{server}/invocations", json=body, timeout=60))
    assert predictions[1]["toxicity"] > predictions[0]["toxicity"] + 0.3


def test_csv_body(server: str) -> None:
    csv = "text\n" + "\n".join(f'"{t}"' for t in TEXTS) + "\n"
    response = requests.post(
        f"{server}/invocations", data=csv, headers={"Content-Type": "text/csv"}, timeout=60
    )
    predictions = scores_from(response)
    assert predictions[1]["toxicity"] > predictions[0]["toxicity"]


def test_bad_request_is_4xx_and_server_keeps_serving(server: str) -> None:
    response = requests.post(
        f"{server}/invocations", json={"dataframe_records": [{"text": None}]}, timeout=60
    )
    assert 400 <= response.status_code < 500
    assert "text" in response.text
    assert requests.get(f"{server}/ping", timeout=5).status_code == 200
    scores_from(requests.post(f"{server}/invocations", json={"inputs": {"text": TEXTS}}, timeout=60))


def test_params_spans_adds_a_spans_column(server: str) -> None:
    body = {"dataframe_records": [{"text": t} for t in TEXTS], "params": {"spans": True}}
    predictions = requests.post(f"{server}/invocations", json=body, timeout=60).json()["predictions"]
    assert len(predictions) == len(TEXTS)
    for text, row in zip(TEXTS, predictions, strict=True):
        assert set(row) == {*LABELS, "spans"}
        for span in row["spans"]:
            assert text[span["begin"] : span["end"]] == span["text"]
