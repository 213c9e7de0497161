"""`register`: challenger always, champion only when at least as good on the same test file."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from toxicity_pyfunc.jobs.config import RegisterConfig
from toxicity_pyfunc.jobs.registry import register

TEST_DATA = str(Path(__file__).resolve().parents[2] / "data" / "sample" / "test.csv")


def test_champion_moves_only_to_a_model_at_least_as_good(minilm_trained, tiny_encoder_only) -> None:
    name = "registry-test"
    client = MlflowClient()

    first = register(
        RegisterConfig(model_uri=minilm_trained.model_uri, test_data=TEST_DATA, registered_model=name)
    )
    assert first.promoted
    assert first.champion_version is None
    assert str(client.get_model_version_by_alias(name, "champion").version) == first.version

    weaker = register(
        RegisterConfig(model_uri=tiny_encoder_only.model_uri, test_data=TEST_DATA, registered_model=name)
    )
    assert weaker.challenger_mean_roc_auc < weaker.champion_mean_roc_auc
    assert not weaker.promoted
    assert str(client.get_model_version_by_alias(name, "champion").version) == first.version
    assert str(client.get_model_version_by_alias(name, "challenger").version) == weaker.version

    again = register(
        RegisterConfig(model_uri=minilm_trained.model_uri, test_data=TEST_DATA, registered_model=name)
    )
    assert again.promoted  # a tie keeps the newer version: "at least as good"
    assert str(client.get_model_version_by_alias(name, "champion").version) == again.version
    tag = client.get_model_version(name, again.version).tags["test_mean_roc_auc"]
    assert abs(float(tag) - again.challenger_mean_roc_auc) < 1e-5


def test_unloadable_champion_is_replaced(minilm_trained, tiny_trained, tmp_path) -> None:
    """A champion whose artifacts are gone cannot be served: the new version takes over."""
    import shutil
    from urllib.parse import urlparse

    name = "registry-lost-artifacts"
    client = MlflowClient()
    first = register(
        RegisterConfig(model_uri=minilm_trained.model_uri, test_data=TEST_DATA, registered_model=name)
    )
    location = urlparse(client.get_model_version_download_uri(name, first.version))
    assert location.scheme in {"", "file"}
    shutil.move(location.path, tmp_path / "moved")  # the artifact store lost it
    try:
        replacement = register(
            RegisterConfig(model_uri=tiny_trained.model_uri, test_data=TEST_DATA, registered_model=name)
        )
    finally:
        shutil.move(tmp_path / "moved", location.path)
    assert replacement.promoted
    assert str(client.get_model_version_by_alias(name, "champion").version) == replacement.version
