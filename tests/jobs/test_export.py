"""ONNX export (fused for BERT) and int8 quantization against the PyTorch forward pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from toxicity_pyfunc.jobs.training.base_models import build_network
from toxicity_pyfunc.jobs.training.export import export_onnx, quantize_int8
from toxicity_pyfunc.served.batching import encode, pad
from toxicity_pyfunc.served.runtimes import onnx_forward, score_batches, torch_forward

TEXTS = ["you are a stupid idiot", "have a nice day", "a much longer comment " * 20, "ok"]


def scores(forward, tokenizer) -> np.ndarray:
    return score_batches(
        encode(tokenizer, TEXTS, 128), 2, tokenizer.pad_token_id or 0, forward, token_budget=512
    )


def test_fused_minilm_onnx_matches_torch_and_int8_stays_close(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model, tokenizer = build_network("minilm")
    model.eval()
    reference = scores(torch_forward(model, torch.device("cpu")), tokenizer)
    fp32 = export_onnx(model, tokenizer, tmp_path)
    np.testing.assert_allclose(scores(onnx_forward(fp32), tokenizer), reference, atol=1e-4)
    int8 = quantize_int8(fp32)
    assert int8.stat().st_size < fp32.stat().st_size / 3
    np.testing.assert_allclose(scores(onnx_forward(int8), tokenizer), reference, atol=0.05)
    assert model.config._attn_implementation != "eager"  # the export leaves the model as it was


def test_the_token_head_is_exported_beside_the_labels(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model, tokenizer = build_network("minilm", "mean")
    model.eval()
    batch = pad(encode(tokenizer, TEXTS, 128).input_ids, tokenizer.pad_token_id)
    expected = torch_forward(model, torch.device("cpu"))(batch, True)
    exported = onnx_forward(export_onnx(model, tokenizer, tmp_path))(batch, True)
    assert exported[1] is not None
    assert expected[1] is not None
    np.testing.assert_allclose(exported[0], expected[0], atol=1e-4)
    np.testing.assert_allclose(exported[1], expected[1], atol=1e-4)
    assert exported[1].shape == batch["input_ids"].shape


def test_distilbert_exports_unfused(tiny_distilbert: Path, tmp_path: Path) -> None:
    model, tokenizer = build_network(str(tiny_distilbert))
    model.eval()
    reference = scores(torch_forward(model, torch.device("cpu")), tokenizer)
    np.testing.assert_allclose(
        scores(onnx_forward(export_onnx(model, tokenizer, tmp_path)), tokenizer), reference, atol=1e-4
    )
