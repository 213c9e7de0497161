"""Toxicity classification as an MLflow project: six Jigsaw attributes from one encoder.

Three wings: `served` (the model that is logged and answers requests; the only code that travels
inside a logged model) with `service` (the HTTP server around it), `jobs` (train, evaluate,
register, batch score), and, outside this package, `tools/` (benchmark, local stack).
"""

__version__ = "0.2.0"
