"""Preparing the CPU runtime: ONNX export, dynamic int8 quantization, and the choice between them.

On CPUs ONNX Runtime with int8 weights scores about twice as fast as PyTorch. Which runtime a
model uses is decided here, when it is logged, and written into its settings, so a served model
always runs what was measured for it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from toxicity_pyfunc.jobs.metrics import label_metrics
from toxicity_pyfunc.served.batching import encode
from toxicity_pyfunc.served.runtimes import INT8_FILE, ONNX_FILE, onnx_forward, score_batches
from toxicity_pyfunc.served.settings import InferenceSettings, Runtime

logger = logging.getLogger(__name__)


class _Outputs(torch.nn.Module):
    """The network's outputs as a plain tuple (`logits`, and `token_logits` where there is a token head)."""

    def __init__(self, network: Any) -> None:
        super().__init__()
        self.network = network

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        output = self.network(input_ids=input_ids, attention_mask=attention_mask)
        token_logits = getattr(output, "token_logits", None)
        return (output.logits,) if token_logits is None else (output.logits, token_logits)


def export_onnx(model: Any, tokenizer: Any, folder: Path) -> Path:
    """Write the network as ONNX with dynamic batch and sequence axes, both heads as outputs.

    BERT encoders are exported with eager attention so that ONNX Runtime's transformer
    optimizer can fuse attention, LayerNorm and GELU; other encoders are exported as they are.
    """
    model = model.to("cpu").eval()
    with_tokens = hasattr(model, "token_classifier")
    outputs = ["logits", "token_logits"] if with_tokens else ["logits"]
    fusable = model.config.model_type == "bert"
    previous = model.config._attn_implementation
    if fusable:
        model.config._attn_implementation = "eager"
    example = tokenizer(["an example", "another, longer example text"], padding=True, return_tensors="pt")
    path = folder / ONNX_FILE
    try:
        with torch.inference_mode():
            torch.onnx.export(
                _Outputs(model),
                (example["input_ids"], example["attention_mask"]),
                str(path),
                input_names=["input_ids", "attention_mask"],
                output_names=outputs,
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "logits": {0: "batch"},
                }
                | ({"token_logits": {0: "batch", 1: "tokens"}} if with_tokens else {}),
                opset_version=17,
                dynamo=False,
            )
    finally:
        model.config._attn_implementation = previous
    if fusable:
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(
            str(path),
            model_type="bert",
            num_heads=model.config.num_attention_heads,
            hidden_size=model.config.hidden_size,
        )
        optimized.save_model_to_file(str(path))
        logger.info(
            "fused operators: %s", {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
        )
    return path


def quantize_int8(source: Path, target: Path | None = None, *, per_channel: bool = True) -> Path:
    """Dynamic int8 quantization of the weights (activations stay float).

    One scale per output channel rather than per matrix: as fast on the CPU (309 against 313
    texts/s measured), about half the score error, which decides whether int8 passes the
    ROC-AUC guard on a fully trained model.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = target or source.with_name(INT8_FILE)
    quantize_dynamic(
        str(source),
        str(target),
        per_channel=per_channel,
        weight_type=QuantType.QInt8,
        # Fused operators come from another domain; their outputs are float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    return target


# Quantization may cost at most this much mean ROC-AUC on the validation file.
MAX_AUC_COST = 0.002


def choose_runtime(
    model: Any,
    tokenizer: Any,
    folder: Path,
    *,
    valid_texts: list[str],
    valid_targets: np.ndarray,
    reference_auc: float,
    settings: InferenceSettings,
) -> tuple[Runtime, dict[str, float]]:
    """Export ONNX and int8 next to the weights; keep int8 if it costs at most MAX_AUC_COST.

    Returns the runtime's name and the measurements, which the caller logs.
    """
    fp32 = export_onnx(model, tokenizer, folder)
    int8 = quantize_int8(fp32)
    encoded = encode(tokenizer, valid_texts, settings.max_length)
    scores = score_batches(
        encoded,
        settings.batch_size,
        tokenizer.pad_token_id or 0,
        onnx_forward(int8),
        token_budget=settings.token_budget,
    )
    int8_auc = label_metrics(valid_targets, scores)["mean_roc_auc"]
    cost = reference_auc - int8_auc
    keep_int8 = not np.isnan(cost) and cost <= MAX_AUC_COST
    (fp32 if keep_int8 else int8).unlink()
    runtime: Runtime = "onnx-int8" if keep_int8 else "onnx"
    logger.info("int8 costs %.4f mean ROC-AUC on validation: runtime %s", cost, runtime)
    return runtime, {"valid_mean_roc_auc_int8": int8_auc, "auc_delta_quantized": cost}
