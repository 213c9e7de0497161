"""The served model: what is logged with every model, loaded by MLflow and run to answer requests.

This is the only code that travels inside a logged model (as its `code/`), so it imports nothing
from the rest of the package: `labels`, `settings` (the typed `inference.json`), `network` (the
model definition: encoder, six-label head, token head), `batching`, `coalescing` (concurrent
callers share batches), `runtimes` (the forward pass: PyTorch or ONNX Runtime), `lexical` (the
TF-IDF companion's scoring half and the blend), `spans` (token scores to character spans),
`inputs`, and `model` (the pyfunc).
"""
