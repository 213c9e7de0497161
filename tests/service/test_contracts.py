"""The server's three contracts over real HTTP: MLflow /invocations, /predict, Perspective."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import requests

from toxicity_pyfunc.served.labels import LABELS

Server = Any  # tests/service/conftest.py


def test_invocations_keeps_mlflow_contract(server: Server) -> None:
    response = server.post("/invocations", json={"dataframe_records": [{"text": "have a nice day"}]})
    assert response.status_code == 200
    assert set(response.json()["predictions"][0]) == set(LABELS)


def test_predict_original_contract_single_and_list(server: Server) -> None:
    single = server.post("/predict", json={"text": "you are a stupid idiot"})
    assert single.status_code == 200
    assert set(single.json()["response"]) == set(LABELS)
    assert single.json()["truncated"] is False
    many = server.post("/predict", json={"text": ["have a nice day", "you are a stupid idiot"]}).json()
    assert len(many["response"]) == 2
    assert "toxicity" in single.json()["flagged"]
    assert many["flagged"][1] == single.json()["flagged"]
    assert set(many["flagged"][0]) < set(LABELS)
    assert many["response"][1]["toxicity"] > many["response"][0]["toxicity"] + 0.3
    # int8 activations are scaled per batch: a text's score moves slightly with its batch-mates.
    assert many["response"][1]["toxicity"] == pytest.approx(single.json()["response"]["toxicity"], abs=0.02)


def test_original_curl_command_works(server: Server) -> None:
    # curl -X POST localhost:5001/predict -d '{"text": "..."}' sends form encoding, not JSON.
    completed = subprocess.run(
        ["curl", "-s", "-X", "POST", f"{server.url}/predict", "-d", '{"text": "you are a stupid idiot"}'],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert '"toxicity"' in completed.stdout, completed.stdout


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "'text' is missing"),
        ({"text": None}, 400, "'text' is null"),
        ({"text": 42}, 400, "not int"),
        ({"text": ["fine", None]}, 400, "'text'[1] must be a string, not null"),
        ({"text": ["fine", {"a": 1}]}, 400, "'text'[1] must be a string, not dict"),
        (["text"], 400, "JSON object"),
    ],
)
def test_predict_bad_input_names_the_problem(server: Server, body: object, status: int, message: str) -> None:
    response = server.post("/predict", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]
    assert server.healthy()


def test_malformed_json_wrong_type_and_unknown_routes_are_4xx(server: Server) -> None:
    for path in ("/predict", "/invocations", "/v1alpha1/comments:analyze"):
        broken = server.post(
            path, data=b'{"text": "unterminated', headers={"Content-Type": "application/json"}
        )
        assert 400 <= broken.status_code < 500, (path, broken.status_code, broken.text)
    assert server.post("/predict", data=b"text\nhi", headers={"Content-Type": "text/csv"}).status_code == 415
    assert server.post("/nowhere", json={}).status_code == 404
    assert requests.get(f"{server.url}/predict", timeout=10).status_code == 405
    assert server.healthy()


def test_empty_text_scores_zero_everywhere(server: Server) -> None:
    predicted = server.post("/predict", json={"text": ["", "   \n"]}).json()["response"]
    assert all(value == 0.0 for row in predicted for value in row.values())
    invoked = server.post("/invocations", json={"inputs": {"text": [" "]}}).json()["predictions"][0]
    assert all(value == 0.0 for value in invoked.values())


def test_limits_answer_413(server: Server) -> None:
    too_many = server.post("/predict", json={"text": ["hi"] * 9})
    assert too_many.status_code == 413
    assert "limit is 8" in too_many.json()["error"]["message"]
    rows = server.post("/invocations", json={"dataframe_records": [{"text": "hi"}] * 9})
    assert rows.status_code == 413
    too_big = server.post("/predict", json={"text": "x" * 10_000})
    assert too_big.status_code == 413
    assert server.healthy()


def test_long_text_is_truncated_and_says_so(server: Server) -> None:
    answer = server.post("/predict", json={"text": "you idiot " * 600}).json()
    assert answer["truncated"] is True
    perspective = server.post(
        "/v1alpha1/comments:analyze",
        json={"comment": {"text": "you idiot " * 600}, "requestedAttributes": {"TOXICITY": {}}},
    ).json()
    assert perspective["truncated"] is True


@pytest.mark.parametrize(
    "text",
    ["Ça va très bien, merci!", "你好, 世界", "🔥🔥 nice 😀", "مرحبا بالعالم", "tab\there\x00\x07\u200b"],
)
def test_any_unicode_scores(server: Server, text: str) -> None:
    response = server.post("/predict", json={"text": text})
    assert response.status_code == 200, response.text


def test_perspective_client_needs_only_a_new_base_url(server: Server) -> None:
    request = {
        "comment": {"text": "you are a stupid idiot"},
        "languages": ["en"],
        "requestedAttributes": {"TOXICITY": {}, "PROFANITY": {}, "THREAT": {}},
        "doNotStore": True,
        "clientToken": "abc",
    }
    response = server.post("/v1alpha1/comments:analyze?key=anything", json=request)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer["attributeScores"]) == {"TOXICITY", "PROFANITY", "THREAT"}
    toxicity = answer["attributeScores"]["TOXICITY"]["summaryScore"]
    assert toxicity["type"] == "PROBABILITY"
    assert 0.0 <= toxicity["value"] <= 1.0
    assert answer["languages"] == ["en"]
    assert answer["clientToken"] == "abc"
    direct = server.post("/predict", json={"text": "you are a stupid idiot"}).json()["response"]
    assert answer["attributeScores"]["PROFANITY"]["summaryScore"]["value"] == pytest.approx(
        direct["obscene"], abs=1e-6
    )


def test_perspective_threshold_filters_attributes(server: Server) -> None:
    answer = server.post(
        "/v1alpha1/comments:analyze",
        json={
            "comment": {"text": "have a nice day"},
            "requestedAttributes": {"TOXICITY": {"scoreThreshold": 1.01}},
        },
    ).json()
    assert answer["attributeScores"] == {}


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"comment": {"text": "hi"}, "requestedAttributes": {"FLIRTATION": {}}}, "UNKNOWN_ATTRIBUTE"),
        (
            {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de"]},
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        ),
        ({"comment": {"text": "hi"}, "requestedAttributes": {}}, "NO_REQUESTED_ATTRIBUTES"),
        ({"comment": {}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_EMPTY"),
    ],
)
def test_perspective_errors_look_like_perspective(server: Server, body: dict, error_type: str) -> None:
    response = server.post("/v1alpha1/comments:analyze", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["errorType"] == error_type


def test_openapi_document_describes_all_three(server: Server) -> None:
    document = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    assert {"/invocations", "/predict", "/v1alpha1/comments:analyze"} <= set(document["paths"])


def test_api_keys_guard_scoring_routes_only(locked_server: Server, api_key: str) -> None:
    body = {"text": "hello"}
    missing = locked_server.post("/predict", json=body)
    assert missing.status_code == 401
    assert "API key is required" in missing.json()["error"]["message"]
    wrong = locked_server.post("/predict?key=nope", json=body)
    assert wrong.status_code == 403
    assert locked_server.post(f"/predict?key={api_key}", json=body).status_code == 200
    bearer = locked_server.post(
        "/invocations", json={"inputs": {"text": ["hi"]}}, headers={"Authorization": f"Bearer {api_key}"}
    )
    assert bearer.status_code == 200
    analyze = locked_server.post("/v1alpha1/comments:analyze", json={"comment": {"text": "x"}})
    assert analyze.status_code == 401
    for path in ("/ping", "/health", "/version"):
        assert requests.get(f"{locked_server.url}{path}", timeout=10).status_code == 200
    log = locked_server.log.read_text()
    assert api_key not in log
    assert "nope" not in log
    assert "/predict" in log  # requests are logged, their keys are not


def test_open_server_says_so_at_start(server: Server) -> None:
    assert "TOXICITY_API_KEYS is not set" in server.log.read_text()


def _check_spans(text: str, spans: list[dict]) -> None:
    ends = -1
    for span in spans:
        assert set(span) == {"begin", "end", "text", "score"}
        assert ends <= span["begin"] < span["end"] <= len(text)  # in order, apart, inside the text
        assert text[span["begin"] : span["end"]] == span["text"]
        assert 0.0 <= span["score"] <= 1.0
        ends = span["end"]


def _places(spans: list[dict]) -> list[tuple[int, int, str]]:
    return [(span["begin"], span["end"], span["text"]) for span in spans]


def test_spans_on_every_route_agree(server: Server) -> None:
    texts = ["you are a stupid idiot, go away", "have a nice day"]
    single = server.post("/predict", json={"text": texts[0], "spans": True}).json()
    _check_spans(texts[0], single["spans"])
    alone_in_a_list = server.post("/predict", json={"text": texts[:1], "spans": True}).json()
    assert alone_in_a_list["spans"] == [single["spans"]]
    many = server.post("/predict", json={"text": texts, "spans": True}).json()
    assert len(many["spans"]) == 2
    # Answers are compared between requests of the same texts only: int8 scales activations per
    # batch, so a word near the span threshold may cross it when other texts share its batch.
    for text, spans in zip(texts, many["spans"], strict=True):
        _check_spans(text, spans)
    assert "spans" not in server.post("/predict", json={"text": texts[0]}).json()  # only when asked
    invoked = server.post("/invocations", json={"inputs": texts, "params": {"spans": True}}).json()
    assert [_places(row["spans"]) for row in invoked["predictions"]] == [_places(s) for s in many["spans"]]
    plain = server.post("/invocations", json={"inputs": texts}).json()
    assert all(set(row) == set(LABELS) for row in plain["predictions"])  # exactly today's answer
    analyzed = server.post(
        "/v1alpha1/comments:analyze",
        json={
            "comment": {"text": texts[0]},
            "requestedAttributes": {"TOXICITY": {}},
            "spanAnnotations": True,
        },
    ).json()
    word_level = analyzed["attributeScores"]["TOXICITY"]["spanScores"]
    assert [(s["begin"], s["end"]) for s in word_level] == [(s["begin"], s["end"]) for s in single["spans"]]
    assert all(s["score"]["type"] == "PROBABILITY" for s in word_level)


def test_spans_of_a_cut_text_stay_in_the_part_the_model_read(server: Server) -> None:
    text = "you idiot " * 600
    answer = server.post("/predict", json={"text": text, "spans": True}).json()
    assert answer["truncated"] is True
    _check_spans(text, answer["spans"])
    assert all(span["end"] <= 48 * 10 for span in answer["spans"])  # 48 tokens read: 'you', 'idiot' each
