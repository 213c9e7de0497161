"""The HTTP edge under attack: every input form bounded, no cheap 500s, work that stops when nobody waits.

One test per finding of the probe: each failed on the server as it was (MLflow's scoring app with
routes added) and holds now.
"""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from tools.net import free_port, toxicity_serve_command, wait_until_ready

Server = Any  # tests/service/conftest.py
LONG = "you are a stupid idiot and everyone here knows it " * 8


@pytest.fixture(scope="module")
def edge(serve: Callable[..., Server]) -> Server:
    """Small limits and a one-second header deadline."""
    return serve(TOXICITY_MAX_ROWS="8", TOXICITY_MAX_BODY_BYTES="8192", TOXICITY_HEADER_TIMEOUT="1")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def settle(pid: int, seconds: float = 2.0) -> float:
    """CPU seconds the server spends over `seconds` of quiet after a short pause."""
    time.sleep(0.6)
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - before


NINE = [f"text {i}" for i in range(9)]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"dataframe_records": [{"text": NINE}]}, 400),  # a list where a text belongs
        ({"dataframe_split": {"columns": ["text"], "data": "x", "index": list(range(300))}}, 400),
        ({"dataframe_split": {"columns": ["text"], "data": [[NINE]]}}, 400),
        ({"instances": {"text": NINE}}, 413),
        ({"instances": [{"text": NINE}]}, 400),
        ({"inputs": {"text": [NINE]}}, 400),
        ({"inputs": NINE}, 413),
        ({"dataframe_records": [{"text": t} for t in NINE]}, 413),
    ],
)
def test_the_row_limit_holds_on_every_json_form(edge: Server, body: dict, status: int) -> None:
    response = edge.post("/invocations", json=body)
    assert response.status_code == status, response.text
    assert "error" in response.json()


def test_csv_rows_are_counted_as_parsed_and_parquet_is_refused(edge: Server) -> None:
    carriage = "text\r" + "\r".join(NINE) + "\r"
    response = edge.post("/invocations", data=carriage, headers={"Content-Type": "text/csv"})
    assert response.status_code == 413, response.text
    buffer = io.BytesIO()
    pd.DataFrame({"text": ["x"]}).to_parquet(buffer)
    parquet = edge.post(
        "/invocations", data=buffer.getvalue(), headers={"Content-Type": "application/vnd.apache.parquet"}
    )
    assert parquet.status_code == 415
    assert edge.healthy()


def test_a_chunked_body_is_counted_while_it_streams(edge: Server) -> None:
    before = rss_mb(edge.pid)

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(64):
            yield b"x" * (256 * 1024)  # 16 MiB in all, no Content-Length

    response = requests.post(f"{edge.url}/predict", data=chunks(), timeout=60)
    assert response.status_code == 413
    assert rss_mb(edge.pid) < before + 64  # counted and dropped, never buffered whole


