"""Abuse: property-based fuzzing from the OpenAPI document, a load test, the page in Chromium."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_api import Server, registered, start_server  # noqa: F401  (fixture re-used)

from toxicity_pyfunc.openapi import openapi_document

ROUTES = ("/invocations", "/predict", "/v1alpha1/comments:analyze")
DOCUMENT = openapi_document()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


def from_schema(schema: dict) -> st.SearchStrategy:
    """Bodies that follow an OpenAPI schema (the subset our document uses), for fuzzing."""
    if "oneOf" in schema:
        return st.one_of([from_schema(option) for option in schema["oneOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = {name: from_schema(properties[name]) for name in schema.get("required", [])}
        optional = {name: from_schema(sub) for name, sub in properties.items() if name not in required}
        objects = st.fixed_dictionaries(required, optional=optional)
        if schema.get("minProperties"):
            objects = objects.filter(lambda value: len(value) >= schema["minProperties"])
        return objects
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {})),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 6), 6),
        )
    return SCALARS.get(kind, json_values)


SCALARS = {
    "string": st.text(max_size=200),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "integer": st.integers(),
    "boolean": st.booleans(),
}


def request_schema(path: str) -> dict:
    return DOCUMENT["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]


@pytest.fixture(scope="module")
def server(registered: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # noqa: F811
    yield from start_server(tmp_path_factory.mktemp("abuse-server"), TOXICITY_MAX_ROWS="64")


@pytest.mark.parametrize("path", ROUTES)
def test_fuzz_from_openapi_never_5xx(server: Server, path: str) -> None:
    bodies = from_schema(request_schema(path)) | json_values

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(body=bodies)
    def check(body: object) -> None:
        response = server.post(path, data=json.dumps(body), headers={"Content-Type": "application/json"})
        assert response.status_code < 500, (body, response.status_code, response.text[:300])

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        raw=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/csv", "", "x/y"])
    )
    def check_raw(raw: bytes, content_type: str) -> None:
        response = server.post(path, data=raw, headers={"Content-Type": content_type})
        assert response.status_code < 500, (raw, content_type, response.status_code, response.text[:300])

    check()
    check_raw()
    assert server.healthy()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_load_60s_no_errors_flat_memory(server: Server) -> None:
    texts = ["you are a stupid idiot", "have a nice day", "thanks for the citation " * 5, "I will find you"]
    errors: list[str] = []
    done = {"count": 0}
    stop = threading.Event()

    def client(index: int) -> None:
        session = requests.Session()
        routes = [
            ("/predict", {"text": texts[index % 4]}),
            ("/invocations", {"inputs": {"text": texts}}),
            (
                "/v1alpha1/comments:analyze",
                {"comment": {"text": texts[1]}, "requestedAttributes": {"TOXICITY": {}}},
            ),
        ]
        n = 0
        while not stop.is_set():
            path, body = routes[n % 3]
            n += 1
            try:
                response = session.post(f"{server.url}{path}", json=body, timeout=30)
                if response.status_code != 200:
                    errors.append(f"{path} {response.status_code}")
            except requests.RequestException as error:
                errors.append(f"{path} {error}")
            done["count"] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(10)  # warm-up
    after_warmup = rss_kb(server.pid)
    time.sleep(55)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    final = rss_kb(server.pid)
    assert not errors, errors[:5]
    assert done["count"] > 100
    assert final < after_warmup * 1.10, (after_warmup, final)
    assert server.healthy()


def test_demo_page_in_headless_chromium(server: Server, tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium, "Debian's chromium is needed (make test installs it)"
    assert driver_path, "Debian's chromium-driver is needed (make test installs it)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        browser.get(f"{server.url}/")
        browser.find_element(By.ID, "text").send_keys("you are a stupid idiot")
        browser.find_element(By.ID, "score").click()
        WebDriverWait(browser, 60).until(
            lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-scored")
        )
        shown = {
            row.get_attribute("data-label"): float(row.find_element(By.CLASS_NAME, "value").text)
            for row in browser.find_elements(By.CSS_SELECTOR, "#bars .row")
        }
        width = browser.find_element(By.CSS_SELECTOR, '[data-label="toxicity"] .fill').get_attribute("style")
        sent = browser.find_element(By.ID, "request").text
    finally:
        browser.quit()
    direct = server.post("/predict", json={"text": "you are a stupid idiot"}).json()["response"]
    assert set(shown) == set(direct)
    assert shown["toxicity"] == pytest.approx(direct["toxicity"], abs=1e-3)
    assert f"{100 * direct['toxicity']:.1f}%" in width
    assert "POST /predict" in sent
    assert '"text":"you are a stupid idiot"' in sent
