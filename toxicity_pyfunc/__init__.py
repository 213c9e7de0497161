"""Toxicity classification as an MLflow project: six Jigsaw attributes from one encoder."""

from toxicity_pyfunc.labels import LABELS

__all__ = ["LABELS"]
__version__ = "0.1.0"
