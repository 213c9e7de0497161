"""What the served model's reading of disguised spellings costs per text, before the tokenizer.

Loads a saved model folder (with `plain_spelling` on) and reads every text of a CSV twice: the
first pass fills the speller's cache, the second is what a long-running server pays. Usage:

    python scripts/reading_cost.py --model-folder SAVED --texts FILE.csv [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from toxicity_pyfunc.served.model import ToxicityModel


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-folder", required=True)
    parser.add_argument("--texts", required=True, help="a CSV with a text column")
    parser.add_argument("--limit", type=int, default=8192)
    args = parser.parse_args()
    model = ToxicityModel.from_folder(Path(args.model_folder))
    if not model.settings.plain_spelling:
        parser.error(f"{args.model_folder} does not read plain spelling (plain_spelling is off)")
    frame = pd.read_csv(args.texts, keep_default_na=False)
    texts = frame["text"].astype(str).tolist()[: args.limit]
    passes = []
    for _ in range(2):
        started = time.perf_counter()
        read = [model.reading(text) for text in texts]
        passes.append(round((time.perf_counter() - started) / len(texts) * 1e6, 1))
    changed = sum(reading.text != text for reading, text in zip(read, texts, strict=True))
    result = {"texts": len(texts), "changed": changed, "first_pass_us": passes[0], "us_per_text": passes[1]}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
