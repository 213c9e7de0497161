"""What int8 costs a trained classifier: mean ROC-AUC of fp32 ONNX against dynamic int8 with one
scale per matrix and with one scale per output channel, on the validation and test files.

Usage: python scripts/int8_cost.py CLASSIFIER_FOLDER VALID_CSV TEST_CSV > int8_cost.json
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from toxicity_pyfunc.jobs.data import load_labelled
from toxicity_pyfunc.jobs.metrics import label_metrics
from toxicity_pyfunc.jobs.training.export import export_onnx, quantize_int8
from toxicity_pyfunc.served.batching import encode
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.network import load_classifier
from toxicity_pyfunc.served.runtimes import onnx_forward, score_batches
from toxicity_pyfunc.served.settings import InferenceSettings


def main() -> None:
    source, valid, test = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    folder = Path(tempfile.mkdtemp()) / "classifier"
    shutil.copytree(source, folder)
    settings = InferenceSettings.read(folder)
    model, tokenizer = load_classifier(folder)
    fp32 = export_onnx(model, tokenizer, folder)
    graphs = {
        "fp32": fp32,
        "int8_per_tensor": quantize_int8(fp32, folder / "per_tensor.onnx", per_channel=False),
        "int8_per_channel": quantize_int8(fp32, folder / "per_channel.onnx", per_channel=True),
    }
    report: dict[str, dict[str, float]] = {}
    for split, path in (("valid", valid), ("test", test)):
        frame = load_labelled(path)
        targets = frame[list(LABELS)].to_numpy(np.float32)
        encoded = encode(tokenizer, frame["text"].tolist(), settings.max_length)
        report[split] = {
            name: label_metrics(
                targets,
                score_batches(
                    encoded,
                    settings.batch_size,
                    tokenizer.pad_token_id or 0,
                    onnx_forward(graph),
                    token_budget=settings.token_budget,
                ),
            )["mean_roc_auc"]
            for name, graph in graphs.items()
        }
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