def test_a_client_sending_too_much_still_reads_the_413(edge: Server) -> None:
    """urllib writes the whole body before it reads: the server reads and drops it, then answers."""
    request = urllib.request.Request(
        f"{edge.url}/predict", data=b"x" * (3 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=60)
    assert answer.value.code == 413
    assert "limit is 8192" in json.loads(answer.value.read())["error"]["message"]


def test_a_connection_that_sends_no_headers_is_closed(edge: Server) -> None:
    port = int(edge.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as silent:
        started = time.monotonic()
        assert silent.recv(1) == b""  # closed by the server
        assert time.monotonic() - started < 5
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        slow.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")  # and then nothing more
        started = time.monotonic()
        assert slow.recv(1024) == b""
        assert time.monotonic() - started < 5
    assert edge.healthy()


def test_cheap_500s_are_now_400s(edge: Server) -> None:
    no_type = requests.post(f"{edge.url}/invocations", data=b'{"inputs": ["hi"]}', timeout=30)
    assert no_type.status_code == 415
    assert "application/json or text/csv" in no_type.json()["error"]["message"]
    analyze = {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": None}}}
    assert edge.post("/v1alpha1/comments:analyze", json=analyze).status_code == 200
    for token in (b"NaN", b"1e400", b"5"):
        body = (
            b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "clientToken": '
            + token
            + b"}"
        )
        response = edge.post(
            "/v1alpha1/comments:analyze", data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (token, response.text)
        assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    surrogate = b'{"text": "\\ud800"}'
    for path in ("/predict", "/invocations"):
        data = surrogate if path == "/predict" else b'{"inputs": ["\\ud800"]}'
        response = edge.post(path, data=data, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        assert "lone surrogate" in response.json()["error"]["message"]
    perspective = b'{"comment": {"text": "\\ud800"}, "requestedAttributes": {"TOXICITY": {}}}'
    response = edge.post(
        "/v1alpha1/comments:analyze", data=perspective, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert edge.healthy()


def test_deep_nesting_is_a_short_400_and_no_traceback(edge: Server) -> None:
    deep = b"[" * 2000 + b"]" * 2000
    bodies = {
        "/predict": b'{"text": ' + deep + b"}",
        "/invocations": b'{"inputs": ' + deep + b"}",
        "/v1alpha1/comments:analyze": deep,
    }
    logged = edge.log.stat().st_size
    for path, body in bodies.items():
        response = edge.post(path, data=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (path, response.text)
        assert response.headers["content-type"].startswith("application/json")
    text = edge.log.read_text()[logged:]
    assert "Traceback" not in text
    assert len(text) < 3000  # three access-log lines, not pages of traceback


@pytest.mark.parametrize(
    "body",
    [{"inputs": [None]}, {"instances": [None]}, {"instances": [{"text": {}}]}, {"inputs": {"text": None}}],
)
def test_null_or_non_text_rows_are_refused_on_every_form(edge: Server, body: dict) -> None:
    response = edge.post("/invocations", json=body)
    assert response.status_code == 400, response.text
    assert "must be" in response.json()["error"]["message"] or "null" in response.json()["error"]["message"]


def test_nothing_about_the_server_leaks(edge: Server) -> None:
    malformed = edge.post("/invocations", data=b'text\n"unterminated\n', headers={"Content-Type": "text/csv"})
    assert malformed.status_code == 400
    assert "stack_trace" not in malformed.text
    assert "/work" not in malformed.text
    assert "site-packages" not in malformed.text
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert requests.get(f"{edge.url}{path}", timeout=10).status_code == 404
    page = requests.get(f"{edge.url}/", timeout=10)
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "cdn" not in page.text.lower()
    redirected = requests.post(
        f"{edge.url}/predict/",
        json={"text": "hi"},
        headers={"Host": "evil.example.com"},
        allow_redirects=False,
        timeout=10,
    )
    assert redirected.status_code == 404
    assert "evil.example.com" not in redirected.headers.get("location", "")


def test_404_405_and_head_follow_the_contract(edge: Server) -> None:
    missing = edge.post("/nowhere", json={})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 404
    wrong = requests.get(f"{edge.url}/predict", timeout=10)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == 405
    for path in ("/ping", "/health"):
        assert requests.head(f"{edge.url}{path}", timeout=10).status_code == 200


def test_request_ids_are_honoured_or_made_and_echoed(edge: Server) -> None:
    given = edge.post("/predict", json={"text": "hi"}, headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = edge.post("/predict", json={"text": "hi"})
    assert len(made.headers["x-request-id"]) == 32
    assert '"request_id": "abc-123"' in edge.log.read_text()


def test_huge_texts_are_cut_before_tokenizing_and_memory_stays_flat(serve: Callable[..., Server]) -> None:
    server = serve(TOXICITY_MAX_BODY_BYTES=str(2 * 1024 * 1024))
    text = "idiot " * 170_000  # a megabyte
    first = server.post("/predict", json={"text": text})
    assert first.status_code == 200
    assert first.json()["truncated"] is True
    before = rss_mb(server.pid)
    for _ in range(15):
        assert server.post("/predict", json={"text": text}).status_code == 200
    assert rss_mb(server.pid) < before + 100


def test_timed_out_work_is_dropped_not_finished(serve: Callable[..., Server]) -> None:
    server = serve(TOXICITY_REQUEST_TIMEOUT="0.3")
    body = {"text": [LONG] * 1024}
    started = time.monotonic()
    response = server.post("/predict", json=body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert time.monotonic() - started < 3
    assert settle(server.pid) < 0.3  # the rest of its batches never ran
    assert server.healthy()


def test_work_stops_when_the_client_leaves(serve: Callable[..., Server]) -> None:
    server = serve()
    body = json.dumps({"text": [LONG] * 1024}).encode()
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        head = (
            "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        client.sendall(head.encode() + body)
        time.sleep(0.3)  # the scoring has started
    assert settle(server.pid) < 0.3
    assert '"status": 499' in server.log.read_text()
    assert server.healthy()


def _start(model_uri: str, env: dict[str, str], folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        toxicity_serve_command(model_uri, port), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder
    )
    return process, f"http://127.0.0.1:{port}"


def test_sigterm_lets_requests_in_flight_finish_then_exits_0(
    registered: str, subprocess_env: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    process, url = _start(registered, subprocess_env(TOXICITY_DRAIN_SECONDS="20"), tmp_path)
    try:
        wait_until_ready(f"{url}/ping", process)
        answers: list[requests.Response] = []
        worker = threading.Thread(
            target=lambda: answers.append(
                requests.post(f"{url}/predict", json={"text": [LONG] * 1024}, timeout=60)
            )
        )
        worker.start()
        time.sleep(0.5)  # in flight
        process.send_signal(signal.SIGTERM)
        worker.join(timeout=60)
        assert answers
        assert answers[0].status_code == 200
        assert len(answers[0].json()["response"]) == 1024
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_sigterm_while_the_model_loads_stops_at_once(
    registered: str, subprocess_env: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    process, _ = _start(registered, subprocess_env(), tmp_path)
    try:
        time.sleep(1.5)  # importing and loading
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
