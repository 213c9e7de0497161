"""Command-line plumbing for `steps/*.py`: parameters come from MLproject, nothing else."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

from toxicity_pyfunc.jobs.config import project_defaults


def setup_logging() -> None:
    level = os.environ.get("TOXICITY_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Hugging Face warns about the freshly initialised head on every run; it is expected here.
    logging.getLogger("transformers.modeling_utils").setLevel(logging.ERROR)


def parse_params(entry_point: str, mlproject: Path, argv: list[str] | None = None) -> dict[str, Any]:
    """Parse `--name value` for each parameter the entry point declares, defaulting as MLproject does."""
    defaults = project_defaults(entry_point, mlproject)
    parser = argparse.ArgumentParser(
        prog=f"{entry_point} step", description=f"MLproject entry point '{entry_point}'"
    )
    for name, default in defaults.items():
        parser.add_argument(
            f"--{name}", f"--{name.replace('_', '-')}", dest=name, default=default, required=default is None
        )
    params = vars(parser.parse_args(argv))
    # A default file path (data/sample/...) is the project's: found from any working directory.
    for name, value in params.items():
        if value == defaults[name] and isinstance(value, str) and (mlproject.parent / value).is_file():
            params[name] = str((mlproject.parent / value).resolve())
    return params
