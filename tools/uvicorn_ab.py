"""One short text through `mlflow models serve`, uvicorn's pure-Python HTTP path against its C one.

`mlflow models serve` starts uvicorn with its defaults, which take httptools (the C HTTP parser)
and uvloop (the libuv event loop) when they are installed, and h11 with asyncio otherwise. This
serves the same model both ways, alternating (UVICORN_HTTP=h11 UVICORN_LOOP=asyncio for the
second), and prints p50 / p99 of one short text per round and a JSON summary as the last line.

Usage: python -m tools.uvicorn_ab MODEL_URI [--rounds 6] [--requests 1500]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys

from tools.bench import latency_ms, serving
from tools.net import free_port, mlflow_serve_command

logger = logging.getLogger("uvicorn_ab")
WAYS = {"httptools+uvloop": {}, "h11+asyncio": {"UVICORN_HTTP": "h11", "UVICORN_LOOP": "asyncio"}}


def one_round(model_uri: str, extra_env: dict[str, str], requests_count: int) -> tuple[float, float]:
    port = free_port()
    with serving(mlflow_serve_command(model_uri, port), port, extra_env):
        return latency_ms(f"http://127.0.0.1:{port}/invocations", requests_count)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_uri")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=1500)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
    for round_index in range(args.rounds):
        order = list(WAYS) if round_index % 2 else list(reversed(WAYS))
        for way in order:
            p50, p99 = one_round(args.model_uri, WAYS[way], args.requests)
            results[way].append((round(p50, 2), round(p99, 2)))
            logger.info("round %d, %s: p50 %.2f ms, p99 %.2f ms", round_index + 1, way, p50, p99)
    summary = {
        way: {
            "p50_ms": [p50 for p50, _ in pairs],
            "p99_ms": [p99 for _, p99 in pairs],
            "mean_p50_ms": round(statistics.mean(p50 for p50, _ in pairs), 2),
            "mean_p99_ms": round(statistics.mean(p99 for _, p99 in pairs), 2),
        }
        for way, pairs in results.items()
    }
    sys.stdout.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
