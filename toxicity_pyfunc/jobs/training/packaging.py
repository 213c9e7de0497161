"""Packaging a trained classifier: the folder on local disk first, then the logged pyfunc.

Only the served wing (`toxicity_pyfunc/served/`) travels with a logged model as its code:
training, evaluation, the HTTP service and the tools stay behind.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from importlib import import_module
from pathlib import Path
from typing import Any

import mlflow
from mlflow.models.model import ModelInfo

import toxicity_pyfunc
from toxicity_pyfunc.jobs.config import UploadConfig
from toxicity_pyfunc.served.model import ARTIFACT_KEY, INPUT_EXAMPLE, SIGNATURE, ToxicityModel
from toxicity_pyfunc.served.settings import InferenceSettings

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(toxicity_pyfunc.__file__).resolve().parent
SERVED_DIR = "served"

# torch is pinned to the bare version: the installed one says "+cpu", which pip cannot find.
# Requirement name -> the module whose version it takes.
_PINNED = {
    "torch": "torch",
    "transformers": "transformers",
    "tokenizers": "tokenizers",
    "mlflow": "mlflow",
    "pandas": "pandas",
    "numpy": "numpy",
    "safetensors": "safetensors",
    "onnxruntime": "onnxruntime",
    "pydantic": "pydantic",  # the settings file
    "scikit-learn": "sklearn",  # the TF-IDF companion
    "scipy": "scipy",
    "pyspellchecker": "spellchecker",  # the English word list of `plain_spelling`
}
# Not imported by the model, so not taken from the training environment (which may lack them: a
# GPU machine did, and logging failed there): `mlflow models serve` runs uvicorn, which takes the C
# HTTP parser and the libuv event loop when they are installed (one text: p50 12-18% and p99 30-38%
# lower, docs/performance.md). The same pins as requirements.txt and conda.yaml (a test checks).
SERVER_EXTRAS = {"httptools": "0.9.0", "uvloop": "0.23.0"}


class ModelUploadError(RuntimeError):
    """Training finished but logging the model failed; the model is safe on local disk."""


def pip_requirements() -> list[str]:
    """Exact versions of what the model needs at serving time, installable from PyPI."""
    # Versions from the modules themselves: `mlflow` may be installed as mlflow-skinny.
    imported = [
        f"{name}=={import_module(module).__version__.split('+', 1)[0]}" for name, module in _PINNED.items()
    ]
    return imported + [f"{name}=={version}" for name, version in SERVER_EXTRAS.items()]


def save_classifier(model: Any, tokenizer: Any, settings: InferenceSettings, folder: Path) -> Path:
    """Write the fine-tuned folder to local disk first: it survives a failed upload."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder)
    tokenizer.save_pretrained(folder)
    settings.write(folder)
    logger.info("saved fine-tuned classifier to %s", folder)
    return folder


def served_code(staging: Path) -> Path:
    """A copy of the package holding only its served wing, to log as the model's code."""
    package = staging / PACKAGE_DIR.name
    package.mkdir(parents=True)
    shutil.copy(PACKAGE_DIR / "__init__.py", package / "__init__.py")
    shutil.copytree(
        PACKAGE_DIR / SERVED_DIR, package / SERVED_DIR, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return package


def log_classifier(folder: Path, name: str = "model", **log_kwargs: Any) -> ModelInfo:
    """Log a saved classifier folder as the project's pyfunc in the active run."""
    with tempfile.TemporaryDirectory(prefix="served-code-") as staging:
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=ToxicityModel(),
            artifacts={ARTIFACT_KEY: str(folder)},
            code_paths=[str(served_code(Path(staging)))],
            signature=SIGNATURE,
            input_example=INPUT_EXAMPLE,
            pip_requirements=pip_requirements(),
            **log_kwargs,
        )


_CREDENTIAL_PROBLEMS = (
    "NoCredentialsError",
    "Unable to locate credentials",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "ExpiredToken",
    "InvalidToken",
)


def explain_upload_failure(error: BaseException) -> str:
    """Name what to fix: S3 credentials in direct mode, otherwise the unreachable service."""
    chain: list[str] = []
    seen: BaseException | None = error
    while seen is not None:
        chain.append(f"{seen.__class__.__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__
    text = " | ".join(chain)
    missing = next((link for link in chain if link.startswith("ModuleNotFoundError")), None)
    if missing is not None:  # the store is fine: this environment lacks a package the model names
        return f"a package is missing here ({missing}); install the project's requirements.txt"
    if any(marker in text for marker in _CREDENTIAL_PROBLEMS):
        return (
            "the artifact store refused or found no S3 credentials. Set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), AWS_DEFAULT_REGION, and MLFLOW_S3_ENDPOINT_URL for "
            "an S3-compatible store; or use a tracking server with proxied artifacts (--serve-artifacts)"
        )
    return f"the tracking server or artifact store is unreachable or failing ({chain[0][:300]})"


def log_saved_model(folder: Path) -> str:
    """Log a saved classifier folder to the active run; on failure say why and how to retry."""
    try:
        info = log_classifier(folder)
    except Exception as error:
        raise ModelUploadError(
            f"logging the model failed: {explain_upload_failure(error)}. "
            f"The trained model is kept at {folder}. Once that is fixed, log it again with: "
            f"mlflow run . -e upload -P model_dir={folder} --env-manager local"
        ) from error
    logger.info("logged model %s", info.model_uri)
    return info.model_uri


def upload_saved_model(config: UploadConfig) -> str:
    """The `upload` job: log a folder kept after a failed upload, in a run that points back at its trainer."""
    folder = Path(config.model_dir).resolve()
    with mlflow.start_run():
        # outputs/<run id>/classifier: point back at the run that trained it.
        mlflow.set_tag("trained_in_run", folder.parent.name)
        return log_saved_model(folder)
