"""The Karpenter and KEDA charts' values: neither chart has a values.schema.json (charts/karpenter/ at v1.14.1,
keda/ at v2.20.2), so every key the library sets must be a key path of the pinned chart's own values.yaml (read
by checksum through tests/crd_schemas.py; skipped where no copy is at hand), and Karpenter runs its release's image."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import recording_for
from tests.crd_schemas import pinned_chart_file, unknown_value_paths
from vllm_eks.config.charts import KARPENTER_CONTROLLER_IMAGE

CHARTS = {"karpenter": "karpenter values.yaml", "keda": "keda values.yaml"}
FREE_FORM = {"karpenter": ("nodeSelector",), "keda": ()}
"""Maps with defaults that the chart renders whole: karpenter's nodeSelector (default kubernetes.io/os: linux;
templates/deployment.yaml `toYaml .Values.nodeSelector`)."""


def _chart_values(chart: str) -> dict:
    return next(r for r in recording_for("prod").resources
                if r.type == "kubernetes:helm.sh/v4:Chart" and r.inputs["chart"].rsplit("/", 1)[-1] == chart).inputs["values"]


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_every_value_the_library_sets_is_a_key_of_the_pinned_charts_values_yaml(chart):
    defaults = yaml.safe_load(pinned_chart_file(CHARTS[chart]))
    values = _chart_values(chart)
    assert values, "the chart is rendered with values"
    assert unknown_value_paths(values, defaults, FREE_FORM[chart]) == []


@pytest.mark.parametrize("chart, misspelt", [
    ("karpenter", {"settings": {"interuptionQueue": "q"}}),
    ("keda", {"operator": {"replicas": 2}}),
    ("keda", {"nodeSelektor": {"kubernetes.io/os": "linux"}}),
])
def test_the_key_check_catches_a_misspelt_or_misplaced_key(chart, misspelt):
    defaults = yaml.safe_load(pinned_chart_file(CHARTS[chart]))
    assert unknown_value_paths(misspelt, defaults, FREE_FORM[chart]) != []


def test_karpenter_runs_the_controller_image_its_release_packaged_with_chart_1_14_1():
    image = yaml.safe_load(pinned_chart_file("karpenter values.yaml"))["controller"]["image"]
    assert (image["repository"], image["tag"], image["digest"]) == (
        KARPENTER_CONTROLLER_IMAGE.repository, KARPENTER_CONTROLLER_IMAGE.tag, KARPENTER_CONTROLLER_IMAGE.digest)
    assert _chart_values("karpenter")["controller"]["image"] == image
