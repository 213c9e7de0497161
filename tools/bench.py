"""`make bench`: the served model against MLflow's stock transformers flavor, over real HTTP.

Both servers serve the same fine-tuned weights on 127.0.0.1, one after the other (never
sharing the cores), with the same texts. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import requests

from tools.load import Poster, closed_loop
from tools.net import free_port, mlflow_serve_command, toxicity_serve_command, wait_until_ready
from toxicity_pyfunc.jobs.config import TrainConfig, project_defaults
from toxicity_pyfunc.served.model import ToxicityModel
from toxicity_pyfunc.service.overload import texts_in_flight_bound
from toxicity_pyfunc.service.settings import ServiceSettings

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SHORT_TEXT = "you are a stupid idiot"
# Past what two cores answer without queueing, even with refused clients waiting their Retry-After.
OVERLOAD_CLIENTS = 128
# The throughput rows measure batching across many clients: no bound on texts in flight there.
UNBOUNDED = 1_000_000
# The GPU traffic row: many clients, each sending a handful of comments per request.
GPU_CLIENTS = 256
GPU_CLIENT_TEXTS = 16
GPU_LARGE_CLIENTS = 4  # batch jobs: a few clients sending request-limit requests


def bench_texts(limit: int) -> list[str]:
    """Test-split texts of the shared data when it is there, else the sample test file."""
    if (SHARED / "make_splits.py").exists():
        folder = Path(tempfile.mkdtemp(prefix="bench-splits-"))
        subprocess.run(
            [sys.executable, str(SHARED / "make_splits.py"), "--out", str(folder)],
            check=True,
            capture_output=True,
        )
        frame = pd.read_csv(folder / "test.csv", keep_default_na=False)
    else:
        frame = pd.read_csv(ROOT / "data" / "sample" / "test.csv", keep_default_na=False)
    texts = [t for t in frame["text"].astype(str) if t.strip()]
    return (texts * (limit // max(len(texts), 1) + 1))[:limit]


def train_bench_model(workdir: Path, base_model: str | None = None, encoder_layers: int = 0) -> str:
    """The default base model (or the encoder given) fine-tuned briefly on the sample data: speed
    does not depend on how well it learned."""
    from toxicity_pyfunc.jobs.training import train

    params = project_defaults("train") | {
        "train_data": str(ROOT / "data" / "sample" / "train.csv"),
        "valid_data": str(ROOT / "data" / "sample" / "valid.csv"),
        "epochs": 1,
        "batch_size": 16,  # the defaults' 64 is for the full data: 363 rows would make 6 steps
        "max_length": 256,
        "output_dir": str(workdir / "outputs"),
    }
    if base_model:
        params["base_model"] = base_model
    params["encoder_layers"] = encoder_layers
    result = train(TrainConfig.from_params(params))
    assert result is not None
    return result.model_uri


def with_settings(model_uri: str, changes: dict[str, str], workdir: Path) -> str:
    """The same weights logged again with served settings changed: another runtime (e.g. fp32 ONNX
    instead of int8, exported here when the model has none) or any other setting (e.g.
    `plain_spelling=false`: what reading disguised spellings costs).

    `train` keeps int8 only when it costs <= 0.002 validation ROC-AUC; `runtime` measures what a
    model that was refused int8 serves at.
    """
    from toxicity_pyfunc.jobs.training.export import export_onnx, quantize_int8
    from toxicity_pyfunc.jobs.training.packaging import log_classifier
    from toxicity_pyfunc.served.network import load_classifier
    from toxicity_pyfunc.served.runtimes import RUNTIME_FILES
    from toxicity_pyfunc.served.settings import InferenceSettings

    name = "-".join(f"{key}-{value}" for key, value in sorted(changes.items()))
    source = Path(mlflow.artifacts.download_artifacts(model_uri)) / "artifacts" / "classifier"
    folder = workdir / name / "classifier"  # the artifact keeps the folder's name
    shutil.copytree(source, folder)
    runtime = changes.get("runtime")
    if runtime in RUNTIME_FILES and not (folder / RUNTIME_FILES[runtime]).exists():
        model, tokenizer = load_classifier(folder)
        exported = export_onnx(model, tokenizer, folder)
        if runtime == "onnx-int8":
            quantize_int8(exported)
    settings = InferenceSettings.read(folder)
    InferenceSettings.model_validate(settings.model_dump() | changes).write(folder)
    with mlflow.start_run(run_name=f"bench-{name}"):
        return log_classifier(folder).model_uri


def log_transformers_flavor(classifier_folder: Path) -> str:
    """The stock alternative: a text-classification pipeline, sigmoid scores, truncation at 256."""
    from transformers import pipeline

    classifier = pipeline(
        "text-classification",
        model=str(classifier_folder),
        top_k=None,
        function_to_apply="sigmoid",
        device=-1,
    )
    with mlflow.start_run(run_name="bench-transformers-flavor"):
        info = mlflow.transformers.log_model(
            transformers_model=classifier,
            name="model",
            task="text-classification",
            model_config={"truncation": True, "max_length": 256, "top_k": None},
            pip_requirements=["torch==2.13.0", "transformers", "mlflow"],
        )
    return info.model_uri


@contextmanager
def serving(
    command: list[str], port: int, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    env = (
        dict(os.environ)
        | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        | (extra_env or {})
    )
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/ping", process, timeout=180)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def throughput(url: str, texts: list[str], batch: int = 64, params: dict[str, Any] | None = None) -> float:
    """Texts per second for one client sending `batch`-text requests (MLflow's records form)."""
    session = requests.Session()
    extra = {"params": params} if params else {}
    session.post(url, json={"inputs": texts[:batch]} | extra, timeout=300).raise_for_status()  # warm-up
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        body = {"dataframe_records": [{"text": t} for t in texts[start : start + batch]]} | extra
        session.post(url, json=body, timeout=300).raise_for_status()
    return len(texts) / (time.perf_counter() - started)


def concurrent_clients(
    url: str, texts: list[str], clients: int, seconds: float, per_request: int = 1
) -> dict[str, float]:
    """`clients` threads, each sending `per_request` texts per /predict request (one: a plain
    text, more: a list) for `seconds`: texts/s, p50, p99."""

    def body(sent: int) -> dict[str, Any]:
        if per_request == 1:
            return {"text": texts[sent % len(texts)]}
        return {"text": [texts[(sent * per_request + i) % len(texts)] for i in range(per_request)]}

    load = closed_loop(url, body, clients, seconds)
    if set(load.statuses) != {200}:
        raise RuntimeError(f"{clients} clients: answers other than 200: {dict(load.statuses)}")
    summary = load.summary()
    return {
        "texts_per_s": round(load.per_second() * per_request, 1),
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
    }


def overload(url: str, pid: int, texts: list[str], clients: int, seconds: float) -> dict[str, float]:
    """Past saturation: what the accepted requests wait, what is refused, and the server's memory."""
    samples: list[float] = []
    stop = threading.Event()

    def sample_memory() -> None:
        while not stop.wait(0.5):
            samples.append(rss_mb(pid))

    sampler = threading.Thread(target=sample_memory, daemon=True)
    before = rss_mb(pid)
    sampler.start()
    load = closed_loop(
        url, lambda sent: {"text": texts[sent % len(texts)]}, clients, seconds, honour_retry_after=True
    )
    stop.set()
    sampler.join()
    unexpected = set(load.statuses) - {200, 503}
    if unexpected:
        raise RuntimeError(f"past saturation the server answered {unexpected}: {dict(load.statuses)}")
    return load.summary() | {
        "rss_mb_before": round(before, 1),
        "rss_mb_peak": round(max(samples, default=before), 1),
        "rss_mb_after": round(rss_mb(pid), 1),
    }


def operations_rows(model_uri: str, texts: list[str], seconds: float) -> dict[str, float]:
    """Past saturation with the default bound on texts in flight, one per core, and none; then
    1 against 2 workers."""
    short = [text[:300] for text in texts]
    rows: dict[str, float] = {}
    cores = len(os.sched_getaffinity(0))
    bounds = {
        "bounded": texts_in_flight_bound(ServiceSettings().max_texts_in_flight, "cpu"),
        "tight": cores,
        "unbounded": UNBOUNDED,
    }
    for name, limit in bounds.items():
        port = free_port()
        env = {"TOXICITY_MAX_TEXTS_IN_FLIGHT": str(limit)}
        with serving(toxicity_serve_command(model_uri, port), port, env) as server:
            url = f"http://127.0.0.1:{port}/predict"
            alone = concurrent_clients(url, short, 1, seconds)
            past = overload(url, server.pid, short, OVERLOAD_CLIENTS, seconds)
        rows |= {f"overload_{name}_{key}": value for key, value in past.items()}
        rows[f"overload_{name}_alone_p99_ms"] = alone["p99_ms"]
        rows[f"overload_{name}_p99_vs_alone"] = round(past["p99_ms"] / alone["p99_ms"], 2)
        rows[f"overload_{name}_texts"] = limit
    for workers in (1, 2):
        port = free_port()
        command = [*toxicity_serve_command(model_uri, port), "--workers", str(workers)]
        with serving(command, port, {"TOXICITY_MAX_TEXTS_IN_FLIGHT": str(UNBOUNDED)}):
            url = f"http://127.0.0.1:{port}"
            numbers = concurrent_clients(f"{url}/predict", short, 16, seconds)
            rows[f"workers_{workers}_clients_16x1_texts_per_s"] = numbers["texts_per_s"]
            rows[f"workers_{workers}_clients_16x1_p99_ms"] = numbers["p99_ms"]
            rows[f"workers_{workers}_1x64_texts_per_s"] = round(throughput(f"{url}/invocations", texts), 1)
    rows["workers_2_vs_1_clients_16x1"] = round(
        rows["workers_2_clients_16x1_texts_per_s"] / rows["workers_1_clients_16x1_texts_per_s"], 3
    )
    return rows


def latency_ms(url: str, requests_count: int, *, with_requests: bool = False) -> tuple[float, float]:
    """p50 and p99 of one short text, one request at a time over keep-alive. The client is the
    standard library's (`tools.load.Poster`); `with_requests` measures through `requests` instead,
    to show what a heavier Python client adds on its own side."""
    body = json.dumps({"dataframe_records": [{"text": SHORT_TEXT}]}).encode()
    if with_requests:
        session = requests.Session()

        def post() -> int:
            return session.post(
                url, data=body, headers={"Content-Type": "application/json"}, timeout=60
            ).status_code

    else:
        poster = Poster(url, timeout=60)

        def post() -> int:
            return poster.post(body)[0]

    for _ in range(5):
        post()
    times = []
    for _ in range(requests_count):
        started = time.perf_counter()
        status = post()
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"{url} answered {status} to one short text")
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def in_process_latency_ms(model: Any, repeats: int) -> dict[str, float]:
    """p50 / p99 of one short text in process: the pyfunc's predict (DataFrame in and out) and the
    served model's analyze (texts in, scores out). What a server adds is the rest."""
    served = model.unwrap_python_model()
    frame = pd.DataFrame({"text": [SHORT_TEXT]})
    calls = {"predict": lambda: model.predict(frame), "analyze": lambda: served.analyze([SHORT_TEXT])}
    numbers = {}
    for name, call in calls.items():
        for _ in range(5):
            call()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        numbers[f"in_process_{name}_p50_ms"] = round(statistics.median(times), 2)
        numbers[f"in_process_{name}_p99_ms"] = round(times[min(len(times) - 1, int(0.99 * len(times)))], 2)
    return numbers


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(
    texts_count: int,
    single_requests: int,
    model_uri: str | None,
    *,
    settings: dict[str, str] | None = None,
    client_seconds: float = 20.0,
    with_operations: bool = True,
    base_model: str | None = None,
    encoder_layers: int = 0,
) -> dict[str, float | str]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    if model_uri:
        model_uri, delta = fetch_given_model(model_uri, workdir)
    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    os.environ["MLFLOW_TRACKING_URI"] = mlflow.get_tracking_uri()
    mlflow.set_experiment("bench")
    if not model_uri:
        model_uri = train_bench_model(workdir, base_model, encoder_layers)
        delta = logged_quantization_cost(model_uri)
    if settings:
        model_uri = with_settings(model_uri, settings, workdir)
    texts = bench_texts(texts_count)
    local = Path(mlflow.artifacts.download_artifacts(model_uri))
    baseline_uri = log_transformers_flavor(local / "artifacts" / "classifier")

    model = mlflow.pyfunc.load_model(model_uri)
    served = model.unwrap_python_model()
    assert isinstance(served, ToxicityModel)
    runtime = served.runtime
    model.predict(pd.DataFrame({"text": texts[:64]}))
    started = time.perf_counter()
    for start in range(0, len(texts), 64):
        model.predict(pd.DataFrame({"text": texts[start : start + 64]}))
    ceiling = len(texts) / (time.perf_counter() - started)
    companion_ms = companion_ms_per_text(served, texts)
    in_process = in_process_latency_ms(model, single_requests)
    del model

    port = free_port()
    unbounded = {"TOXICITY_MAX_TEXTS_IN_FLIGHT": str(UNBOUNDED)}
    with serving(toxicity_serve_command(model_uri, port), port, unbounded) as ours:
        url = f"http://127.0.0.1:{port}/invocations"
        ours_tps = throughput(url, texts)
        spans_tps = throughput(url, texts, params={"spans": True})
        p50, p99 = latency_ms(url, single_requests)
        requests_p50, _ = latency_ms(url, single_requests, with_requests=True)
        # Many clients of one text each (what moderation traffic looks like), beside 1 x 64 texts.
        short = [text[:300] for text in texts]
        clients = {
            f"clients_{count}x1": concurrent_clients(
                f"http://127.0.0.1:{port}/predict", short, count, client_seconds
            )
            for count in (1, 16, 64)
        }
        memory = rss_mb(ours.pid)
    port = free_port()
    with serving(mlflow_serve_command(model_uri, port), port):
        # The same pyfunc behind MLflow's own scoring server: its parsing and schema checks.
        mlflow_p50, mlflow_p99 = latency_ms(f"http://127.0.0.1:{port}/invocations", single_requests)
    port = free_port()
    with serving(mlflow_serve_command(baseline_uri, port), port):
        url = f"http://127.0.0.1:{port}/invocations"
        base_tps = throughput(url, texts)
        base_p50, _ = latency_ms(url, single_requests)

    operations = operations_rows(model_uri, texts, client_seconds) if with_operations else {}

    return {
        "runtime": runtime,
        "texts": len(texts),
        "texts_per_s": round(ours_tps, 2),
        "baseline_texts_per_s": round(base_tps, 2),
        "ratio_vs_transformers_flavor": round(ours_tps / base_tps, 3),
        "ceiling_texts_per_s": round(ceiling, 2),
        "ratio_vs_ceiling": round(ours_tps / ceiling, 3),
        "single_p50_ms": round(p50, 2),
        "single_p99_ms": round(p99, 2),
        "single_p50_ms_requests_client": round(requests_p50, 2),
        "baseline_single_p50_ms": round(base_p50, 2),
        "mlflow_serve_single_p50_ms": round(mlflow_p50, 2),
        "mlflow_serve_single_p99_ms": round(mlflow_p99, 2),
        **in_process,
        "rss_mb": round(memory, 1),
        "auc_delta_quantized": delta,
        "companion_ms_per_text": round(companion_ms, 3),
        "spans_texts_per_s": round(spans_tps, 2),
        "spans_cost_per_text": round(ours_tps / spans_tps - 1, 3),
        **{f"{name}_{key}": value for name, numbers in clients.items() for key, value in numbers.items()},
        "clients_16x1_vs_1x64": round(clients["clients_16x1"]["texts_per_s"] / ours_tps, 3),
        "clients_64x1_vs_1x64": round(clients["clients_64x1"]["texts_per_s"] / ours_tps, 3),
        **operations,
    }


