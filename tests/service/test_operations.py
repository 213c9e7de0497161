"""Running it in production, against real processes: Prometheus scraping /metrics, rate limits,
the bound on texts in flight under load, the champion followed without a restart, several workers."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from mlflow.tracking import MlflowClient
from prometheus_client.parser import text_string_to_metric_families

from tools.load import closed_loop
from tools.net import free_port, wait_until_ready
from toxicity_pyfunc.jobs.config import RegisterConfig
from toxicity_pyfunc.jobs.registry import register
from toxicity_pyfunc.served.labels import LABELS

TEXTS = ["you are a stupid idiot", "thanks for the helpful answer", "I will find you", "what a lovely day"]


def metric(exposition: str, series: str, **labels: str) -> float:
    """The sum of a series' samples whose labels include `labels` (0 when there is none)."""
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == series and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, str], str]]:
    """Start Debian's Prometheus scraping one target every second; yields a function that starts it."""
    started: list[subprocess.Popen[bytes]] = []

    def start(target: str, bearer: str) -> str:
        folder = tmp_path_factory.mktemp("prometheus")
        config = folder / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: toxicity\n"
            f"    authorization: {{type: Bearer, credentials: {bearer}}}\n"
            f"    static_configs: [{{targets: ['{target}']}}]\n"
        )
        port = free_port()
        process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(folder / "prometheus.log").open("w"),
        )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{url}/-/ready", process, timeout=60)
        return url

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def query(prometheus_url: str, expression: str) -> float:
    answer = requests.get(f"{prometheus_url}/api/v1/query", params={"query": expression}, timeout=10)
    answer.raise_for_status()
    result = answer.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def test_prometheus_scrapes_metrics_that_move_with_requests(
    serve: Callable[..., Any], prometheus: Callable[[str, str], str], api_key: str
) -> None:
    server = serve(TOXICITY_API_KEYS=api_key)
    assert server.get("/metrics").status_code == 401  # behind the keys unless TOXICITY_METRICS_OPEN=1
    page = server.get("/metrics", headers={"Authorization": f"Bearer {api_key}"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    assert metric(page.text, "toxicity_model_info", name="api-test", alias="champion", version="1") == 1
    assert metric(page.text, "toxicity_model_load_seconds") > 0

    url = prometheus(server.url.removeprefix("http://"), api_key)
    wait_for(lambda: query(url, 'up{job="toxicity"}') == 1, 60, "Prometheus scraping the server")
    scored = 'toxicity_texts_scored_total{job="toxicity"}'
    before = query(url, scored)
    for text in TEXTS:
        answer = server.post("/predict", json={"text": [text, text]}, params={"key": api_key})
        assert answer.status_code == 200
    wait_for(lambda: query(url, scored) >= before + 2 * len(TEXTS), 30, "texts scored rising in Prometheus")
    requests_ok = 'toxicity_requests_total{route="/predict",status="200"}'
    assert query(url, requests_ok) >= len(TEXTS)
    assert query(url, 'toxicity_request_duration_seconds_count{route="/predict"}') >= len(TEXTS)
    assert query(url, "toxicity_batch_texts_count") >= 1
    # Requests that fail count too, by status; their route is named only when it exists.
    assert server.post("/predict", json={"text": 1}, params={"key": api_key}).status_code == 400
    assert server.get("/no/such/route").status_code == 404
    wait_for(
        lambda: (
            query(url, 'toxicity_requests_total{route="/predict",status="400"}') == 1
            and query(url, 'toxicity_requests_total{route="-",status="404"}') == 1
        ),
        30,
        "the 400 and the 404 counted",
    )


def test_metrics_open_without_a_key_only_when_asked(serve: Callable[..., Any], api_key: str) -> None:
    server = serve(TOXICITY_API_KEYS=api_key, TOXICITY_METRICS_OPEN="1")
    assert server.get("/metrics").status_code == 200
    assert server.post("/predict", json={"text": "hi"}).status_code == 401  # scoring stays locked


def test_rate_limit_per_key_answers_429_with_retry_after(serve: Callable[..., Any], api_key: str) -> None:
    server = serve(TOXICITY_API_KEYS=f"{api_key},second-key", TOXICITY_RATE_LIMIT="2/minute")
    for _ in range(2):
        assert server.post("/predict", json={"text": "hi"}, params={"key": api_key}).status_code == 200
    refused = server.post("/predict", json={"text": "hi"}, params={"key": api_key})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "rate limit" in refused.json()["error"]["message"]
    perspective = server.post(
        "/v1alpha1/comments:analyze",
        json={"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}},
        params={"key": api_key},
    )
    assert perspective.status_code == 429
    assert perspective.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    # Another key has its own window; health and metrics are not counted against anyone.
    assert server.post("/predict", json={"text": "hi"}, params={"key": "second-key"}).status_code == 200
    assert server.get("/health").status_code == 200
    page = server.get("/metrics", params={"key": api_key}).text
    assert metric(page, "toxicity_requests_rejected_total", reason="rate_limited") == 2


def test_past_the_bound_of_texts_in_flight_requests_are_refused_at_once(serve: Callable[..., Any]) -> None:
    server = serve(TOXICITY_MAX_TEXTS_IN_FLIGHT="4")
    body = {"text": TEXTS}  # 4 texts: one request fills the bound, a second one must wait its turn
    load = closed_loop(f"{server.url}/predict", lambda _i: body, clients=6, seconds=6)
    assert load.statuses[200] > 0
    assert load.statuses[503] > 0
    assert set(load.statuses) == {200, 503}, load.statuses  # nothing else: no 500, no dropped connection
    assert load.retry_after == {"1"}
    page = server.get("/metrics").text
    assert metric(page, "toxicity_requests_rejected_total", reason="overloaded") >= load.statuses[503]
    assert metric(page, "toxicity_texts_in_flight") == 0  # every accepted text was answered
    assert server.post("/predict", json={"text": "hi"}).status_code == 200


def _in_process_scores(model_uri: str, text: str) -> np.ndarray:
    frame = mlflow.pyfunc.load_model(model_uri).predict(pd.DataFrame({"text": [text]}))
    return frame[list(LABELS)].to_numpy()[0]


def _served_version(server: Any) -> str:
    return str(server.get("/version").json()["model"]["version"])


class Echo(mlflow.pyfunc.PythonModel):
    """Not this project's model: a registry version the server must refuse to swap in."""

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input


def test_the_champion_is_followed_under_load_without_a_failed_request(
    serve: Callable[..., Any], tiny_encoder_only: Any, minilm_trained: Any, sample_data: Path
) -> None:
    name = "followed"

    def promote(model_uri: str) -> None:
        register(
            RegisterConfig(
                model_uri=model_uri, test_data=str(sample_data / "test.csv"), registered_model=name
            )
        )

    promote(tiny_encoder_only.model_uri)
    server = serve(f"models:/{name}@champion", args=("--follow-alias", "1"))
    assert _served_version(server) == "1"
    text = TEXTS[0]
    old = np.array(list(server.post("/predict", json={"text": text}).json()["response"].values()))

    def move_the_alias_and_wait() -> None:
        promote(minilm_trained.model_uri)  # a better model: `register` moves champion to it
        assert MlflowClient().get_model_version_by_alias(name, "champion").version == 2
        wait_for(lambda: _served_version(server) == "2", 90, "the server following the alias")

    load = closed_loop(
        f"{server.url}/predict",
        lambda i: {"text": TEXTS[i % len(TEXTS)]},
        clients=4,
        seconds=10,
        while_running=move_the_alias_and_wait,
    )
    assert set(load.statuses) == {200}, load.statuses  # no request failed during the swap
    new = np.array(list(server.post("/predict", json={"text": text}).json()["response"].values()))
    np.testing.assert_allclose(new, _in_process_scores(minilm_trained.model_uri, text), atol=1e-4)
    assert not np.allclose(new, old, atol=1e-3)
    page = server.get("/metrics").text
    assert metric(page, "toxicity_model_swaps_total") == 1
    assert metric(page, "toxicity_model_info", version="2") == 1
    assert metric(page, "toxicity_model_info", version="1") == 0

    # A version that cannot be served: logged, counted, and the old model keeps answering.
    with mlflow.start_run():
        broken = mlflow.pyfunc.log_model(name="model", python_model=Echo(), registered_model_name=name)
    MlflowClient().set_registered_model_alias(name, "champion", str(broken.registered_model_version))
    wait_for(
        lambda: metric(server.get("/metrics").text, "toxicity_model_load_failures_total") == 1,
        90,
        "the failed load counted",
    )
    assert "failed to load; version 2 keeps serving" in server.log.read_text()
    assert _served_version(server) == "2"
    again = np.array(list(server.post("/predict", json={"text": text}).json()["response"].values()))
    np.testing.assert_allclose(again, new, atol=1e-6)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_two_workers_serve_and_metrics_count_both(serve: Callable[..., Any]) -> None:
    server = serve(args=("--workers", "2"))
    assert len(_children(server.pid)) >= 2  # the workers (and multiprocessing's resource tracker)

    def started() -> list[str]:
        return [
            line for line in server.log.read_text().splitlines() if "Application startup complete" in line
        ]

    wait_for(lambda: len(started()) == 2, 120, "both workers loading their model")
    sent = 24
    for index in range(sent):  # a new connection each: the kernel spreads them over the workers
        answer = requests.post(f"{server.url}/predict", json={"text": TEXTS[index % len(TEXTS)]}, timeout=60)
        assert answer.status_code == 200
    # Whichever worker answers the scrape, it reports the texts of both.
    for _ in range(4):
        page = requests.get(f"{server.url}/metrics", timeout=30).text
        assert metric(page, "toxicity_texts_scored_total") == sent
        assert metric(page, "toxicity_model_info", version="1") == 1
