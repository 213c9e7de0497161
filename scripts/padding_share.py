"""How many padded tokens a served GPU batch costs, against the raw forward pass of the bench.

The GPU report's raw ceiling sorts all its texts by length before cutting 512-row batches, so it
pads almost nothing; a server sorts only what one request (or the requests waiting together)
brings. For requests of `--request-rows` texts, this prints the padded tokens the served batches
hold, as a share of the raw ceiling's, with batches cut by rows alone and by each padded-token
budget (`gpu_token_budget`), and the batches per request. No GPU needed: only the tokenizer.

    python scripts/padding_share.py --model-folder SAVED --texts test.csv --request-rows 1024 256
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from toxicity_pyfunc.jobs.data import read_table
from toxicity_pyfunc.served.batching import inference_batches, length_sorted_batches, padded_width
from toxicity_pyfunc.served.model import GPU_BATCH_SIZE, GPU_PAD_MULTIPLE
from toxicity_pyfunc.served.network import load_classifier
from toxicity_pyfunc.served.settings import InferenceSettings


def padded_tokens(lengths: np.ndarray, batches: list[np.ndarray]) -> int:
    return sum(len(rows) * padded_width(int(lengths[rows].max()), GPU_PAD_MULTIPLE) for rows in batches)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-folder", required=True, help="a saved classifier folder (its tokenizer)")
    parser.add_argument("--texts", required=True, help="a file with a text column")
    parser.add_argument("--count", type=int, default=8192)
    parser.add_argument("--request-rows", type=int, nargs="+", default=[1024, 256])
    parser.add_argument("--budgets", type=int, nargs="+", default=[0, 8192, 16384, 32768])
    args = parser.parse_args()
    folder = Path(args.model_folder)
    _, tokenizer = load_classifier(folder)
    max_length = InferenceSettings.read(folder).max_length
    texts = read_table(args.texts)["text"].astype(str).tolist()[: args.count]
    encoded = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    lengths = np.array([len(ids) for ids in encoded])
    raw = padded_tokens(lengths, length_sorted_batches(lengths, GPU_BATCH_SIZE))
    report: dict[str, float] = {"texts": len(texts), "tokens": int(lengths.sum()), "raw_padded_tokens": raw}
    for rows in args.request_rows:
        requests = [lengths[start : start + rows] for start in range(0, len(lengths), rows)]
        for budget in args.budgets:
            batches = [inference_batches(request, GPU_BATCH_SIZE, budget) for request in requests]
            tokens = sum(padded_tokens(request, b) for request, b in zip(requests, batches, strict=True))
            report[f"requests_{rows}_budget_{budget}_vs_raw"] = round(tokens / raw, 2)
            report[f"requests_{rows}_budget_{budget}_batches"] = round(
                float(np.mean([len(b) for b in batches])), 2
            )
    sys.stdout.write(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
