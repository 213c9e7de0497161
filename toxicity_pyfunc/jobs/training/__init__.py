"""The `train` job: fine-tune, keep the best epoch, fit the companion, choose thresholds and runtime, log.

Modules: `loop` (the optimisation), `batches`, `loss`, `base_models` (the starting encoder),
`companion` (the TF-IDF half that is fitted here), `diagnostics`, `tracking`, `export` (ONNX and
int8), `packaging` (the folder on disk, then the logged pyfunc).
"""

from toxicity_pyfunc.jobs.training.job import TrainResult, train

__all__ = ["TrainResult", "train"]
