"""The Kubernetes manifests, checked offline: the API's schemas (strict), and agreement with the
server they run (probes, limits the settings accept, the drain, the image's user and port)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from toxicity_pyfunc.service.settings import ServiceSettings

KUBERNETES_VERSION = "1.32"
ENTRYPOINT_VARIABLES = {"MLFLOW_TRACKING_URI", "MODEL_URI", "FOLLOW_ALIAS", "WORKERS", "HOST", "PORT"}


@pytest.fixture(scope="module")
def manifests(repo_root: Path) -> dict[str, dict[str, Any]]:
    """Every resource kustomization.yaml lists, by kind."""
    folder = repo_root / "deploy" / "kubernetes"
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    found: dict[str, dict[str, Any]] = {}
    for name in listed:
        for document in yaml.safe_load_all((folder / name).read_text()):
            found[document["kind"]] = document
    return found


def test_every_manifest_is_valid_against_the_kubernetes_schemas(manifests: dict[str, dict[str, Any]]) -> None:
    assert set(manifests) == {"ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler"}
    for document in manifests.values():
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_catches_a_misspelt_field(manifests: dict[str, dict[str, Any]]) -> None:
    broken = copy.deepcopy(manifests["Deployment"])
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["readynessProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_deployment_fits_the_server_and_the_image(
    manifests: dict[str, dict[str, Any]], repo_root: Path
) -> None:
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    dockerfile = (repo_root / "Dockerfile").read_text()
    assert f"EXPOSE {container['ports'][0]['containerPort']}" in dockerfile
    assert f"USER {pod['securityContext']['runAsUser']}" in dockerfile
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/ping"
    config = manifests["ConfigMap"]["data"]
    # Room for the preStop pause and the whole drain before Kubernetes kills the pod.
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] > pause + float(config["TOXICITY_DRAIN_SECONDS"])
    assert container["resources"]["requests"]["cpu"]


def test_every_configured_variable_is_one_the_server_reads_and_accepts(
    manifests: dict[str, dict[str, Any]],
) -> None:
    config = manifests["ConfigMap"]["data"] | manifests["Secret"]["stringData"]
    known = {f"TOXICITY_{name.upper()}" for name in ServiceSettings.model_fields}
    unknown = {
        key for key in config if key not in known | ENTRYPOINT_VARIABLES and not key.startswith("AWS_")
    }
    assert not unknown, f"variables nothing reads: {unknown}"
    settings = {key.removeprefix("TOXICITY_").lower(): value for key, value in config.items() if key in known}
    ServiceSettings(**settings)  # a value the server would refuse at start fails here
    assert re.fullmatch(r"models:/[^/@]+@[^/]+", config["MODEL_URI"])  # FOLLOW_ALIAS needs an alias


def test_the_service_and_the_autoscaler_point_at_the_deployment(manifests: dict[str, dict[str, Any]]) -> None:
    deployment = manifests["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert manifests["Service"]["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = manifests["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