def fetch_given_model(model_uri: str, workdir: Path) -> tuple[str, float]:
    """Copy a model out of the caller's tracking store, with the int8 cost its run logged.

    Done before the benchmark switches to its own store, where `models:/...` would not resolve.
    """
    folder = mlflow.artifacts.download_artifacts(model_uri, dst_path=str(workdir / "given"))
    return folder, logged_quantization_cost(model_uri)


def logged_quantization_cost(model_uri: str) -> float:
    """What int8 cost on validation, as `train` logged it (NaN where the run is unknown)."""
    run_id = mlflow.models.get_model_info(model_uri).run_id
    if not run_id:
        return float("nan")
    return mlflow.get_run(run_id).data.metrics.get("auc_delta_quantized", float("nan"))


def companion_ms_per_text(served: ToxicityModel, texts: list[str]) -> float:
    """What the TF-IDF companion adds to each text, in process, one text at a time (NaN: none)."""
    if served.companion is None:
        return float("nan")
    started = time.perf_counter()
    for text in texts:
        served.companion.logits([text])
    return (time.perf_counter() - started) * 1000 / len(texts)


def raw_forward_ceiling(classifier_folder: Path, texts: list[str], batch: int, max_length: int) -> dict:
    """The same weights' bare forward pass on the GPU in bf16: no tokenizing, no copying, no HTTP.

    Measured twice: on the real texts, pre-tokenized, length-sorted and already on the GPU; and on
    fixed batches of `batch` x 128 tokens (the shape the issue's DistilBERT figure used).
    """
    import torch

    from toxicity_pyfunc.served.batching import encode, length_sorted_batches, pad
    from toxicity_pyfunc.served.network import load_classifier
    from toxicity_pyfunc.served.runtimes import autocast_for

    device = torch.device("cuda")
    model, tokenizer = load_classifier(classifier_folder)
    model.to(device).eval()
    encoded = encode(tokenizer, texts, max_length)
    pad_id = tokenizer.pad_token_id or 0
    batches = [
        {k: v.to(device) for k, v in pad([encoded.input_ids[i] for i in rows], pad_id).items()}
        for rows in length_sorted_batches(encoded.lengths, batch)
    ]
    fixed = {
        "input_ids": torch.randint(1000, 20000, (batch, 128), device=device),
        "attention_mask": torch.ones((batch, 128), dtype=torch.long, device=device),
    }

    def timed(inputs: list[dict], repeats: int) -> float:
        with torch.inference_mode(), autocast_for(device):
            for tensors in inputs:  # warm-up: kernels chosen for each shape
                model(**tensors)
            torch.cuda.synchronize()
            started = time.perf_counter()
            for _ in range(repeats):
                for tensors in inputs:
                    model(**tensors)
            torch.cuda.synchronize()
        rows = sum(t["input_ids"].shape[0] for t in inputs) * repeats
        return rows / (time.perf_counter() - started)

    return {
        "raw_forward_real_texts_per_s": round(timed(batches, 5), 1),
        "raw_forward_fixed_128_per_s": round(timed([fixed], 50), 1),
    }


