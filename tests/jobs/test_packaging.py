"""Packaging: pinned requirements, and only the served wing as the model's code."""

from __future__ import annotations

import json
import sys
import sysconfig
import textwrap
from importlib import import_module
from pathlib import Path

import mlflow

from toxicity_pyfunc.jobs.training.packaging import SERVER_EXTRAS, explain_upload_failure, pip_requirements
from toxicity_pyfunc.served.labels import LABELS


def test_requirements_are_installable_pins() -> None:
    pins = pip_requirements()
    assert "torch==2.13.0" in pins
    assert any(pin.startswith("scikit-learn==") for pin in pins)  # the TF-IDF companion
    assert {"httptools==0.9.0", "uvloop==0.23.0"} <= set(pins)  # mlflow models serve's fast HTTP path
    assert all("==" in pin and "+" not in pin for pin in pins)


def test_server_extras_are_pinned_without_being_installed_where_the_model_is_trained(monkeypatch) -> None:
    """A training machine without uvicorn's C parts still logs a model that asks for them."""
    for module in SERVER_EXTRAS:
        monkeypatch.setitem(sys.modules, module, None)  # `import httptools` now raises ImportError
    assert {f"{name}=={version}" for name, version in SERVER_EXTRAS.items()} <= set(pip_requirements())


def test_a_missing_package_is_not_blamed_on_the_tracking_server() -> None:
    try:
        try:
            import_module("a_package_nobody_installed")
        except ImportError as missing:
            raise RuntimeError("log_model failed") from missing
    except RuntimeError as error:
        reason = explain_upload_failure(error)
    assert "a_package_nobody_installed" in reason
    assert "requirements.txt" in reason
    assert "unreachable" not in reason


def test_server_extras_match_the_project_requirements() -> None:
    root = Path(__file__).resolve().parents[2]
    for listing in ("requirements.txt", "conda.yaml"):
        text = (root / listing).read_text()
        for name, version in SERVER_EXTRAS.items():
            assert f"{name}=={version}" in text, (listing, name)


def test_the_logged_model_carries_only_the_served_wing(tiny_trained, tmp_path: Path) -> None:
    root = Path(mlflow.artifacts.download_artifacts(tiny_trained.model_uri, dst_path=str(tmp_path)))
    code = root / "code"
    files = {path.relative_to(code).as_posix() for path in code.rglob("*.py")}
    assert "toxicity_pyfunc/served/model.py" in files
    outside = {name for name in files if not name.startswith("toxicity_pyfunc/served/")}
    assert outside == {"toxicity_pyfunc/__init__.py"}, outside


def test_the_logged_model_loads_and_scores_from_its_own_code_alone(
    run_command, tiny_trained, tmp_path: Path, subprocess_env
) -> None:
    """A fresh interpreter in an empty folder: the model's code/ is all it finds of the project."""
    root = Path(mlflow.artifacts.download_artifacts(tiny_trained.model_uri, dst_path=str(tmp_path / "model")))
    script = textwrap.dedent(
        f"""
        import importlib.util, json, sys
        import mlflow
        model = mlflow.pyfunc.load_model({str(root)!r})
        import toxicity_pyfunc
        scores = model.predict({{"text": ["you are a stupid idiot", "have a nice day"]}})
        print(json.dumps({{
            "package": toxicity_pyfunc.__file__,
            "jobs": importlib.util.find_spec("toxicity_pyfunc.jobs") is not None,
            "columns": list(scores.columns),
        }}))
        """
    )
    # -S: no .pth files, so not the editable install of the project either; the installed
    # libraries come in through PYTHONPATH. What the model finds of the project is its own code/.
    env = subprocess_env(PYTHONPATH=sysconfig.get_paths()["purelib"])
    completed = run_command([sys.executable, "-S", "-c", script], cwd=tmp_path, env=env, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["package"].startswith(str(root / "code")), report
    assert report["jobs"] is False
    assert report["columns"] == list(LABELS)
