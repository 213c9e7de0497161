"""The metrics registry: one per app, the served model marked, the one before it dropped to 0."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from toxicity_pyfunc.service.metrics import ServiceMetrics


def samples(metrics: ServiceMetrics, series: str) -> dict[str, float]:
    found = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            if sample.name == series:
                found[sample.labels.get("version", "")] = sample.value
    return found


def test_the_served_model_is_1_and_the_one_before_it_0() -> None:
    metrics = ServiceMetrics()
    metrics.serving({"name": "toxicity", "version": "3", "alias": "champion", "run_id": "r3"}, 2.5)
    metrics.serving({"name": "toxicity", "version": "4", "alias": "champion", "run_id": "r4"}, 1.5)
    assert samples(metrics, "toxicity_model_info") == {"3": 0.0, "4": 1.0}
    assert samples(metrics, "toxicity_model_load_seconds") == {"": 1.5}


def test_each_app_counts_on_its_own_registry() -> None:
    first, second = ServiceMetrics(), ServiceMetrics()
    first.texts.inc(3)
    assert samples(first, "toxicity_texts_scored_total") == {"": 3.0}
    assert samples(second, "toxicity_texts_scored_total") == {"": 0.0}
