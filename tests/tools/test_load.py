"""The load generator's HTTP client: keep-alive, a connection the server closes, Retry-After."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from tools.load import Poster, closed_loop


class _Handler(http.server.BaseHTTPRequestHandler):
    """Echoes the JSON body's length; every third answer closes the connection; "busy" gets 503;
    after "drop" the connection is closed without a word."""

    protocol_version = "HTTP/1.1"
    answered = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).answered += 1
        refused = body.get("text") == "busy"
        payload = json.dumps({"length": len(body.get("text", ""))}).encode()
        self.send_response(503 if refused else 200)
        if refused:
            self.send_header("Retry-After", "2")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if type(self).answered % 3 == 0:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)
        if body.get("text") == "drop":  # closed without saying so, as an idle timeout would
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/predict"
    server.shutdown()
    server.server_close()


def test_poster_keeps_answering_when_the_server_closes_connections(url: str) -> None:
    poster = Poster(url)
    answers = [poster.post(json.dumps({"text": "hello"}).encode()) for _ in range(7)]
    assert answers == [(200, None)] * 7
    assert poster.post(json.dumps({"text": "busy"}).encode()) == (503, "2")
    for _ in range(3):  # a connection dropped silently is opened again for the next request
        assert poster.post(json.dumps({"text": "drop"}).encode())[0] == 200


def test_a_refused_connection_raises_for_the_caller_to_count() -> None:
    with pytest.raises(ConnectionRefusedError):
        Poster("http://127.0.0.1:9/predict", timeout=2).post(b"{}")
    with pytest.raises(ValueError, match="plain http"):
        Poster("https://example.org/predict")


def test_closed_loop_counts_every_answer_by_status(url: str) -> None:
    load = closed_loop(
        url, lambda i: {"text": "busy" if i % 2 else "ok"}, clients=2, seconds=0.5, warm_up=0.1
    )
    assert set(load.statuses) == {200, 503}
    assert load.retry_after == {"2"}
    assert len(load.accepted_ms) == load.statuses[200]
