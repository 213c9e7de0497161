"""Abuse: property-based fuzzing from the server's own OpenAPI document, a load test, the page in Chromium."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

Server = Any  # tests/service/conftest.py


@pytest.fixture(scope="module")
def fuzzed(serve: Callable[..., Server]) -> Server:
    """Its own server: fuzzing must not share a row limit or a log with the contract tests."""
    return serve(TOXICITY_MAX_ROWS="64")


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_fuzz_from_openapi_no_5xx_and_answers_follow_the_schema(fuzzed: Server, mode: str) -> None:
    """schemathesis: schema-valid bodies are accepted, invalid ones refused with a 4xx, none is a
    5xx, and every answer (status, content type, body) is the one the document promises."""
    schema = schemathesis.openapi.from_url(f"{fuzzed.url}/openapi.json")
    strategy = schema.as_strategy(generation_mode=GenerationMode(mode))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(case=strategy)
    def check(case: Any) -> None:
        # For text/csv schemathesis sends any string (it does not apply the documented pattern), so
        # "valid" and "invalid" CSV cannot be told apart there: CSV keeps the other checks only.
        csv_only = [negative_data_rejection, positive_data_acceptance]
        case.call_and_validate(excluded_checks=csv_only if case.media_type == "text/csv" else [])

    check()
    assert fuzzed.healthy()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_load_60s_no_errors_flat_memory(fuzzed: Server) -> None:
    server = fuzzed
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


def test_demo_page_in_headless_chromium(fuzzed: Server, tmp_path: Path) -> None:
    server = fuzzed
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
        marked = [mark.text for mark in browser.find_elements(By.CSS_SELECTOR, "#highlighted mark")]
        shown_text = browser.find_element(By.ID, "highlighted").text
    finally:
        browser.quit()
    answer = server.post("/predict", json={"text": "you are a stupid idiot", "spans": True}).json()
    direct = answer["response"]
    assert marked == [span["text"] for span in answer["spans"]]  # the page marks the spans it was sent
    assert shown_text == "you are a stupid idiot"
    assert set(shown) == set(direct)
    assert shown["toxicity"] == pytest.approx(direct["toxicity"], abs=1e-3)
    # The bar's width is the score as a percentage (Chromium may write 90.0% as 90%).
    drawn = re.search(r"width:\s*([0-9.]+)%", width)
    assert drawn, width
    assert float(drawn.group(1)) == pytest.approx(100 * direct["toxicity"], abs=0.06)
    assert "POST /predict" in sent
    assert '"text":"you are a stupid idiot"' in sent