def request_breakdown_ms(served: ToxicityModel, texts: list[str], request_rows: int) -> dict[str, float]:
    """Where one request's time goes, part by part, each run alone over the same requests: the
    tokenizer (caller's thread), the forward passes through the batching worker, the companion."""
    requests_ = [texts[start : start + request_rows] for start in range(0, len(texts), request_rows)]
    encoded = [served._encode(chunk).encoded for chunk in requests_]
    companion = served.companion
    parts: dict[str, Callable[[int], object]] = {
        "tokenize": lambda i: served._encode(requests_[i]),
        "forward": lambda i: served._batches().score(encoded[i]),
    }
    if companion is not None:
        parts["companion"] = lambda i: companion.logits(requests_[i])
    result = {}
    for name, part in parts.items():
        part(0)  # warm-up
        started = time.perf_counter()
        for index in range(len(requests_)):
            part(index)
        result[f"request_{name}_ms"] = round((time.perf_counter() - started) * 1000 / len(requests_), 2)
    return result


def run_gpu(
    model_uri: str, texts: list[str], request_rows: int, client_seconds: float, workers: list[int]
) -> dict[str, float | str]:
    """On a GPU: the served model (PyTorch, bf16, large batches) next to the raw forward ceiling,
    in process (with where a request's time goes) and through `toxicity-serve` with each number
    of `workers` (processes sharing the GPU: the host-side work is Python, one core each)."""
    model = mlflow.pyfunc.load_model(model_uri)
    served = model.unwrap_python_model()
    assert isinstance(served, ToxicityModel)
    assert served.folder is not None
    runtime, folder, max_length = served.runtime, served.folder, served.max_length
    model.predict(pd.DataFrame({"text": texts[:request_rows]}))
    started = time.perf_counter()
    for start in range(0, len(texts), request_rows):
        model.predict(pd.DataFrame({"text": texts[start : start + request_rows]}))
    in_process = len(texts) / (time.perf_counter() - started)
    breakdown = request_breakdown_ms(served, texts, request_rows)
    del model, served
    ceiling = raw_forward_ceiling(folder, texts, 512, max_length)
    raw = ceiling["raw_forward_real_texts_per_s"]
    result: dict[str, float | str] = {
        "runtime": runtime,
        "texts": len(texts),
        "request_rows": request_rows,
        **ceiling,
        "in_process_texts_per_s": round(in_process, 1),
        "in_process_request_ms": round(request_rows / in_process * 1000, 2),
        **breakdown,
    }
    # The module, not the console script: a GPU machine gets the package on PYTHONPATH, uninstalled.
    # No bound on texts in flight: the rows measure throughput, not refusals.
    command = [sys.executable, "-m", "toxicity_pyfunc.service.cli", "-m", model_uri, "-h", "127.0.0.1"]
    for count in workers:
        port = free_port()
        env = {"TOXICITY_MAX_TEXTS_IN_FLIGHT": str(UNBOUNDED)}
        with serving([*command, "-p", str(port), "--workers", str(count)], port, env):
            url = f"http://127.0.0.1:{port}"
            rows = {
                f"1x{request_rows}": {"texts_per_s": throughput(f"{url}/invocations", texts, request_rows)},
                f"{GPU_LARGE_CLIENTS}x{request_rows}": concurrent_clients(
                    f"{url}/predict", texts, GPU_LARGE_CLIENTS, client_seconds, request_rows
                ),
                f"{GPU_CLIENTS}x{GPU_CLIENT_TEXTS}": concurrent_clients(
                    f"{url}/predict", texts, GPU_CLIENTS, client_seconds, GPU_CLIENT_TEXTS
                ),
            }
            p50, p99 = latency_ms(f"{url}/invocations", 200)
        for shape, numbers in rows.items():
            for key, value in numbers.items():
                result[f"workers_{count}_clients_{shape}_{key}"] = round(value, 2)
            result[f"workers_{count}_clients_{shape}_vs_raw_forward"] = round(numbers["texts_per_s"] / raw, 3)
        result[f"workers_{count}_single_p50_ms"] = round(p50, 2)
        result[f"workers_{count}_single_p99_ms"] = round(p99, 2)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--single-requests", type=int, default=200)
    parser.add_argument(
        "--client-seconds", type=float, default=20.0, help="how long each concurrent-client row runs"
    )
    parser.add_argument(
        "--model-uri", default=None, help="a logged model; default: train one on the sample data"
    )
    parser.add_argument(
        "--gpu",
        action="store_true",
        help="GPU report for --model-uri: served texts/s against the raw bf16 forward-pass ceiling",
    )
    parser.add_argument(
        "--runtime",
        choices=["torch", "onnx", "onnx-int8"],
        default=None,
        help="serve the weights with this runtime instead of the one `train` chose",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="serve the weights with this served setting changed (e.g. plain_spelling=false); repeatable",
    )
    parser.add_argument(
        "--base-model", default=None, help="encoder to fine-tune when no --model-uri (default: train's)"
    )
    parser.add_argument(
        "--encoder-layers", type=int, default=0, help="keep the first N layers of the encoder (0: all)"
    )
    parser.add_argument(
        "--skip-operations",
        action="store_true",
        help="leave out the overload (bounded against unbounded) and 1-against-2-workers rows",
    )
    parser.add_argument("--texts-file", default=None, help="a CSV with a text column (default: test split)")
    parser.add_argument(
        "--request-rows", type=int, default=1024, help="texts per request in --gpu mode (the server's limit)"
    )
    parser.add_argument(
        "--gpu-workers", type=int, nargs="+", default=[1], help="server processes to try in --gpu mode"
    )
    args = parser.parse_args(argv)
    if any("=" not in setting for setting in args.setting):
        parser.error("--setting takes KEY=VALUE, e.g. --setting plain_spelling=false")
    settings = dict(setting.split("=", 1) for setting in args.setting)
    if args.runtime:
        settings["runtime"] = args.runtime
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.gpu:
        if not args.texts_file:
            parser.error("--gpu needs --texts-file")
        frame = pd.read_csv(args.texts_file, keep_default_na=False)
        texts = [t for t in frame["text"].astype(str) if t.strip()][: args.texts]
        # Tracking as the environment says; speed does not depend on how well the model learned.
        workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        model_uri = args.model_uri or train_bench_model(workdir, args.base_model, args.encoder_layers)
        served_uri = with_settings(model_uri, settings, workdir) if settings else model_uri
        result = run_gpu(served_uri, texts, args.request_rows, args.client_seconds, args.gpu_workers)
        result["model_uri"] = model_uri  # the weights, to serve again with other settings
    else:
        result = run(
            args.texts,
            args.single_requests,
            args.model_uri,
            settings=settings,
            client_seconds=args.client_seconds,
            with_operations=not args.skip_operations,
            base_model=args.base_model,
            encoder_layers=args.encoder_layers,
        )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
